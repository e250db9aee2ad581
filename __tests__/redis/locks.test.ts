/**
 * Cross-instance creation locks on a real redis-server, with Redis slowed by a TCP proxy (a process of its own) in front
 * of it: two routers (two "instances", each with its own node-redis client, as two processes
 * would have) sharing one RedisSessionStore prefix make exactly one Resurs session per cart, leave
 * no lock behind, and a waiter never outlives its own budget.
 */
import type { Server } from 'node:http';
import type { Express, Request } from 'express';
import request from 'supertest';
import { RedisSessionStore, ResursCheckoutError, createResursClient } from '../../src';
import { createSessionReuse } from '../../src/reuse/session-reuse';
import { guardStore } from '../../src/store/guarded-store';
import { busyFor } from '../helpers/answering-peer';
import { startHarness, type CheckoutHarness } from '../helpers/checkout-app';
import { recordingLogger } from '../helpers/recording-logger';
import { connectRedis, sendCommandOf, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';
import { delayAll, delaySetNx, startSlowProxy, type SlowProxy } from '../helpers/slow-proxy';

const cartOf = (req: Request): string | undefined => req.get('x-cart-id');

function listen(app: Express): Promise<Server> {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function post(server: Server, cart: string) {
  return request(server).post('/checkout/session').set('Content-Type', 'application/json').set('X-Cart-Id', cart).send({});
}

/** Create Session calls per distinct session id the stand-in answered. */
function sessionsPerCart(responses: Array<{ cart: string; id: unknown }>): Map<string, Set<unknown>> {
  const byCart = new Map<string, Set<unknown>>();
  for (const { cart, id } of responses) byCart.set(cart, (byCart.get(cart) ?? new Set()).add(id));
  return byCart;
}

describeWithRedis('creation locks through a slow Redis', () => {
  let redis: RedisServer;
  let proxy: SlowProxy;
  let clientA: RedisClient;
  let clientB: RedisClient;
  let direct: RedisClient;
  let harness: CheckoutHarness;
  let shopA: Server;
  let shopB: Server;

  beforeAll(async () => {
    redis = await startRedisServer();
    proxy = await startSlowProxy(redis.port);
    [clientA, clientB, direct] = await Promise.all([connectRedis(proxy.url), connectRedis(proxy.url), connectRedis(redis.url)]);
    harness = await startHarness();
    const store = (client: RedisClient) => new RedisSessionStore({ sendCommand: sendCommandOf(client), prefix: 'locks:' });
    shopA = await listen(harness.app({ reuse: { key: cartOf, store: store(clientA) } }));
    shopB = await listen(harness.app({ reuse: { key: cartOf, store: store(clientB) } }));
  });

  afterAll(async () => {
    await Promise.all([closeServer(shopA), closeServer(shopB)]);
    for (const client of [clientA, clientB, direct]) client?.destroy();
    await proxy?.close();
    await harness?.close();
    await redis?.stop();
  });

  beforeEach(async () => {
    harness.standIn.reset();
    await proxy.setDelay({});
    await direct.flushAll();
  });

  it('makes exactly one session per cart when the lock’s SET NX answers after the store timeout (700 ms > 500 ms)', async () => {
    await proxy.setDelay(delaySetNx(700));
    harness.standIn.setLatency(50);
    const carts = Array.from({ length: 4 }, (_, i) => `slow-cart-${i}`);
    const responses: Array<{ cart: string; id: unknown; status: number }> = [];
    // One cart at a time: on one connection per instance, a slow reply holds back every command
    // queued behind it, and a read that times out is "no reuse" by contract. Here only the lock is slow.
    for (const cart of carts) {
      const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => post(i % 2 === 0 ? shopA : shopB, cart)));
      responses.push(...burst.map((res) => ({ cart, id: res.body.id, status: res.status })));
    }
    expect(responses.map(({ status }) => status)).toEqual(responses.map(() => 201));
    expect([...sessionsPerCart(responses).values()].map((ids) => ids.size)).toEqual(carts.map(() => 1));
    expect(harness.standIn.sessionRequests).toHaveLength(carts.length);
    // Every lock was let go by its owner, and every session is stored.
    expect(await direct.keys('locks:lock:*')).toEqual([]);
    expect(await direct.keys('locks:session:*')).toHaveLength(carts.length);
    expect(harness.lines.filter((line) => line.level === 'warn')).toEqual([]);
  });

  it('leaves no lock behind after a slow SET NX, so the next shopper of the cart does not wait', async () => {
    await proxy.setDelay(delaySetNx(700));
    await post(shopA, 'cart-after').expect(201);
    await proxy.setDelay({});
    const started = Date.now();
    await post(shopB, 'cart-after').expect(201);
    expect(Date.now() - started).toBeLessThan(500);
    expect(harness.standIn.sessionRequests).toHaveLength(1);
    expect(await direct.keys('locks:lock:*')).toEqual([]);
  });

  it('a pause of this process longer than the store’s time limit is not Redis being slow: the answer that came meanwhile is used', async () => {
    // The proxy and Redis are other processes: they answer while this one is busy, as in production.
    await proxy.setDelay(delayAll(50));
    await direct.set('locks:paused', 'v');
    const { logger, lines } = recordingLogger();
    const store = guardStore(new RedisSessionStore({ sendCommand: sendCommandOf(clientA), prefix: 'locks:' }), { timeoutMs: 200, coolDownMs: 0, logger, what: 'x' });
    const pending = store.get('paused');
    await new Promise((resolve) => setTimeout(resolve, 5)); // node-redis writes the command on a later tick
    busyFor(600); // past the 50 ms hold and the 200 ms limit
    await expect(pending).resolves.toBe('v');
    expect(lines).toEqual([]);
  });

  it('60 carts × 20 requests on two instances, every Redis command slowed: one session per cart', async () => {
    await proxy.setDelay(delayAll(5, 20));
    harness.standIn.setLatency(30);
    const carts = Array.from({ length: 60 }, (_, i) => `load-cart-${i}`);
    const jobs = carts.flatMap((cart) => Array.from({ length: 20 }, (_, i) => ({ cart, shop: i % 2 === 0 ? shopA : shopB })));
    const responses = await Promise.all(jobs.map(async ({ cart, shop }) => ({ cart, res: await post(shop, cart) })));
    expect(responses.filter(({ res }) => res.status !== 201)).toEqual([]);
    // A store call that ran out of time would have sent its instance on without the store (by
    // contract): said first, so a double below is told apart from a lock that failed.
    expect(harness.lines.filter((line) => line.level === 'warn')).toEqual([]);
    const doubles = [...sessionsPerCart(responses.map(({ cart, res }) => ({ cart, id: res.body.id }))).entries()].filter(([, ids]) => ids.size > 1);
    expect(doubles.map(([cart]) => cart)).toEqual([]);
    expect(harness.standIn.sessionRequests).toHaveLength(carts.length);
    expect(await direct.keys('locks:lock:*')).toEqual([]);
  }, 60_000);
});

describeWithRedis('a waiter for another instance’s lock keeps to its own budget', () => {
  let redis: RedisServer;
  let clientA: RedisClient;
  let clientB: RedisClient;
  let harness: CheckoutHarness;

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

  it('with a hanging Resurs and deadlineMs 1500, both instances answer 504 within ~1.5 s and Resurs gets one call', async () => {
    harness.standIn.setFaults({ always: { kind: 'hang' } });
    const deadlineMs = 1_500;
    /** One instance as the router builds it: a client, and reuse over its own Redis connection. */
    const instance = (client: RedisClient) => {
      const resurs = createResursClient({ storeId: 'test-store', baseUrl: harness.standIn.baseUrl, auth: { token: harness.token }, deadlineMs, retries: 0 });
      const reuse = createSessionReuse({
        store: new RedisSessionStore({ sendCommand: sendCommandOf(client) }),
        marginSeconds: 60,
        namespace: 'budget',
        lockTtlMs: deadlineMs + 1000,
        logger: recordingLogger().logger,
      });
      // What the router passes: the request's remaining budget and the shopper's signal.
      return (startedAt: number) =>
        reuse.get('cart-hang', undefined, () => resurs.createSession({}), undefined, {
          budgetMs: deadlineMs - (Date.now() - startedAt),
          signal: new AbortController().signal,
        });
    };
    const [a, b] = [instance(clientA), instance(clientB)];
    const started = Date.now();
    const first = a(started).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const second = b(Date.now()).catch((e: unknown) => e);
    const [fromA, fromB] = await Promise.all([first, second]);
    const elapsed = Date.now() - started;
    for (const error of [fromA, fromB]) {
      expect(error).toBeInstanceOf(ResursCheckoutError);
      expect(error).toMatchObject({ code: 'upstream_timeout', status: 504 });
    }
    expect(elapsed).toBeLessThan(deadlineMs + 600);
    expect(harness.standIn.sessionRequests).toHaveLength(1);
  });
});
