/**
 * Session reuse beyond one instance: two shops (two Express apps, each with its own node-redis
 * client, as two processes would have) share one Redis through RedisSessionStore.
 */
import type { Server } from 'node:http';
import type { Express, Request } from 'express';
import request from 'supertest';
import { RedisSessionStore } from '../../src';
import { startHarness, type CheckoutHarness } from '../helpers/checkout-app';
import { expectProblem } from '../helpers/problem';
import { connectRedis, sendCommandOf, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

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

function post(server: Server, cart: string | undefined, campaign?: string) {
  const req = request(server).post('/checkout/session').set('Content-Type', 'application/json');
  if (cart !== undefined) req.set('X-Cart-Id', cart);
  return req.send(campaign === undefined ? {} : { campaign });
}

describeWithRedis('reuse shared through Redis by two instances', () => {
  let redis: RedisServer;
  let clientA: RedisClient;
  let clientB: RedisClient;
  let harness: CheckoutHarness;
  let shopA: Server;
  let shopB: Server;

  beforeAll(async () => {
    redis = await startRedisServer();
    [clientA, clientB] = await Promise.all([connectRedis(redis.url), connectRedis(redis.url)]);
    harness = await startHarness();
    shopA = await listen(harness.app({ reuse: { key: cartOf, store: new RedisSessionStore({ sendCommand: sendCommandOf(clientA) }) } }));
    shopB = await listen(harness.app({ reuse: { key: cartOf, store: new RedisSessionStore({ sendCommand: sendCommandOf(clientB) }) } }));
  });

  afterAll(async () => {
    await Promise.all([closeServer(shopA), closeServer(shopB)]);
    clientA?.destroy();
    clientB?.destroy();
    await harness?.close();
    await redis?.stop();
  });

  beforeEach(async () => {
    harness.standIn.reset();
    await clientA.flushAll();
  });

  it('hands the session created through app A to app B for the same key and campaign', async () => {
    const first = await post(shopA, 'cart-1', 'SUMMER_SALE').expect(201);
    const again = await post(shopB, 'cart-1', 'SUMMER_SALE').expect(201);
    expect(again.body).toEqual(first.body);
    expect(harness.standIn.sessionRequests).toHaveLength(1);

    // The stored entry is keyed by a hash: the cart id itself is not in Redis' key space.
    const keys = await clientA.keys('*');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.join(' ')).not.toContain('cart-1');
    expect(keys.every((key) => key.startsWith('resurs-checkout:'))).toBe(true);
  });

  it('creates a new session for another campaign, another key, or no campaign', async () => {
    const base = (await post(shopA, 'cart-2', 'SUMMER_SALE').expect(201)).body.id as string;
    const otherCampaign = (await post(shopB, 'cart-2', 'BLACK_FRIDAY').expect(201)).body.id as string;
    const otherKey = (await post(shopB, 'cart-3', 'SUMMER_SALE').expect(201)).body.id as string;
    const noCampaign = (await post(shopA, 'cart-2').expect(201)).body.id as string;
    expect(new Set([base, otherCampaign, otherKey, noCampaign]).size).toBe(4);
    expect(harness.standIn.sessionRequests).toHaveLength(4);
    expect(harness.standIn.sessionRequests.map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { campaign: 'SUMMER_SALE' },
      { campaign: 'BLACK_FRIDAY' },
      { campaign: 'SUMMER_SALE' },
      {},
    ]);
    // Each of them is reused in turn, from the other app.
    await expect(post(shopB, 'cart-2').expect(201)).resolves.toMatchObject({ body: { id: noCampaign } });
    await expect(post(shopA, 'cart-2', 'BLACK_FRIDAY').expect(201)).resolves.toMatchObject({ body: { id: otherCampaign } });
    expect(harness.standIn.sessionRequests).toHaveLength(4);
  });

  it('makes exactly one upstream call for a burst of 50 identical requests split across both apps', async () => {
    harness.standIn.setLatency(150); // long enough for the whole burst to arrive while the first call is out
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) => post(i % 2 === 0 ? shopA : shopB, 'cart-burst', 'SUMMER_SALE')),
    );
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 201));
    expect(new Set(responses.map((r) => r.body.id as string)).size).toBe(1);
    expect(harness.standIn.sessionRequests).toHaveLength(1);
    // The cross-instance lock is released once the session is stored.
    expect(await clientA.keys('resurs-checkout:lock:*')).toEqual([]);
  });

  it('does not reuse when the key function returns undefined or throws, and still answers 201', async () => {
    const store = new RedisSessionStore({ sendCommand: sendCommandOf(clientA) });
    const throwing = await listen(
      harness.app({
        reuse: {
          key: () => {
            throw new Error('no cart here');
          },
          store,
        },
      }),
    );
    try {
      const lines = harness.lines.length;
      const noKey = await Promise.all([post(shopA, undefined, 'SUMMER_SALE'), post(shopB, undefined, 'SUMMER_SALE')]);
      const thrown = await Promise.all([post(throwing, 'cart-x', 'SUMMER_SALE'), post(throwing, 'cart-x', 'SUMMER_SALE')]);
      const all = [...noKey, ...thrown];
      expect(all.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      expect(new Set(all.map((r) => r.body.id as string)).size).toBe(4);
      expect(harness.standIn.sessionRequests).toHaveLength(4);
      expect(await clientA.keys('resurs-checkout:session:*')).toEqual([]);
      const warned = harness.lines.slice(lines).filter((line) => line.level === 'warn');
      expect(warned.map((line) => line.message)).toEqual([
        expect.stringMatching(/reuse\.key threw/),
        expect.stringMatching(/reuse\.key threw/),
      ]);
      expect(JSON.stringify(warned)).not.toContain('no cart here');
    } finally {
      await closeServer(throwing);
    }
  });

  it('never hands a session of one Resurs store to a router for another store sharing the Redis', async () => {
    const otherStore = await listen(
      harness.app({
        storeId: 'other-store',
        reuse: { key: cartOf, store: new RedisSessionStore({ sendCommand: sendCommandOf(clientB) }) },
      }),
    );
    try {
      const mine = await post(shopA, 'cart-shared', 'SUMMER_SALE').expect(201);
      const theirs = await post(otherStore, 'cart-shared', 'SUMMER_SALE').expect(201);
      expect(theirs.body.id).not.toBe(mine.body.id);
      expect(harness.standIn.sessionRequests.map((r) => r.path)).toEqual([
        expect.stringContaining('/stores/test-store/'),
        expect.stringContaining('/stores/other-store/'),
      ]);
    } finally {
      await closeServer(otherStore);
    }
  });
});

describeWithRedis('routers sharing Redis each keep to their own rules', () => {
  let redis: RedisServer;
  let client: RedisClient;
  let harness: CheckoutHarness;
  const servers: Server[] = [];

  async function shop(options: Parameters<CheckoutHarness['app']>[0]): Promise<Server> {
    const server = await listen(harness.app(options));
    servers.push(server);
    return server;
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    client = await connectRedis(redis.url);
    harness = await startHarness();
  });

  afterAll(async () => {
    await Promise.all(servers.map(closeServer));
    client?.destroy();
    await harness?.close();
    await redis?.stop();
  });

  beforeEach(async () => {
    harness.standIn.reset();
    await client.flushAll();
  });

  it("a stricter router does not serve a stored session its own answer check refuses", async () => {
    const store = () => new RedisSessionStore({ sendCommand: sendCommandOf(client) });
    const lenient = await shop({ reuse: { key: cartOf, store: store() } });
    const strict = await shop({ reuse: { key: cartOf, store: store() }, allowedScriptOrigins: [harness.standIn.scriptOrigin] });
    harness.standIn.setFaults({ queue: [{ kind: 'foreign-script' }] });
    const stored = await post(lenient, 'cart-rules').expect(201);
    expect(stored.body.embed.src).toMatch(/^https:\/\/evil\.example\//);

    const own = await post(strict, 'cart-rules').expect(201);
    expect(own.body.id).not.toBe(stored.body.id);
    expect(new URL(own.body.embed.src as string).origin).toBe(harness.standIn.scriptOrigin);
    expect(harness.standIn.sessionRequests).toHaveLength(2);
    const warned = harness.lines.filter((line) => line.level === 'warn').map((line) => line.message);
    expect(warned).toEqual([expect.stringMatching(/^session reuse: ignoring a stored session this router would refuse: .*allowedScriptOrigins/)]);
    // The strict router's own session replaced the refused one, for both.
    await expect(post(lenient, 'cart-rules').expect(201)).resolves.toMatchObject({ body: { id: own.body.id } });
  });

  it('with a hanging Resurs and deadlineMs 1500, the instance waiting on the lock answers 504 in time and Resurs gets one call', async () => {
    harness.standIn.setFaults({ always: { kind: 'hang' } });
    const options = { deadlineMs: 1_500, retries: 0, breaker: false as const };
    const shopA = await shop({ ...options, reuse: { key: cartOf, store: new RedisSessionStore({ sendCommand: sendCommandOf(client) }) } });
    const shopB = await shop({ ...options, reuse: { key: cartOf, store: new RedisSessionStore({ sendCommand: sendCommandOf(client) }) } });
    const started = Date.now();
    const first = post(shopA, 'cart-hang').then((res) => ({ res, at: Date.now() - started }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const secondStarted = Date.now();
    const second = await post(shopB, 'cart-hang');
    const secondMs = Date.now() - secondStarted;
    expectProblem(second, 504, 'upstream_timeout');
    expect(secondMs).toBeLessThan(1_500 + 500);
    expectProblem((await first).res, 504, 'upstream_timeout');
    expect(harness.standIn.sessionRequests).toHaveLength(1);
  });
});

describeWithRedis('reuse through Redis respects expiry and the margin', () => {
  let redis: RedisServer;
  let client: RedisClient;
  let harness: CheckoutHarness;
  let shopA: Server;
  let shopB: Server;
  // Sessions must live 30 s for the router to accept them: 33 s with a 31 s margin leaves a 1-2 s reuse window.
  const MARGIN_S = 31;

  beforeAll(async () => {
    redis = await startRedisServer();
    client = await connectRedis(redis.url);
    harness = await startHarness({ sessionTtlSeconds: 33 });
    const reuse = { key: cartOf, marginSeconds: MARGIN_S };
    shopA = await listen(harness.app({ reuse: { ...reuse, store: new RedisSessionStore({ sendCommand: sendCommandOf(client) }) } }));
    shopB = await listen(harness.app({ reuse: { ...reuse, store: new RedisSessionStore({ sendCommand: sendCommandOf(client) }) } }));
  });

  afterAll(async () => {
    await Promise.all([closeServer(shopA), closeServer(shopB)]);
    client?.destroy();
    await harness?.close();
    await redis?.stop();
  });

  it('reuses a session with more than the margin left, and creates a new one past the margin point', async () => {
    const first = await post(shopA, 'cart-ttl').expect(201);
    const expiresAt = Date.parse(first.body.expiresAt as string);
    // The stand-in's sessions live 33 s (to the second), so at least ~1 s is left beyond the margin.
    await expect(post(shopB, 'cart-ttl').expect(201)).resolves.toMatchObject({ body: { id: first.body.id } });
    expect(harness.standIn.sessionRequests).toHaveLength(1);

    // Redis drops the entry at the margin point (expiresAt - margin).
    const pttl = await client.pTTL((await client.keys('resurs-checkout:session:*'))[0]!);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(expiresAt - MARGIN_S * 1000 - Date.now() + 50);

    const marginPoint = expiresAt - MARGIN_S * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, marginPoint - Date.now()) + 50));
    const second = await post(shopB, 'cart-ttl').expect(201);
    expect(second.body.id).not.toBe(first.body.id);
    expect(Date.parse(second.body.expiresAt as string)).toBeGreaterThan(Date.now());
    expect(harness.standIn.sessionRequests).toHaveLength(2);
    await expect(post(shopA, 'cart-ttl').expect(201)).resolves.toMatchObject({ body: { id: second.body.id } });
  });
});
