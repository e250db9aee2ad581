/**
 * The rate limit on rate-limit-redis: two shops (each with its own node-redis client and its
 * own RedisStore instance under one prefix, as two processes would have) share one count.
 */
import type { Express } from 'express';
import { RedisStore } from 'rate-limit-redis';
import request from 'supertest';
import { startHarness, type CheckoutHarness } from '../helpers/checkout-app';
import { connectRedis, sendCommandOf, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

function post(app: Express, headers: Record<string, string> = {}) {
  return request(app).post('/checkout/session').set('Content-Type', 'application/json').set(headers).send({});
}

describeWithRedis('rateLimit shared through Redis by two instances', () => {
  let redis: RedisServer;
  let clientA: RedisClient;
  let clientB: RedisClient;
  let harness: CheckoutHarness;
  let prefixes = 0;

  /** Two shops behind one proxy (trust proxy 1), sharing the count under one fresh prefix. */
  function twoShops(limit: number): [Express, Express, string] {
    const prefix = `rl-checkout-${++prefixes}:`;
    const build = (client: RedisClient): Express => {
      const app = harness.app({ rateLimit: { windowMs: 60_000, limit, store: new RedisStore({ sendCommand: sendCommandOf(client), prefix }) } });
      app.set('trust proxy', 1);
      return app;
    };
    return [build(clientA), build(clientB), prefix];
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    [clientA, clientB] = await Promise.all([connectRedis(redis.url), connectRedis(redis.url)]);
    harness = await startHarness();
  });

  afterAll(async () => {
    clientA?.destroy();
    clientB?.destroy();
    await harness?.close();
    await redis?.stop();
  });

  beforeEach(() => {
    harness.standIn.reset();
    harness.lines.length = 0;
  });

  it('counts requests to both apps together and answers 429 past the shared limit, without calling Resurs', async () => {
    const [shopA, shopB, prefix] = twoShops(3);
    const shopper = { 'X-Forwarded-For': '203.0.113.10' };
    await post(shopA, shopper).expect(201);
    await post(shopB, shopper).expect(201);
    const third = await post(shopA, shopper).expect(201);
    expect(third.headers['ratelimit']).toMatch(/r=0/);

    const limited = await post(shopB, { ...shopper, 'X-Request-Id': 'over-the-limit' });
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.headers['x-request-id']).toBe('over-the-limit');
    expect(limited.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(JSON.parse(limited.text)).toEqual({
      type: 'urn:express-resurs-checkout:problem:rate_limited',
      title: expect.any(String),
      status: 429,
      detail: expect.any(String),
      code: 'rate_limited',
      requestId: 'over-the-limit',
    });
    expect((await post(shopA, shopper)).status).toBe(429);
    expect(harness.standIn.sessionRequests).toHaveLength(3);

    // Another shopper has a count of their own; the count lives in Redis under the prefix.
    await post(shopB, { 'X-Forwarded-For': '198.51.100.30' }).expect(201);
    const keys = await clientA.keys(`${prefix}*`);
    expect(keys).toHaveLength(2);
    expect(await clientA.get(keys.find((key) => key.includes('203.0.113.10'))!)).toBe('5');
    expect(harness.lines.filter((line) => line.level === 'warn' || line.level === 'error').map((line) => line.message)).toEqual([]);
  });

  it('warns through our logger when one RedisStore instance is given to two routers', async () => {
    const store = new RedisStore({ sendCommand: sendCommandOf(clientA), prefix: 'rl-shared-instance:' });
    harness.app({ rateLimit: { windowMs: 60_000, limit: 5, store } });
    expect(harness.lines.filter((line) => line.fields.code === 'ERR_ERL_STORE_REUSE')).toHaveLength(0);
    harness.app({ rateLimit: { windowMs: 60_000, limit: 5, store } });
    expect(harness.lines.filter((line) => line.fields.code === 'ERR_ERL_STORE_REUSE')).toHaveLength(1);
  });
});
