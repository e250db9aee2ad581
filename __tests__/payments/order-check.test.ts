/**
 * The pure rules of the payment route: the merchant's order (lines that add up, two decimals,
 * lengths), the storefront's body (paymentMethodId only), Resurs' answers (payment shape,
 * customerUrl) and the field names of a refusal.
 */
import { checkPayment, checkPaymentList, redirectUrlOf } from '../../src/resurs/payment';
import type { Payment } from '../../src/resurs/payment';
import { refusedFields } from '../../src/resurs/payments';
import { isAmount, orderProblem } from '../../src/rules/order';
import { parsePaymentRequest } from '../../src/rules/payment-request';
import { ResursCheckoutError } from '../../src';

const line = (overrides: Record<string, unknown> = {}) => ({
  description: 'Mug',
  quantity: 2,
  quantityUnit: 'st',
  vatRate: 25,
  unitAmountIncludingVat: 99.5,
  totalAmountIncludingVat: 199,
  ...overrides,
});
const order = (lines: unknown[] = [line()], orderReference: unknown = 'o-1') => ({ orderReference, orderLines: lines });

describe('isAmount', () => {
  test.each([0, 1, 0.1, 0.3, 0.1 + 0.2, 19.99, -50, 1234567.89, 100.01])('%p is an amount', (value) => expect(isAmount(value)).toBe(true));
  test.each([1.005, 0.001, NaN, Infinity, -Infinity, '1', null, undefined, 19.999])('%p is not', (value) => expect(isAmount(value)).toBe(false));

  test('every whole number of cents up to 10 000.00 in steps is accepted', () => {
    for (let cents = 0; cents <= 1_000_000; cents += 997) expect(isAmount(cents / 100)).toBe(true);
  });
});

describe('orderProblem', () => {
  test('a valid order (with optional fields and a discount line) passes', () => {
    expect(
      orderProblem(
        order([
          line({ reference: 'MUG-1', totalVatAmount: 39.8, type: 'NORMAL' }),
          line({ description: 'Rebate', quantity: 1, unitAmountIncludingVat: -20, totalAmountIncludingVat: -20, type: 'DISCOUNT' }),
        ]),
      ),
    ).toBeUndefined();
  });

  test('totals within 0.01 of quantity × unit pass; further off fail, naming the line', () => {
    expect(orderProblem(order([line({ quantity: 3, unitAmountIncludingVat: 33.33, totalAmountIncludingVat: 100 })]))).toBeUndefined();
    expect(orderProblem(order([line(), line({ quantity: 3, unitAmountIncludingVat: 33.33, totalAmountIncludingVat: 100.01 })]))).toMatch(
      /^orderLines\[1\]\.totalAmountIncludingVat must equal/,
    );
  });

  test('random lines: accepted exactly when the total is within 0.01 of quantity × unit', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const quantity = 1 + Math.floor(next() * 20);
      const unitCents = Math.floor(next() * 100_000);
      const offsetCents = Math.floor(next() * 5) - 2; // -0.02 .. +0.02
      const totalCents = quantity * unitCents + offsetCents;
      const problem = orderProblem(order([line({ quantity, unitAmountIncludingVat: unitCents / 100, totalAmountIncludingVat: totalCents / 100 })]));
      expect(problem === undefined).toBe(Math.abs(offsetCents) <= 1);
    }
  });

  test.each([
    ['not an object', null, /not an object/],
    ['an array', [], /not an object/],
    ['orderReference missing', { orderLines: [line()] }, /orderReference/],
    ['orderReference a number', order([line()], 7), /orderReference/],
    ['orderReference 65 characters', order([line()], 'r'.repeat(65)), /orderReference/],
    ['orderLines missing', { orderReference: 'o' }, /orderLines must be a list/],
    ['a line that is not an object', order(['x']), /orderLines\[0\]/],
    ['description missing', order([line({ description: undefined })]), /description/],
    ['description blank', order([line({ description: '   ' })]), /description/],
    ['reference 51 characters', order([line({ reference: 'r'.repeat(51) })]), /reference/],
    ['quantityUnit missing', order([line({ quantityUnit: undefined })]), /quantityUnit/],
    ['negative quantity', order([line({ quantity: -1, totalAmountIncludingVat: -99.5 })]), /quantity/],
    ['vatRate negative', order([line({ vatRate: -1 })]), /vatRate/],
    ['vatRate NaN', order([line({ vatRate: NaN })]), /vatRate/],
    ['totalVatAmount with three decimals', order([line({ totalVatAmount: 39.801 })]), /totalVatAmount/],
    ['type lower case', order([line({ type: 'normal' })]), /type must be one of/],
  ])('%s', (_name, value, rule) => {
    const problem = orderProblem(value);
    expect(problem).toMatch(rule);
    // The rule never carries a value of the order.
    expect(problem).not.toMatch(/99\.5|199|Mug|39\.801/);
  });

  test('1000 lines pass, 1001 fail', () => {
    expect(orderProblem(order(Array.from({ length: 1000 }, () => line())))).toBeUndefined();
    expect(orderProblem(order(Array.from({ length: 1001 }, () => line())))).toMatch(/1 to 1000/);
  });
});

describe('parsePaymentRequest', () => {
  test('takes exactly {paymentMethodId}', () => {
    expect(parsePaymentRequest({ paymentMethodId: '6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a01' })).toEqual({ paymentMethodId: '6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a01' });
  });

  test('refuses every other key and lists each', () => {
    try {
      parsePaymentRequest(JSON.parse('{"paymentMethodId":"a","amount":1,"__proto__":{"x":1},"order":{}}'));
      throw new Error('expected a refusal');
    } catch (error) {
      expect(error).toBeInstanceOf(ResursCheckoutError);
      expect((error as ResursCheckoutError).code).toBe('invalid_request');
      expect((error as ResursCheckoutError).errors!.map((e) => e.path).sort()).toEqual(['__proto__', 'amount', 'order']);
    }
  });
});

describe("Resurs' answers", () => {
  const payment = (overrides: Record<string, unknown> = {}) => ({ id: 'p-1', status: 'TASK_REDIRECTION_REQUIRED', ...overrides });

  test('checkPayment: id and status checked, the rest passed on', () => {
    expect(checkPayment(payment({ extra: { a: 1 } }))).toEqual(payment({ extra: { a: 1 } }));
    for (const bad of [null, [], 'x', payment({ id: '' }), payment({ id: 'a/b' }), payment({ id: 7 }), payment({ status: 'accepted' }), payment({ status: 3 }), payment({ order: 'x' }), payment({ taskRedirectionUrls: 'x' })]) {
      expect(typeof checkPayment(bad)).toBe('string');
    }
  });

  test('checkPaymentList: {content: [...]}, every payment checked', () => {
    expect(checkPaymentList({ content: [payment(), payment({ id: 'p-2' })] })).toHaveLength(2);
    expect(typeof checkPaymentList({ content: [payment(), { id: 1 }] })).toBe('string');
    expect(typeof checkPaymentList([payment()])).toBe('string');
    expect(typeof checkPaymentList({ content: 'x' })).toBe('string');
  });

  test('redirectUrlOf: https anywhere; http only on loopback against a loopback Merchant API', () => {
    const withUrl = (customerUrl: unknown) => payment({ taskRedirectionUrls: { customerUrl } }) as Payment;
    expect(redirectUrlOf(payment() as Payment, false)).toEqual({});
    expect(redirectUrlOf(withUrl('https://pay.resurs.example/x'), false)).toEqual({ url: 'https://pay.resurs.example/x' });
    expect(redirectUrlOf(withUrl('http://127.0.0.1:3000/x'), true)).toEqual({ url: 'http://127.0.0.1:3000/x' });
    expect(typeof redirectUrlOf(withUrl('http://127.0.0.1:3000/x'), false)).toBe('string');
    expect(typeof redirectUrlOf(withUrl('http://evil.example/x'), true)).toBe('string');
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '//evil.example', 'https://a:b@evil.example', 'https://x.example/"><script>', 'https://x.example/ a', 7]) {
      expect(typeof redirectUrlOf(withUrl(bad), true)).toBe('string');
    }
  });

  test('refusedFields: names from parameters, errors, violations; never values; odd names dropped', () => {
    expect(refusedFields({ parameters: { 'order.orderLines[0].quantity': 'was 5', paymentMethodId: 'x' } }).map((e) => e.path)).toEqual([
      'order.orderLines[0].quantity',
      'paymentMethodId',
    ]);
    expect(refusedFields({ violations: [{ field: 'customer.email', message: 'bob@x.example' }] })).toEqual([{ path: 'customer.email', message: 'refused by Resurs' }]);
    expect(refusedFields({ errors: [{ path: 'a b <script>' }, { name: 'ok_name' }] }).map((e) => e.path)).toEqual(['ok_name']);
    expect(refusedFields('text')).toEqual([]);
    expect(refusedFields({ parameters: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, 'v'])) }).length).toBeLessThanOrEqual(50);
  });
});
