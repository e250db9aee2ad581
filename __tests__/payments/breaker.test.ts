/**
 * One circuit breaker per upstream host: a failing Merchant API opens its own breaker (payments
 * answer 503 at once, without calling Resurs) while sessions on the other host keep working.
 * The stand-in serves both APIs on one port, so the Merchant API is reached as `localhost` and
 * the sessions API as `127.0.0.1`: two hosts.
 */
import request from 'supertest';
import { createResursClient } from '../../src';
import { expectProblem } from '../helpers/problem';
import { INVOICE, STORE_ID, creates, newOrder, usePaymentsHarness } from '../helpers/payments-app';

const h = usePaymentsHarness();
const BREAKER = { failureThreshold: 2, resetAfterMs: 60_000 };

const merchantViaLocalhost = () => h.standIn.merchantApiUrl.replace('127.0.0.1', 'localhost');

test('router: the Merchant API failing opens its breaker; payments answer 503 at once; sessions keep working', async () => {
  const shop = await h.shop({ merchantApiUrl: merchantViaLocalhost(), breaker: BREAKER, retries: 0 });
  h.freshCart();
  // Healthy first: both hosts answer.
  expect((await request(shop.server).post('/checkout/payment').send({ paymentMethodId: INVOICE })).status).toBe(201);

  h.freshCart();
  h.standIn.merchant.setPaymentFaults({ always: { kind: 'status', status: 500 } });
  h.standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 500 } });
  // create 500 (1) and its settling search 500 (2): the breaker opens.
  const failing = await request(shop.server).post('/checkout/payment').send({ paymentMethodId: INVOICE });
  expect(failing.status).toBeGreaterThanOrEqual(500);
  const seen = h.standIn.merchant.requests().length;

  h.freshCart();
  const started = Date.now();
  const open = await request(shop.server).post('/checkout/payment').send({ paymentMethodId: INVOICE });
  expectProblem(open, 503, 'upstream_unavailable');
  expect(Date.now() - started).toBeLessThan(1000);
  expect(h.standIn.merchant.requests()).toHaveLength(seen); // Resurs not called
  expect(h.lines.some((l) => l.fields.breaker === 'open')).toBe(true);

  const session = await request(shop.server).post('/checkout/session').set('Content-Type', 'application/json').send({});
  expect(session.status).toBe(201);
  expect(h.standIn.sessionRequests).toHaveLength(1);
});

test('an open breaker never lets a payment be created blind: no create while it is open', async () => {
  const shop = await h.shop({ merchantApiUrl: merchantViaLocalhost(), breaker: BREAKER, retries: 0 });
  h.freshCart();
  h.standIn.merchant.setPaymentFaults({ always: { kind: 'status', status: 503 } });
  h.standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 503 } });
  await request(shop.server).post('/checkout/payment').send({ paymentMethodId: INVOICE });
  const createsBefore = creates(h.standIn).length;
  for (let i = 0; i < 5; i++) {
    h.freshCart();
    expectProblem(await request(shop.server).post('/checkout/payment').send({ paymentMethodId: INVOICE }), 503, 'upstream_unavailable');
  }
  expect(creates(h.standIn)).toHaveLength(createsBefore);
});

test('client: payments.get failing opens the Merchant API breaker; createSession still works', async () => {
  const client = createResursClient({ storeId: STORE_ID, baseUrl: h.standIn.baseUrl, merchantApiUrl: merchantViaLocalhost(), auth: { token: h.token }, breaker: BREAKER, retries: 0 });
  const payment = await client.payments.create({ paymentMethodId: INVOICE, order: newOrder() });
  h.standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 503 } });
  for (let i = 0; i < BREAKER.failureThreshold; i++) await expect(client.payments.get(payment.id)).rejects.toMatchObject({ code: 'upstream_unavailable' });
  const seen = h.standIn.merchant.requests().length;
  await expect(client.payments.get(payment.id)).rejects.toMatchObject({ code: 'upstream_unavailable', retryAfter: expect.any(Number) });
  await expect(client.payments.search({ orderReference: 'x' })).rejects.toMatchObject({ code: 'upstream_unavailable' });
  expect(h.standIn.merchant.requests()).toHaveLength(seen);

  const session = await client.createSession();
  expect(typeof session.id).toBe('string');
  client.close();
});

test('client: sessions failing opens the sessions breaker; payments still work', async () => {
  const client = createResursClient({ storeId: STORE_ID, baseUrl: h.standIn.baseUrl, merchantApiUrl: merchantViaLocalhost(), auth: { token: h.token }, breaker: BREAKER, retries: 0 });
  h.standIn.setFaults({ always: { kind: 'status', status: 503 } });
  for (let i = 0; i < BREAKER.failureThreshold; i++) await expect(client.createSession()).rejects.toMatchObject({ code: 'upstream_unavailable' });
  const sessionCalls = h.standIn.sessionRequests.length;
  await expect(client.createSession()).rejects.toMatchObject({ code: 'upstream_unavailable' });
  expect(h.standIn.sessionRequests).toHaveLength(sessionCalls);

  const payment = await client.payments.create({ paymentMethodId: INVOICE, order: newOrder() });
  expect((await client.payments.get(payment.id)).id).toBe(payment.id);
  client.close();
});
