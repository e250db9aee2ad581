/**
 * Callbacks exactly once across instances: two shops (two routers, each with its own node-redis
 * client, as two processes behind a load balancer would have) share one real redis-server
 * through `payments.store`. Duplicates split across both call onPaymentUpdate once in total.
 */
import { RedisSessionStore, createResursClient } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { STORE_ID, callbackPathOf, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';
import { connectRedis, sendCommandOf, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every answer is 204, or 503 with Retry-After (the fact was still being handled); at least one is 204. */
function expectHandledOrComeBack(answers: { status: number; headers: Record<string, string> }[]): void {
  expect(answers.filter((a) => a.status === 204).length).toBeGreaterThanOrEqual(1);
  for (const answer of answers) {
    expect([204, 503]).toContain(answer.status);
    if (answer.status === 503) expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  }
}

describeWithRedis('callbacks shared through Redis by two instances', () => {
  let redis: RedisServer;
  let clientA: RedisClient;
  let clientB: RedisClient;
  let standIn: StandIn;
  let shopA: CallbacksShop;
  let shopB: CallbacksShop;

  beforeAll(async () => {
    redis = await startRedisServer();
    [clientA, clientB] = await Promise.all([connectRedis(redis.url), connectRedis(redis.url)]);
    standIn = await startStandIn();
    const token = standIn.issueToken();
    shopA = await startCallbacksShop({ standIn, token, payments: { store: new RedisSessionStore({ sendCommand: sendCommandOf(clientA) }) } });
    shopB = await startCallbacksShop({ standIn, token, payments: { store: new RedisSessionStore({ sendCommand: sendCommandOf(clientB) }) } });
  });

  afterAll(async () => {
    await Promise.all([shopA?.close(), shopB?.close()]);
    await standIn?.close();
    await Promise.all([clientA?.quit(), clientB?.quit()]);
    await redis?.stop();
  });

  beforeEach(async () => {
    standIn.reset();
    await clientA.flushAll();
    for (const shop of [shopA, shopB]) {
      shop.calls.length = 0;
      shop.handled.length = 0;
      shop.onUpdate = () => sleep(30);
    }
  });

  const post = (shop: CallbacksShop, path: string, body: unknown) =>
    shop.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
  const total = () => shopA.calls.length + shopB.calls.length;

  it('50 concurrent duplicates split across both instances call onPaymentUpdate exactly once in total', async () => {
    const { paymentId } = await shopA.createPayment('REDIS-DUP');
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    const path = callbackPathOf(standIn, paymentId, 'authorization');
    const body = { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() };
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(i % 2 === 0 ? shopA : shopB, path, body)));
    expectHandledOrComeBack(answers);
    expect(total()).toBe(1);
    // Those told to come back (the hook was still running elsewhere) are duplicates now.
    const again = await Promise.all(answers.filter((a) => a.status === 503).map((_, i) => post(i % 2 === 0 ? shopB : shopA, path, body)));
    expect(again.map((a) => a.status)).toEqual(again.map(() => 204));
    expect(total()).toBe(1);
    expect([...shopA.calls, ...shopB.calls][0]).toMatchObject({ paymentId, orderReference: 'REDIS-DUP', status: 'ACCEPTED' });
    // The mark lives in Redis, under the store's prefix, with the long TTL.
    const keys = await clientA.keys('resurs-checkout:callback:*');
    expect(keys).toHaveLength(1);
    expect(await clientA.pTTL(keys[0]!)).toBeGreaterThan(24 * 3600 * 1000);
  });

  it('management duplicates split across both instances: once per actionId in total', async () => {
    const { paymentId } = await shopB.createPayment('REDIS-MGMT');
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    const client = createResursClient({ storeId: STORE_ID, baseUrl: standIn.baseUrl, merchantApiUrl: standIn.merchantApiUrl, auth: { token: standIn.issueToken() } });
    await client.payments.capture(paymentId);
    client.close();
    const capture = standIn.merchant.payment(paymentId)!.paymentActions[0]!;
    const path = callbackPathOf(standIn, paymentId, 'management');
    const body = { paymentId, action: 'CAPTURE', actionId: capture.actionId, created: capture.created };
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => post(i % 2 === 0 ? shopB : shopA, path, body)));
    expectHandledOrComeBack(answers);
    expect(total()).toBe(1);
    expect([...shopA.calls, ...shopB.calls][0]).toMatchObject({ action: 'CAPTURE', actionId: capture.actionId });
  });

  it("a failure on one instance releases the shared mark: Resurs' redelivery to the other instance is handled", async () => {
    const { paymentId } = await shopA.createPayment('REDIS-RETRY');
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    const path = callbackPathOf(standIn, paymentId, 'authorization');
    const body = { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() };
    shopA.onUpdate = () => {
      throw new Error('database down');
    };
    expect((await post(shopA, path, body)).status).toBe(503);
    expect(await clientA.keys('resurs-checkout:callback:*')).toHaveLength(0);
    expect((await post(shopB, path, body)).status).toBe(204);
    // A late duplicate back on the first instance: handled already.
    expect((await post(shopA, path, body)).status).toBe(204);
    expect(shopA.calls).toHaveLength(1);
    expect(shopA.handled).toHaveLength(0);
    expect(shopB.handled).toHaveLength(1);
  });
});
