/**
 * With a real SDK: callbacks counted by outcome (handled, duplicate, refused, invalid), retried
 * attempts as sibling CLIENT spans with `http.request.resend_count`, breaker open/close as span
 * events and as the per-host open-breakers counter, reused sessions.
 */
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { SpanStatusCode } from '@opentelemetry/api';
import { DEMO_CLIENT_ID } from '../../demo-app/resurs-stand-in';
import { CALLBACK_SECRET, INVOICE, until, usePaymentsHarness } from '../helpers/payments-app';
import { named, parentId, pointWith, registerTestSdk } from '../helpers/otel';
import type { TestSdk } from '../helpers/otel';

const harness = usePaymentsHarness();
let sdk: TestSdk;
beforeAll(() => {
  sdk = registerTestSdk();
});
afterAll(() => sdk.shutdown());
beforeEach(() => sdk.reset());

const outcomes = async () => {
  const points = await sdk.points('resurs_checkout.callbacks');
  return Object.fromEntries(points.map((p) => [`${String(p.attributes.type)}/${String(p.attributes.outcome)}`, p.value]));
};

test('callbacks by outcome: a duplicate delivery, a forged one and a malformed one', async () => {
  const { standIn } = harness;
  const shop = await harness.shop();
  const order = harness.freshCart();
  standIn.merchant.setCallbackMode({ mode: 'duplicate', times: 2 });
  const { body } = await request(shop.url).post('/checkout/payment').send({ paymentMethodId: INVOICE }).expect(201);
  await standIn.merchant.approve(body.paymentId as string);
  await standIn.merchant.settled();
  await until(() => named(sdk.spans(), 'resurs.callback.authorization').length === 2, 3000, 'two callback spans');
  expect(harness.updates).toHaveLength(1);
  expect(await outcomes()).toEqual({ 'authorization/handled': 1, 'authorization/duplicate': 1 });

  // Forged: a wrong signature.
  await request(shop.url).post(`/checkout/callbacks/authorization?ref=${order.orderReference}&sig=${'0'.repeat(64)}`).send({}).expect(403);
  // Signed, but not a callback body.
  const sig = createHmac('sha256', CALLBACK_SECRET).update(order.orderReference).digest('hex');
  await request(shop.url).post(`/checkout/callbacks/authorization?ref=${order.orderReference}&sig=${sig}`).send({ nonsense: true }).expect(400);
  await until(() => named(sdk.spans(), 'resurs.callback.authorization').length === 4, 3000, 'four callback spans');
  expect(await outcomes()).toEqual({ 'authorization/handled': 1, 'authorization/duplicate': 1, 'authorization/refused': 1, 'authorization/invalid': 1 });
  const refused = named(sdk.spans(), 'resurs.callback.authorization').find((s) => s.attributes['resurs.callback.outcome'] === 'refused')!;
  expect(refused.attributes['error.type']).toBe('callback_refused');
  expect(refused.status.code).not.toBe(SpanStatusCode.ERROR); // a 4xx is the caller's doing
});

test('a retried attempt: two CLIENT spans under one operation, the second with resend_count 1', async () => {
  const { standIn } = harness;
  const shop = await harness.shop();
  standIn.setFaults({ queue: [{ kind: 'status', status: 503 }] });
  await request(shop.url).post('/checkout/session').send({}).expect(201);

  const operation = named(sdk.spans(), 'resurs.create_session')[0]!;
  expect(operation.attributes['resurs.attempts']).toBe(2);
  const attempts = sdk
    .spans()
    .filter((s) => parentId(s) === operation.spanContext().spanId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
  expect(attempts).toHaveLength(2);
  expect(attempts[0]!.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
  expect(attempts[0]!.attributes['http.request.resend_count']).toBeUndefined();
  expect(attempts[0]!.status.code).toBe(SpanStatusCode.ERROR);
  expect(attempts[1]!.attributes).toMatchObject({ 'http.request.resend_count': 1 });
  expect(attempts[1]!.attributes['error.type']).toBeUndefined();
  // Each attempt carried its own span as the parent.
  const sent = standIn.sessionRequests.map((r) => r.headers.traceparent);
  expect(sent).toEqual(attempts.map((a) => `00-${a.spanContext().traceId}-${a.spanContext().spanId}-01`));

  const upstream = await sdk.points('resurs_checkout.upstream.duration');
  expect(pointWith(upstream, { 'resurs.operation': 'create session', 'http.response.status_code': 503 })).toBeDefined();
});

test('the breaker: open and close as span events, and the open-breakers counter per host goes 1 then 0', async () => {
  const { standIn } = harness;
  const shop = await harness.shop({ retries: 0, breaker: { failureThreshold: 2, resetAfterMs: 200 } });
  standIn.setFaults({ queue: [{ kind: 'status', status: 500 }, { kind: 'status', status: 500 }] });
  await request(shop.url).post('/checkout/session').send({}).expect(502);
  await request(shop.url).post('/checkout/session').send({}).expect(502);
  const refused = await request(shop.url).post('/checkout/session').send({}).expect(503);
  expect(refused.body.code).toBe('upstream_unavailable');

  const operations = () => named(sdk.spans(), 'resurs.create_session');
  expect(operations().map((s) => s.events.map((e) => e.name))).toEqual([[], ['resurs.breaker.open'], []]);
  expect(operations()[1]!.events[0]!.attributes).toMatchObject({ 'server.address': '127.0.0.1' });
  expect(operations()[2]!.attributes).toMatchObject({ 'error.type': 'upstream_unavailable', 'resurs.attempts': 0 });
  const open = async () => pointWith(await sdk.points('resurs_checkout.breaker.open'), { 'server.address': '127.0.0.1' })?.value;
  expect(await open()).toBe(1);

  await new Promise((resolve) => setTimeout(resolve, 250));
  await request(shop.url).post('/checkout/session').send({}).expect(201);
  expect(operations()[3]!.events.map((e) => e.name)).toEqual(['resurs.breaker.close']);
  expect(await open()).toBe(0);
});

test('reuse: the second session is reused, on the span and in the sessions counter', async () => {
  const shop = await harness.shop({ reuse: { key: () => 'cart-1' } });
  const count = async (reused: boolean) => Number(pointWith(await sdk.points('resurs_checkout.sessions'), { reused })?.value ?? 0);
  const before = { created: await count(false), reused: await count(true) }; // counters are cumulative across this file's tests
  await request(shop.url).post('/checkout/session').send({}).expect(201);
  await request(shop.url).post('/checkout/session').send({}).expect(201);
  const routes = named(sdk.spans(), 'resurs.checkout.session');
  expect(routes.map((s) => s.attributes['resurs.reused'])).toEqual([false, true]);
  expect(named(sdk.spans(), 'resurs.create_session')).toHaveLength(1);
  expect({ created: (await count(false)) - before.created, reused: (await count(true)) - before.reused }).toEqual({ created: 1, reused: 1 });
});

test('a refused token fetch: the fetch_token span fails with our code, its POST carries the status, and the secret is nowhere', async () => {
  const { standIn } = harness;
  const secret = 'not-the-demo-secret-0123456789';
  const shop = await harness.shop({ auth: { clientId: DEMO_CLIENT_ID, clientSecret: secret, tokenUrl: standIn.tokenUrl } });
  const res = await request(shop.url).post('/checkout/session').send({});
  expect(res.status).toBeGreaterThanOrEqual(500);
  const [fetchToken] = named(sdk.spans(), 'resurs.fetch_token');
  expect(fetchToken).toBeDefined();
  expect(fetchToken!.status.code).toBe(SpanStatusCode.ERROR);
  expect(fetchToken!.attributes['error.type']).toBe(res.body.code);
  const attempt = sdk.spans().find((s) => parentId(s) === fetchToken!.spanContext().spanId)!;
  expect(attempt.attributes['http.response.status_code']).toBe(401);
  expect(JSON.stringify(sdk.spans().map((s) => s.attributes))).not.toContain(secret);
  // Nothing was sent to Create Session without a token.
  expect(named(sdk.spans(), 'resurs.create_session')[0]!.attributes['resurs.attempts']).toBe(0);
});
