/**
 * Exactly once per fact: onPaymentUpdate runs once per (paymentId, fetched status) for
 * authorization callbacks and once per actionId for management callbacks, however often and
 * however concurrently Resurs delivers them; duplicates answer 204.
 */
import { createResursClient } from '../../src';
import type { ResursClient } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { STORE_ID, callbackPathOf, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';
import { expectProblem } from '../helpers/problem';

let standIn: StandIn;
let shop: CallbacksShop;
let client: ResursClient;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  standIn = await startStandIn();
  shop = await startCallbacksShop({ standIn });
  client = createResursClient({ storeId: STORE_ID, baseUrl: standIn.baseUrl, merchantApiUrl: standIn.merchantApiUrl, auth: { token: standIn.issueToken() } });
});
afterAll(async () => {
  client.close();
  await shop.close();
  await standIn.close();
});
beforeEach(() => {
  standIn.reset();
  shop.calls.length = 0;
  shop.handled.length = 0;
  shop.lines.length = 0;
  // A hook that takes a moment, so duplicates arrive while it runs.
  shop.onUpdate = () => sleep(30);
});

/** Every answer is 204, or 503 with a short Retry-After (the fact was still being handled); at least one is 204. */
function expectHandledOrComeBack(answers: { status: number; headers: Record<string, string> }[]): void {
  expect(answers.filter((a) => a.status === 204).length).toBeGreaterThanOrEqual(1);
  for (const answer of answers) {
    expect([204, 503]).toContain(answer.status);
    if (answer.status === 503) expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }
}

function post(path: string, body: unknown) {
  return shop.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
}

describe.each([false, true])('the stand-in delivers the authorization callback 5 times (concurrent: %s)', (concurrent) => {
  it('calls onPaymentUpdate once; every delivery ends answered 204', async () => {
    const { paymentId } = await shop.createPayment(`DUP-${String(concurrent)}`);
    standIn.merchant.setCallbackMode({ mode: 'duplicate', times: 5, concurrent });
    await standIn.merchant.approve(paymentId);
    await standIn.merchant.settled();
    const attempts = standIn.merchant.callbacks();
    const last = new Map<number, number | undefined>();
    for (const attempt of attempts) last.set(attempt.deliveryId, attempt.status);
    expect(last.size).toBe(5);
    // Every delivery ends acknowledged. One sent while another still ran the hook was told to
    // come back (503, Resurs' retry) rather than acknowledged before the fact was handled.
    expect([...last.values()]).toEqual([204, 204, 204, 204, 204]);
    if (concurrent) expect(attempts.filter((a) => a.status !== 204).every((a) => a.status === 503)).toBe(true);
    else expect(attempts.map((a) => a.status)).toEqual([204, 204, 204, 204, 204]);
    expect(shop.calls).toHaveLength(1);
    expect(shop.calls[0]).toMatchObject({ paymentId, status: 'ACCEPTED' });
    // Every attempt looked the payment up: the body is never trusted, not even to dedupe.
    expect(standIn.merchant.requests().filter((r) => r.route === 'get')).toHaveLength(attempts.length);
    expect(shop.lines.filter((line) => line.fields.outcome === 'duplicate')).toHaveLength(4);
  });
});

it('50 concurrent deliveries of the same callback (same body, same signed URL) call onPaymentUpdate once', async () => {
  const { paymentId } = await shop.createPayment('DUP-50');
  standIn.merchant.setCallbackMode({ mode: 'none' });
  await standIn.merchant.approve(paymentId);
  const path = callbackPathOf(standIn, paymentId, 'authorization');
  const body = { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() };
  const answers = await Promise.all(Array.from({ length: 50 }, () => post(path, body)));
  expect(shop.calls).toHaveLength(1);
  expect(shop.handled).toHaveLength(1);
  // 204 once the fact is handled; 503 (come back) while the one delivery holding it still runs the hook.
  expectHandledOrComeBack(answers);
  const again = await Promise.all(answers.filter((a) => a.status === 503).map(() => post(path, body)));
  expect(again.map((a) => a.status)).toEqual(again.map(() => 204));
  expect(shop.calls).toHaveLength(1);
});

it('management: 50 concurrent deliveries of one actionId call the hook once; another actionId is another fact', async () => {
  const { paymentId } = await shop.createPayment('DUP-MGMT');
  standIn.merchant.setCallbackMode({ mode: 'none' });
  await standIn.merchant.approve(paymentId);
  const line = { description: 'Socks', quantity: 1, quantityUnit: 'st', vatRate: 25, unitAmountIncludingVat: 100, totalAmountIncludingVat: 100, totalVatAmount: 20 };
  await client.payments.capture(paymentId, { orderLines: [line] });
  await client.payments.capture(paymentId, { orderLines: [line] });
  const [first, second] = standIn.merchant.payment(paymentId)!.paymentActions;
  const path = callbackPathOf(standIn, paymentId, 'management');
  const bodyOf = (actionId: string) => ({ paymentId, action: 'CAPTURE', actionId, created: new Date().toISOString() });
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(path, bodyOf(i % 2 === 0 ? first!.actionId : second!.actionId))));
  expectHandledOrComeBack(answers);
  expect(shop.calls).toHaveLength(2);
  expect(shop.calls.map((c) => c.actionId).sort()).toEqual([first!.actionId, second!.actionId].sort());
  // The same actionId is one fact whatever its delivery says otherwise.
  expect((await post(path, { ...bodyOf(first!.actionId), created: '2030-01-01T00:00:00Z' })).status).toBe(204);
  expect(shop.calls).toHaveLength(2);
});

it('authorization is once per (paymentId, FETCHED status): FROZEN then ACCEPTED are two facts, the body status is no fact', async () => {
  const { paymentId } = await shop.createPayment('DUP-FROZEN');
  await standIn.merchant.approve(paymentId, { outcome: 'FROZEN' });
  await standIn.merchant.settled();
  expect(shop.calls.map((c) => c.status)).toEqual(['FROZEN']);

  const path = callbackPathOf(standIn, paymentId, 'authorization');
  // A redelivery with another body status while Resurs still says FROZEN: the same fact.
  expect((await post(path, { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() })).status).toBe(204);
  expect(shop.calls).toHaveLength(1);

  // The fraud review ends: Resurs accepts it.
  await standIn.merchant.approve(paymentId);
  await standIn.merchant.settled();
  expect(shop.calls.map((c) => c.status)).toEqual(['FROZEN', 'ACCEPTED']);
  expect(shop.calls[1]!.payment.status).toBe('ACCEPTED');

  // setStatus (no callback) then a redelivery: the fetched status decides.
  standIn.merchant.setStatus(paymentId, 'REJECTED');
  expect((await post(path, { paymentId, status: 'FROZEN', created: new Date().toISOString() })).status).toBe(204);
  expect(shop.calls.map((c) => c.status)).toEqual(['FROZEN', 'ACCEPTED', 'REJECTED']);
  // Back to a status already handled: a duplicate.
  standIn.merchant.setStatus(paymentId, 'ACCEPTED');
  expect((await post(path, { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() })).status).toBe(204);
  expect(shop.calls).toHaveLength(3);
  expect(standIn.merchant.callbacks().every((c) => c.status === 204)).toBe(true);
});

it('marks of one payment do not leak onto another, nor authorization onto management', async () => {
  const a = await shop.createPayment('DUP-A');
  const b = await shop.createPayment('DUP-B');
  await standIn.merchant.approve(a.paymentId);
  await standIn.merchant.approve(b.paymentId);
  await standIn.merchant.settled();
  expect(shop.calls.map((c) => c.orderReference).sort()).toEqual(['DUP-A', 'DUP-B']);
  await client.payments.capture(a.paymentId);
  await standIn.merchant.settled();
  expect(shop.calls.map((c) => c.type)).toEqual(['authorization', 'authorization', 'management']);
  expect(standIn.merchant.callbacks().every((c) => c.status === 204)).toBe(true);
});

describe('management: the action is checked against the payment it names', () => {
  it("the action's type comes from the payment's log, not the body", async () => {
    const { paymentId } = await shop.createPayment('ACT-TYPE');
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    await client.payments.capture(paymentId);
    const capture = standIn.merchant.payment(paymentId)!.order.actionLog.find((e) => e.type === 'CAPTURE')!;
    const res = await post(callbackPathOf(standIn, paymentId, 'management'), { paymentId, action: 'REFUND', actionId: capture.actionId, created: capture.created });
    expect(res.status).toBe(204);
    expect(shop.calls).toHaveLength(1); // mode none: only this delivery reached the shop
    expect(shop.calls[0]).toMatchObject({ type: 'management', action: 'CAPTURE', actionId: capture.actionId });
  });

  it('an actionId the payment does not list: 503 (not visible yet), hook not called', async () => {
    const { paymentId } = await shop.createPayment('ACT-UNLISTED');
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    const res = await post(callbackPathOf(standIn, paymentId, 'management'), { paymentId, action: 'CAPTURE', actionId: 'made-up-1', created: new Date().toISOString() });
    expect(res.status).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(shop.calls).toHaveLength(0);
    expect(shop.lines.some((line) => line.fields.outcome === 'action-not-listed')).toBe(true);
  });

  it("the payment's CREATE entry is no management action: 403", async () => {
    const { paymentId } = await shop.createPayment('ACT-CREATE');
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    const create = standIn.merchant.payment(paymentId)!.order.actionLog[0]!;
    expect(create.type).toBe('CREATE');
    const res = await post(callbackPathOf(standIn, paymentId, 'management'), { paymentId, action: 'CAPTURE', actionId: create.actionId, created: create.created });
    expectProblem(res, 403, 'callback_refused');
    expect(shop.calls).toHaveLength(0);
    expect(shop.lines.some((line) => line.fields.gate === 'action')).toBe(true);
  });
});
