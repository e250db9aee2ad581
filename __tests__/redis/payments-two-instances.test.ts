/**
 * One payment per order across instances: two shops (two routers, each with its own node-redis
 * client, as two processes would have) share one RedisSessionStore on a real redis-server as
 * `payments.store`. Proven from the stand-in's own record of payments and create requests.
 */
import request from 'supertest';
import { RedisSessionStore, createResursClient } from '../../src';
import { expectProblem } from '../helpers/problem';
import { CARD, INVOICE, STORE_ID, creates, searches, startPaymentsHarness } from '../helpers/payments-app';
import type { PaymentsHarness, PaymentsShop } from '../helpers/payments-app';
import { connectRedis, sendCommandOf, untilReady, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

const pay = (shop: PaymentsShop, paymentMethodId = INVOICE) =>
  request(shop.server).post('/checkout/payment').set('Content-Type', 'application/json').send(JSON.stringify({ paymentMethodId }));

describeWithRedis('payments shared through Redis by two instances', () => {
  let redis: RedisServer;
  let clientA: RedisClient;
  let clientB: RedisClient;
  let h: PaymentsHarness;
  let shopA: PaymentsShop;
  let shopB: PaymentsShop;

  const paymentsOf = (orderReference: string) => h.standIn.merchant.payments({ orderReference });

  beforeAll(async () => {
    redis = await startRedisServer();
    [clientA, clientB] = await Promise.all([connectRedis(redis.url), connectRedis(redis.url)]);
    h = await startPaymentsHarness();
  });

  afterAll(async () => {
    await h?.close();
    clientA?.destroy();
    clientB?.destroy();
    await redis?.stop();
  });

  beforeEach(async () => {
    h.standIn.reset();
    h.lines.length = 0;
    h.carts.clear();
    await untilReady(clientA);
    await untilReady(clientB);
    await clientA.flushAll();
    shopA = await h.shop({ payments: { store: new RedisSessionStore({ sendCommand: sendCommandOf(clientA) }) } });
    shopB = await h.shop({ payments: { store: new RedisSessionStore({ sendCommand: sendCommandOf(clientB) }) } });
  });

  afterEach(() => h.closeShops());

  test('f) 20 concurrent requests split across both: one create, one payment, all the same paymentId', async () => {
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 200 }] });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => pay(i % 2 ? shopB : shopA)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(answers.map((r) => r.body.paymentId)).size).toBe(1);
    const stored = paymentsOf(order.orderReference);
    expect(stored).toHaveLength(1);
    expect(answers[0]!.body.paymentId).toBe(stored[0]!.id);
    expect(creates(h.standIn)).toHaveLength(1);

    // Later, from either instance: the same payment, from the store.
    for (const shop of [shopA, shopB]) expect((await pay(shop)).body).toEqual(answers[0]!.body);
    expect(creates(h.standIn)).toHaveLength(1);
    // The lock is gone; the record is keyed by a hash (no order reference in Redis' key space).
    const keys = await clientA.keys('*');
    expect(keys.some((k) => k.includes('payment-lock'))).toBe(false);
    expect(keys.join(' ')).not.toContain(order.orderReference);
  });

  test('another method on the other instance: 409, during and after', async () => {
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 300 }] });
    const first = pay(shopA, INVOICE).then((r) => r);
    for (let i = 0; i < 200 && creates(h.standIn).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expectProblem(await pay(shopB, CARD), 409, 'payment_in_progress');
    expect((await first).status).toBe(201);
    expectProblem(await pay(shopB, CARD), 409, 'payment_in_progress');
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
  });

  test('h) an unsettled outcome on instance A: instance B searches before creating and finds it', async () => {
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    h.standIn.merchant.setLookupFaults({ queue: [{ kind: 'status', status: 500 }] });
    expectProblem(await pay(shopA), 503, 'upstream_unavailable');
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
    const seen = h.standIn.merchant.requests().length;
    const res = await pay(shopB);
    expect(res.status).toBe(201);
    expect(res.body.paymentId).toBe(paymentsOf(order.orderReference)[0]!.id);
    expect(h.standIn.merchant.requests().slice(seen).map((r) => r.route)).toEqual(['search']);
    expect(creates(h.standIn)).toHaveLength(1);
  });

  describe('g) Redis down: fail closed', () => {
    afterEach(async () => {
      await redis.start().catch(() => undefined);
    });

    test('no payment at Resurs: 503 Retry-After, NO create; Redis back: the payment is made once', async () => {
      const order = h.freshCart();
      await redis.stop();
      const res = await pay(shopA);
      expectProblem(res, 503, 'upstream_unavailable');
      expect(creates(h.standIn)).toHaveLength(0);
      expect(searches(h.standIn)).toHaveLength(1);
      expect(paymentsOf(order.orderReference)).toHaveLength(0);

      await redis.start();
      await untilReady(clientA);
      expect((await pay(shopA)).status).toBe(201);
      expect(paymentsOf(order.orderReference)).toHaveLength(1);
    });

    test('Resurs has the payment: 201 with it, no create', async () => {
      const order = h.freshCart();
      const client = createResursClient({ storeId: STORE_ID, baseUrl: h.standIn.baseUrl, merchantApiUrl: h.standIn.merchantApiUrl, auth: { token: h.token } });
      const existing = await client.payments.create({ paymentMethodId: INVOICE, order });
      await redis.stop();
      const res = await pay(shopB);
      expect(res.status).toBe(201);
      expect(res.body.paymentId).toBe(existing.id);
      expect(creates(h.standIn)).toHaveLength(1);
      client.close();
    });

    test('Redis refuses writes (OOM) once the create was sent: the next try still finds the one payment', async () => {
      const order = h.freshCart();
      h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 200 }] });
      const first = pay(shopA).then((r) => r);
      for (let i = 0; i < 200 && creates(h.standIn).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
      // Reads go on, every write is refused: the record cannot be written.
      await clientB.sendCommand(['CONFIG', 'SET', 'maxmemory-policy', 'noeviction']);
      await clientB.sendCommand(['CONFIG', 'SET', 'maxmemory', '1']);
      try {
        expect((await first).status).toBe(201);
      } finally {
        await clientB.sendCommand(['CONFIG', 'SET', 'maxmemory', '0']);
      }
      expect(h.lines.some((l) => l.level === 'error' && /could not be recorded/.test(l.message))).toBe(true);
      const second = await pay(shopB);
      expect(second.status).toBe(201);
      expect(second.body.paymentId).toBe((await first).body.paymentId);
      expect(paymentsOf(order.orderReference)).toHaveLength(1);
      expect(creates(h.standIn)).toHaveLength(1);
    });
  });
});
