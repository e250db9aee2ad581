/**
 * Several stores, two instances, one Redis: two shops (each with its own node-redis client, as two
 * processes would have) serve the same two Resurs stores through a `storeId` function, sharing one
 * RedisSessionStore for reuse, payments and callback marks. Per store exactly one session per
 * cart, one payment per order and one hook call per fact; across stores, never one for the other.
 */
import type { Request } from 'express';
import request from 'supertest';
import { RedisSessionStore } from '../../src';
import { INVOICE, creates, startPaymentsHarness, until } from '../helpers/payments-app';
import type { PaymentsHarness, PaymentsShop } from '../helpers/payments-app';
import { connectRedis, sendCommandOf, untilReady, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

const STORES: Record<string, string> = { se: 'se-store', no: 'no-store' };
const storeId = (req: Request) => STORES[String(req.headers['x-country'])];

describeWithRedis('several stores on two instances sharing one Redis', () => {
  let redis: RedisServer;
  let clients: RedisClient[];
  let h: PaymentsHarness;
  let shops: PaymentsShop[];

  beforeAll(async () => {
    redis = await startRedisServer();
    clients = await Promise.all([connectRedis(redis.url), connectRedis(redis.url)]);
    h = await startPaymentsHarness();
  });
  afterAll(async () => {
    await h?.close();
    for (const client of clients ?? []) client.destroy();
    await redis?.stop();
  });
  beforeEach(async () => {
    h.standIn.reset();
    h.carts.clear();
    h.updates.length = 0;
    for (const client of clients) await untilReady(client);
    await clients[0]!.flushAll();
    shops = await Promise.all(
      clients.map((client) => {
        const store = new RedisSessionStore({ sendCommand: sendCommandOf(client) });
        return h.shop({ storeId, stores: Object.values(STORES), reuse: { key: (req) => req.get('x-cart-id'), store }, payments: { store } });
      }),
    );
  });
  afterEach(() => h.closeShops());

  test('20 concurrent session requests per store for one cart, split across instances: one Create Session per store', async () => {
    h.standIn.setLatency(100);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        request(shops[i % 2]!.server).post('/checkout/session').set('X-Country', i < 20 ? 'se' : 'no').set('X-Cart-Id', 'cart-7').send({}),
      ),
    );
    h.standIn.setLatency(0);
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(201));
    const se = new Set(answers.slice(0, 20).map((a) => a.body.id));
    const no = new Set(answers.slice(20).map((a) => a.body.id));
    expect([se.size, no.size]).toEqual([1, 1]);
    expect([...se][0]).not.toBe([...no][0]);
    expect(h.standIn.sessionRequests.map((r) => r.path.replace(/^.*\/stores\//, '')).sort()).toEqual(['no-store/sessions', 'se-store/sessions']);
  });

  test('one order reference in both stores, 20 concurrent payments each across instances: one payment per store, one hook call per store, duplicates on the other instance ignored', async () => {
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 200 }] });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        request(shops[i % 2]!.server).post('/checkout/payment').set('X-Country', i < 20 ? 'se' : 'no').send({ paymentMethodId: INVOICE }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(201));
    const seIds = new Set(answers.slice(0, 20).map((a) => a.body.paymentId));
    const noIds = new Set(answers.slice(20).map((a) => a.body.paymentId));
    expect([seIds.size, noIds.size]).toEqual([1, 1]);
    const [seId, noId] = [[...seIds][0] as string, [...noIds][0] as string];
    expect(seId).not.toBe(noId);
    expect(creates(h.standIn)).toHaveLength(2);
    expect(h.standIn.merchant.payments({ orderReference: order.orderReference }).map((p) => [p.id, p.storeId]).sort()).toEqual(
      [
        [seId, 'se-store'],
        [noId, 'no-store'],
      ].sort(),
    );

    // Resurs delivers each authorization to the instance that sent it; then both instances get it again, at once.
    await h.standIn.merchant.approve(seId);
    await h.standIn.merchant.approve(noId);
    await h.standIn.merchant.settled();
    await until(() => h.updates.length === 2, 3000, 'both hook calls');
    const redeliveries = [seId, noId].flatMap((id) => {
      const url = new URL(h.standIn.merchant.paymentOptions(id)!.authorizationCallbackUrl!);
      const body = { paymentId: id, status: 'AUTHORIZED', created: new Date().toISOString() };
      return shops.map((shop) => request(shop.server).post(`${url.pathname}${url.search}`).send(body));
    });
    expect((await Promise.all(redeliveries)).map((r) => r.status)).toEqual([204, 204, 204, 204]);
    expect(h.updates.map((e) => [e.paymentId, e.payment.storeId]).sort()).toEqual(
      [
        [seId, 'se-store'],
        [noId, 'no-store'],
      ].sort(),
    );
  });
});
