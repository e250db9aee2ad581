/**
 * Redis going away must never cost a checkout: with one node-redis client serving session reuse,
 * token sharing and the rate limit (as the README sets it up), stopping redis-server leaves every
 * request answering 201 with warnings in the log (the rate limit fails open), and once Redis is
 * back, reuse and the rate limit work again.
 */
import type { Express } from 'express';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import request from 'supertest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import { RedisSessionStore } from '../../src';
import { RATE_LIMIT_STORE_COOL_DOWN_MS } from '../../src/routes/rate-limit';
import { STORE_COOL_DOWN_MS } from '../../src/store/guarded-store';
import type { CheckoutRouterOptions } from '../../src';
import { startHarness, type CheckoutHarness } from '../helpers/checkout-app';
import type { LogLine } from '../helpers/recording-logger';
import { logText } from '../helpers/recording-logger';
import { connectRedis, sendCommandOf, untilReady, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

function post(app: Express, shopper: string, cart?: string) {
  const req = request(app).post('/checkout/session').set('Content-Type', 'application/json').set('X-Forwarded-For', shopper);
  if (cart !== undefined) req.set('X-Cart-Id', cart);
  return req.send({});
}

/** After a failure the stores rest this long before they are asked again. */
const COOL_DOWN_MS = Math.max(STORE_COOL_DOWN_MS, RATE_LIMIT_STORE_COOL_DOWN_MS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const warnsAbout = (lines: LogLine[], pattern: RegExp): LogLine[] =>
  lines.filter((line) => line.level === 'warn' && pattern.test(line.message));

describeWithRedis('checkout while Redis is down', () => {
  let redis: RedisServer;
  let client: RedisClient;
  let harness: CheckoutHarness;
  let consoleError: jest.SpyInstance;
  let consoleWarn: jest.SpyInstance;
  let prefixes = 0;

  /** A shop the way the README sets one up: one Redis client for reuse, tokens and the rate limit. */
  function shop(limit: number): Express {
    const sendCommand = sendCommandOf(client);
    const store = new RedisSessionStore({ sendCommand });
    const options: Partial<CheckoutRouterOptions> = {
      auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl, store },
      reuse: { key: (req) => req.get('x-cart-id'), store },
      rateLimit: { windowMs: 60_000, limit, store: new RedisStore({ sendCommand, prefix: `rl-outage-${++prefixes}:` }) },
    };
    const app = harness.app(options);
    app.set('trust proxy', 1);
    return app;
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    client = await connectRedis(redis.url);
    harness = await startHarness();
  });

  afterAll(async () => {
    client?.destroy();
    await harness?.close();
    await redis?.stop();
  });

  beforeEach(async () => {
    harness.standIn.reset();
    harness.lines.length = 0;
    consoleError = jest.spyOn(console, 'error');
    consoleWarn = jest.spyOn(console, 'warn');
    await redis.start().catch(() => undefined); // running already, unless a test failed half-way
    await untilReady(client);
  });

  afterEach(() => {
    expect(consoleError).not.toHaveBeenCalled();
    expect(consoleWarn).not.toHaveBeenCalled();
    consoleError.mockRestore();
    consoleWarn.mockRestore();
  });

  it('answers 201 with warnings for reuse, the rate limit and token sharing, then recovers', async () => {
    const app = shop(2);
    const first = await post(app, '203.0.113.1', 'cart-1').expect(201);
    await expect(post(app, '203.0.113.1', 'cart-1').expect(201)).resolves.toMatchObject({ body: { id: first.body.id } });
    expect(harness.standIn.sessionRequests).toHaveLength(1);
    expect(harness.standIn.tokenRequests).toHaveLength(1);

    await redis.stop();
    const down = harness.lines.length;

    // Over the limit of 2 and asking for the stored cart: every request still gets a session.
    const whileDown = [];
    for (let i = 0; i < 4; i++) whileDown.push(await post(app, '203.0.113.2', 'cart-1'));
    expect(whileDown.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    expect(new Set(whileDown.map((r) => r.body.id as string)).size).toBe(4);
    expect(harness.standIn.sessionRequests).toHaveLength(5);

    const linesDown = harness.lines.slice(down);
    const reuseWarns = warnsAbout(linesDown, /^session reuse: store failed/);
    const limitWarns = warnsAbout(linesDown, /^rate limit: store failed, request allowed/);
    expect(limitWarns).toHaveLength(4);
    expect(reuseWarns.length).toBeGreaterThanOrEqual(4);
    // Each warning names its request.
    const ids = new Set(whileDown.map((r) => r.headers['x-request-id'] as string));
    for (const line of [...reuseWarns, ...limitWarns]) expect(ids.has(line.fields.requestId as string)).toBe(true);

    // A shop starting now, with no token in memory, fetches its own token and goes on.
    const cold = shop(2);
    await post(cold, '203.0.113.3').expect(201);
    expect(harness.standIn.tokenRequests).toHaveLength(2);
    expect(warnsAbout(harness.lines.slice(down), /^token sharing: store failed/).length).toBeGreaterThanOrEqual(1);

    await redis.start();
    await untilReady(client);
    await sleep(COOL_DOWN_MS + 50);
    const up = harness.lines.length;

    // Reuse works again (the restarted Redis is empty, so the first request creates).
    const again = await post(app, '203.0.113.4', 'cart-2').expect(201);
    await expect(post(app, '203.0.113.4', 'cart-2').expect(201)).resolves.toMatchObject({ body: { id: again.body.id } });
    // The rate limit counts again: the third request of this shopper is over the limit of 2.
    expect((await post(app, '203.0.113.4', 'cart-2')).status).toBe(429);
    expect(harness.lines.slice(up).filter((line) => line.level === 'warn')).toEqual([]);

    const tokens = harness.standIn.tokenRequests.length;
    expect(logText(harness.lines)).not.toContain(DEMO_CLIENT_SECRET);
    expect(tokens).toBe(2);
  });

  it('fails open when Redis is down as the shop starts, and rate-limits once Redis is back', async () => {
    await redis.stop();
    const app = shop(1);
    expect(warnsAbout(harness.lines, /^rate limit: store failed to start/).length).toBeLessThanOrEqual(1);
    await post(app, '198.51.100.1').expect(201);
    await post(app, '198.51.100.1').expect(201);
    expect(warnsAbout(harness.lines, /^rate limit: store failed to start/)).toHaveLength(1);

    await redis.start();
    await untilReady(client);
    // rate-limit-redis loads its scripts in init; the router retries a failed init on later requests.
    const statuses: number[] = [];
    for (let i = 0; i < 40 && !statuses.includes(429); i++) {
      statuses.push((await post(app, '198.51.100.1')).status);
      if (!statuses.includes(429)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((status) => status !== 201 && status !== 429)).toEqual([]);
    expect(await client.keys(`rl-outage-${prefixes}:*`)).toHaveLength(1);
  });

  it("does not hang when the client queues commands while offline (node-redis' default)", async () => {
    const queueing = createClient({ url: redis.url, socket: { reconnectStrategy: () => 50 } });
    queueing.on('error', () => undefined);
    await queueing.connect();
    try {
      const sendCommand = sendCommandOf(queueing);
      const store = new RedisSessionStore({ sendCommand });
      const app = harness.app({
        reuse: { key: (req) => req.get('x-cart-id'), store },
        rateLimit: { windowMs: 60_000, limit: 1, store: new RedisStore({ sendCommand, prefix: 'rl-queueing:' }) },
      });
      app.set('trust proxy', 1);
      await post(app, '192.0.2.50', 'cart-q').expect(201);

      await redis.stop();
      // One store call per feature is cut off after its timeout; then the store rests and the rest of
      // the request, and the next request, go on without asking it.
      const lines = harness.lines.length;
      const res = await post(app, '192.0.2.50', 'cart-q').timeout(10_000);
      expect(res.status).toBe(201);
      const next = await post(app, '192.0.2.50', 'cart-q').timeout(10_000);
      expect(next.status).toBe(201);
      const warned = harness.lines.slice(lines).filter((line) => line.level === 'warn');
      expect(warned.map((line) => [line.fields.requestId, line.message])).toEqual([
        [res.headers['x-request-id'], expect.stringMatching(/^rate limit: store failed, request allowed without the limit: increment: timed out/)],
        [res.headers['x-request-id'], expect.stringMatching(/^session reuse: store failed, continuing without it: get: timed out/)],
        [next.headers['x-request-id'], expect.stringMatching(/^rate limit: store failed, request allowed without the limit: increment: failed less than/)],
        [next.headers['x-request-id'], expect.stringMatching(/^session reuse: store failed, continuing without it: get: failed less than/)],
      ]);
    } finally {
      queueing.destroy();
    }
  });
});
