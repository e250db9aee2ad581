/**
 * `createResursClient(...).payments` without Express: create (adds storeId), get, search,
 * capture/cancel/refund on the right paths; reads retried, money-moving writes never once they
 * may have reached Resurs. Against the real stand-in on 127.0.0.1.
 */
import { createResursClient, ResursCheckoutError } from '../../src';
import type { ResursClient } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { CARD, INVOICE, STORE_ID, newOrder } from '../helpers/payments-app';

let standIn: StandIn;
let client: ResursClient;

beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(() => standIn.close());
beforeEach(() => {
  standIn.reset();
  client = createResursClient({ storeId: STORE_ID, baseUrl: standIn.baseUrl, merchantApiUrl: standIn.merchantApiUrl, auth: { token: standIn.issueToken() }, breaker: false });
});
afterEach(() => client.close());

const requestsOf = (route: string) => standIn.merchant.requests().filter((r) => r.route === route);

async function rejection(promise: Promise<unknown>): Promise<ResursCheckoutError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ResursCheckoutError);
    return error as ResursCheckoutError;
  }
  throw new Error('expected a rejection');
}

/** A payment the shopper has approved (ACCEPTED), ready to capture or cancel. */
async function acceptedPayment() {
  const order = newOrder();
  const payment = await client.payments.create({ paymentMethodId: INVOICE, order });
  await standIn.merchant.approve(payment.id);
  expect(standIn.merchant.payment(payment.id)!.status).toBe('ACCEPTED');
  return { order, payment };
}

describe('create', () => {
  test('adds storeId, sends the order and options, forwards requestId; resolves to Resurs’ payment', async () => {
    const order = newOrder();
    const payment = await client.payments.create(
      { paymentMethodId: INVOICE, order, customer: { customerType: 'NATURAL', email: 'a@example.com' }, options: { timeToLiveInMinutes: 15 } },
      { requestId: 'client-req-1' },
    );
    const [sent] = requestsOf('create');
    expect(sent!.method).toBe('POST');
    expect(sent!.path).toBe('/v2/payments');
    expect(sent!.requestId).toBe('client-req-1');
    expect(sent!.body).toEqual({ storeId: STORE_ID, paymentMethodId: INVOICE, order, customer: { customerType: 'NATURAL', email: 'a@example.com' }, options: { timeToLiveInMinutes: 15 } });
    const stored = standIn.merchant.payments({ orderReference: order.orderReference });
    expect(stored).toHaveLength(1);
    expect(payment.id).toBe(stored[0]!.id);
    expect(payment.status).toBe('TASK_REDIRECTION_REQUIRED');
    expect(payment.storeId).toBe(STORE_ID);
    // Fields the package does not read are passed on as Resurs sent them.
    expect(payment.order?.totalOrderAmount).toBe(stored[0]!.order.totalOrderAmount);
    expect(standIn.merchant.paymentOptions(payment.id)!.timeToLiveInMinutes).toBe(15);
  });

  test('a refusal rejects with payment_refused and field names only', async () => {
    const error = await rejection(client.payments.create({ paymentMethodId: 'not-a-known-method', order: newOrder() }));
    expect(error.code).toBe('payment_refused');
    expect(error.status).toBe(422);
    expect(error.errors).toEqual([{ path: 'paymentMethodId', message: expect.any(String) }]);
    expect(JSON.stringify(error.errors)).not.toContain('unknown payment method');
    expect(requestsOf('create')).toHaveLength(1);
  });

  test('never retried after a 503: Resurs sees one create; the search finds none: 503', async () => {
    standIn.merchant.setPaymentFaults({ always: { kind: 'status', status: 503 } });
    const order = newOrder();
    const error = await rejection(client.payments.create({ paymentMethodId: INVOICE, order }));
    expect(error.code).toBe('upstream_unavailable');
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(requestsOf('create')).toHaveLength(1);
    expect(requestsOf('search')).toHaveLength(1);
  });

  test('a cut connection after Resurs stored it: resolves to that payment via search, create sent once', async () => {
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    const order = newOrder();
    const payment = await client.payments.create({ paymentMethodId: INVOICE, order });
    expect(payment.id).toBe(standIn.merchant.payments({ orderReference: order.orderReference })[0]!.id);
    expect(requestsOf('create')).toHaveLength(1);
  });

  test('an unknown outcome whose search finds only another method’s payment: payment_in_progress, not that payment', async () => {
    const order = newOrder();
    await client.payments.create({ paymentMethodId: CARD, order });
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'drop' }] });
    const error = await rejection(client.payments.create({ paymentMethodId: INVOICE, order }));
    expect(error.code).toBe('payment_in_progress');
  });

  test('an unknown outcome that cannot be settled rejects 503 (never resolves to a guess)', async () => {
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 500 } });
    const error = await rejection(client.payments.create({ paymentMethodId: INVOICE, order: newOrder() }));
    expect(error.code).toBe('upstream_unavailable');
    expect(requestsOf('create')).toHaveLength(1);
  });
});

describe('get and search', () => {
  test('get resolves to the payment; an unknown id rejects not_found (404)', async () => {
    const payment = await client.payments.create({ paymentMethodId: INVOICE, order: newOrder() });
    const got = await client.payments.get(payment.id);
    expect(got.id).toBe(payment.id);
    expect(got.status).toBe(standIn.merchant.payment(payment.id)!.status);
    const [sent] = requestsOf('get');
    expect(sent!.method).toBe('GET');
    expect(sent!.path).toBe(`/v2/payments/${payment.id}`);

    const error = await rejection(client.payments.get('00000000-0000-0000-0000-000000000000'));
    expect(error.code).toBe('not_found');
    expect(error.status).toBe(404);
    expect(requestsOf('get')).toHaveLength(2); // a 404 is not retried
  });

  test('get encodes the id into one path segment', async () => {
    await rejection(client.payments.get('a/../../x'));
    expect(requestsOf('get')[0]!.path).toBe('/v2/payments/a%2F..%2F..%2Fx');
  });

  test('search resolves to the order’s payments (storeId added), [] when none', async () => {
    const order = newOrder();
    const payment = await client.payments.create({ paymentMethodId: INVOICE, order });
    await client.payments.create({ paymentMethodId: INVOICE, order: newOrder() });
    const found = await client.payments.search({ orderReference: order.orderReference });
    expect(found.map((p) => p.id)).toEqual([payment.id]);
    expect(requestsOf('search')[0]!.body).toEqual({ storeId: STORE_ID, orderReference: order.orderReference });
    expect(await client.payments.search({ orderReference: 'no-such-order' })).toEqual([]);
  });

  test.each([
    ['503', { kind: 'status', status: 503 }],
    ['502', { kind: 'status', status: 502 }],
    ['a cut connection', { kind: 'drop' }],
  ] as const)('get and search ARE retried after %s', async (_name, fault) => {
    const order = newOrder();
    const payment = await client.payments.create({ paymentMethodId: INVOICE, order });
    standIn.merchant.setLookupFaults({ queue: [fault] });
    expect((await client.payments.get(payment.id)).id).toBe(payment.id);
    expect(requestsOf('get')).toHaveLength(2);
    standIn.merchant.setLookupFaults({ queue: [fault] });
    expect((await client.payments.search({ orderReference: order.orderReference })).map((p) => p.id)).toEqual([payment.id]);
    expect(requestsOf('search')).toHaveLength(2);
  });
});

describe('capture, cancel, refund', () => {
  test('capture then refund: POST to /capture and /refund, resolve to the payment', async () => {
    const { payment } = await acceptedPayment();
    const captured = await client.payments.capture(payment.id);
    expect(captured.id).toBe(payment.id);
    expect(standIn.merchant.payment(payment.id)!.order.capturedAmount).toBe(standIn.merchant.payment(payment.id)!.order.totalOrderAmount);
    const refunded = await client.payments.refund(payment.id, {}, { requestId: 'refund-1' });
    expect(refunded.id).toBe(payment.id);
    expect(standIn.merchant.payment(payment.id)!.order.refundedAmount).toBeGreaterThan(0);
    const sent = standIn.merchant.requests().filter((r) => r.route === 'capture' || r.route === 'refund');
    expect(sent.map((r) => [r.method, r.path])).toEqual([
      ['POST', `/v2/payments/${payment.id}/capture`],
      ['POST', `/v2/payments/${payment.id}/refund`],
    ]);
    expect(sent[1]!.requestId).toBe('refund-1');
  });

  test('cancel: POST to /cancel', async () => {
    const { payment } = await acceptedPayment();
    await client.payments.cancel(payment.id);
    const [sent] = requestsOf('cancel');
    expect(sent!.path).toBe(`/v2/payments/${payment.id}/cancel`);
    expect(standIn.merchant.payment(payment.id)!.order.canceledAmount).toBeGreaterThan(0);
  });

  test('partial capture sends the lines', async () => {
    const { payment, order } = await acceptedPayment();
    const lines = [order.orderLines[0]!];
    await client.payments.capture(payment.id, { orderLines: lines });
    expect(requestsOf('capture')[0]!.body).toEqual({ orderLines: lines });
    expect(standIn.merchant.payment(payment.id)!.order.capturedAmount).toBe(lines[0]!.totalAmountIncludingVat);
  });

  test('capture in the wrong state: payment_refused; unknown payment: not_found', async () => {
    const payment = await client.payments.create({ paymentMethodId: INVOICE, order: newOrder() }); // not approved yet
    expect((await rejection(client.payments.capture(payment.id))).code).toBe('payment_refused');
    expect((await rejection(client.payments.capture('00000000-0000-0000-0000-000000000000'))).code).toBe('not_found');
  });

  test.each(['capture', 'cancel', 'refund'] as const)('%s is never retried after a 503, nor after a cut connection', async (action) => {
    const { payment } = await acceptedPayment();
    if (action === 'refund') await client.payments.capture(payment.id);
    const before = requestsOf(action).length;

    standIn.merchant.setActionFaults({ queue: [{ kind: 'status', status: 503 }] });
    const unavailable = await rejection(client.payments[action](payment.id));
    expect(unavailable.code).toBe('upstream_unavailable');
    expect(requestsOf(action)).toHaveLength(before + 1);

    standIn.merchant.setActionFaults({ queue: [{ kind: 'record-then-drop' }] });
    const cut = await rejection(client.payments[action](payment.id));
    expect(cut.status).toBeGreaterThanOrEqual(500);
    expect(requestsOf(action)).toHaveLength(before + 2);
    // It did take effect at Resurs, once.
    const actions = standIn.merchant.payment(payment.id)!.paymentActions.filter((a) => a.type === action.toUpperCase());
    expect(actions).toHaveLength(1);
  });

  test('a timed-out capture is not sent again', async () => {
    const slow = createResursClient({ storeId: STORE_ID, baseUrl: standIn.baseUrl, merchantApiUrl: standIn.merchantApiUrl, auth: { token: standIn.issueToken() }, timeoutMs: 150, deadlineMs: 2000 });
    const { payment } = await acceptedPayment();
    standIn.merchant.setActionFaults({ queue: [{ kind: 'hang' }] });
    const error = await rejection(slow.payments.capture(payment.id));
    expect(error.code).toBe('upstream_timeout');
    expect(requestsOf('capture')).toHaveLength(1);
    slow.close();
  });
});
