/**
 * The optional rate limit with express-rate-limit's built-in memory store: the 429 problem
 * answer, its headers, what counts, our header defaults, `trust proxy`, and express-rate-limit's
 * own warnings going to our logger instead of the console.
 */
import type { Express } from 'express';
import request from 'supertest';
import type { Response } from 'supertest';
import { ConfigError } from '../../src';
import type { CheckoutErrorEvent, RateLimitOptions } from '../../src';
import type { Store } from 'express-rate-limit';
import { RATE_LIMIT_STORE_COOL_DOWN_MS, RATE_LIMIT_STORE_TIMEOUT_MS } from '../../src/routes/rate-limit';
import { startHarness, type CheckoutHarness } from '../helpers/checkout-app';

const PROBLEM_KEYS = ['code', 'detail', 'requestId', 'status', 'title', 'type'];

function post(app: Express, headers: Record<string, string> = {}) {
  return request(app).post('/checkout/session').set('Content-Type', 'application/json').set(headers).send({});
}

/** Asserts the contract's 429 answer and returns its body. */
function expectRateLimited(res: Response): Record<string, unknown> {
  expect(res.status).toBe(429);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(PROBLEM_KEYS);
  expect(body).toMatchObject({ status: 429, code: 'rate_limited', type: 'urn:express-resurs-checkout:problem:rate_limited' });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body.requestId).toBe(res.headers['x-request-id']);
  expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
  expect(res.headers['cache-control']).toBe('no-store');
  return body;
}

describe('rateLimit with the default memory store', () => {
  let harness: CheckoutHarness;
  let consoleError: jest.SpyInstance;
  let consoleWarn: jest.SpyInstance;

  beforeAll(async () => {
    harness = await startHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  beforeEach(() => {
    harness.standIn.reset();
    harness.lines.length = 0;
    consoleError = jest.spyOn(console, 'error');
    consoleWarn = jest.spyOn(console, 'warn');
  });

  afterEach(() => {
    // express-rate-limit's ERR_ERL_* checks must go to our logger, never to the console.
    expect(consoleError).not.toHaveBeenCalled();
    expect(consoleWarn).not.toHaveBeenCalled();
    consoleError.mockRestore();
    consoleWarn.mockRestore();
  });

  it('answers 429 rate_limited as a problem with Retry-After and X-Request-Id, without calling Resurs', async () => {
    const errors: CheckoutErrorEvent[] = [];
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 2 }, onError: (event) => errors.push(event) });
    await post(app).expect(201);
    await post(app).expect(201);
    const limited = await post(app, { 'X-Request-Id': 'shop-req-429' });
    const body = expectRateLimited(limited);
    expect(body.requestId).toBe('shop-req-429');
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expectRateLimited(await post(app));
    expect(harness.standIn.sessionRequests).toHaveLength(2);

    // Logged and hooked like every other problem answer, with the request id.
    expect(errors.map((event) => [event.error.code, event.requestId])).toEqual([
      ['rate_limited', 'shop-req-429'],
      ['rate_limited', expect.any(String)],
    ]);
    const answered = harness.lines.filter((line) => line.fields.code === 'rate_limited');
    expect(answered).toHaveLength(2);
    expect(answered[0]!.fields).toMatchObject({ requestId: 'shop-req-429', status: 429 });
  });

  it('sends the draft-8 RateLimit headers and no legacy X-RateLimit-* headers by default', async () => {
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 1 } });
    const ok = await post(app).expect(201);
    expect(ok.headers['ratelimit']).toMatch(/^"1-in-1min"; r=0; t=\d+$/);
    expect(ok.headers['ratelimit-policy']).toMatch(/^"1-in-1min"; q=1; w=60; pk=:/);
    expect(ok.headers['x-ratelimit-limit']).toBeUndefined();
    const limited = await post(app);
    expectRateLimited(limited);
    expect(limited.headers['ratelimit']).toMatch(/r=0/);
    expect(limited.headers['x-ratelimit-remaining']).toBeUndefined();
  });

  it("honours the merchant's own header choices, and still sends Retry-After on a 429", async () => {
    const legacy = harness.app({ rateLimit: { windowMs: 60_000, limit: 1, legacyHeaders: true, standardHeaders: 'draft-7' } });
    const ok = await post(legacy).expect(201);
    expect(ok.headers['x-ratelimit-limit']).toBe('1');
    expect(ok.headers['ratelimit']).toMatch(/^limit=1, remaining=0, reset=\d+$/);

    const bare = harness.app({ rateLimit: { windowMs: 30_000, limit: 1, standardHeaders: false } });
    const first = await post(bare).expect(201);
    expect(first.headers['ratelimit']).toBeUndefined();
    expect(first.headers['x-ratelimit-limit']).toBeUndefined();
    const limited = await post(bare);
    expectRateLimited(limited);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(30);
  });

  it('counts only POSTs to the path: a 405 does not use up the limit', async () => {
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 1 } });
    for (let i = 0; i < 3; i++) await request(app).get('/checkout/session').expect(405);
    await post(app).expect(201);
    expectRateLimited(await post(app));
  });

  it("keys by the client's address: behind one proxy with trust proxy 1, shoppers are counted apart", async () => {
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 1 } });
    app.set('trust proxy', 1);
    await post(app, { 'X-Forwarded-For': '203.0.113.7' }).expect(201);
    expectRateLimited(await post(app, { 'X-Forwarded-For': '203.0.113.7' }));
    await post(app, { 'X-Forwarded-For': '198.51.100.20' }).expect(201);
    // A spoofed left-most entry does not help: with one trusted hop the right-most address counts.
    expectRateLimited(await post(app, { 'X-Forwarded-For': '192.0.2.99, 203.0.113.7' }));
    expect(harness.standIn.sessionRequests).toHaveLength(2);
  });

  it("without trust proxy every shopper behind a proxy shares one count, and express-rate-limit's warning reaches our logger once", async () => {
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 2 } });
    await post(app, { 'X-Forwarded-For': '203.0.113.7' }).expect(201);
    await post(app, { 'X-Forwarded-For': '198.51.100.20' }).expect(201);
    expectRateLimited(await post(app, { 'X-Forwarded-For': '192.0.2.1' }));
    const warned = harness.lines.filter((line) => line.level === 'warn' && line.fields.code === 'ERR_ERL_UNEXPECTED_X_FORWARDED_FOR');
    expect(warned).toHaveLength(1);
    expect(warned[0]!.message).toMatch(/trust proxy/);
  });

  it("warns through our logger, not the console, about trust proxy true", async () => {
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 5 } });
    app.set('trust proxy', true);
    await post(app, { 'X-Forwarded-For': '203.0.113.7' }).expect(201);
    expect(harness.lines.filter((line) => line.fields.code === 'ERR_ERL_PERMISSIVE_TRUST_PROXY')).toHaveLength(1);
  });

  it("uses the merchant's retryAfter for the Retry-After header", async () => {
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 1, retryAfter: 7 } });
    await post(app).expect(201);
    const limited = await post(app);
    expectRateLimited(limited);
    expect(limited.headers['retry-after']).toBe('7');
  });

  it('throws ConfigError at start-up for misspelt options and for options the router owns', () => {
    const build = (rateLimit: Record<string, unknown>) => () => harness.app({ rateLimit: rateLimit as RateLimitOptions });
    expect(build({ windowMS: 60_000, limit: 5 })).toThrow(ConfigError);
    expect(build({ windowMS: 60_000, limit: 5 })).toThrow(/rateLimit\.windowMS` is not an express-rate-limit option/);
    // A callback-style store of express-rate-limit 5, or anything else, is refused at start-up too.
    expect(build({ store: { incr: () => undefined, decrement: () => undefined, resetKey: () => undefined } })).toThrow(
      /`rateLimit\.store` must be an express-rate-limit Store/,
    );
    let thrown: unknown;
    try {
      build({ message: 'slow down', statusCode: 503, passOnStoreError: false, logger: console, handler: () => undefined })();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems).toEqual([
      expect.stringMatching(/^remove `rateLimit\.message`/),
      expect.stringMatching(/^remove `rateLimit\.statusCode`/),
      expect.stringMatching(/^remove `rateLimit\.passOnStoreError`: the rate limit always fails open/),
      expect.stringMatching(/^remove `rateLimit\.logger`/),
      expect.stringMatching(/^remove `rateLimit\.handler`/),
    ]);
  });

  it('fails open with a warning naming the request when the store rejects or hangs', async () => {
    let calls = 0;
    const broken: Store = {
      increment: () => (++calls === 1 ? Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')) : new Promise<never>(() => undefined)),
      decrement: async () => undefined,
      resetKey: async () => undefined,
    };
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 1, store: broken } });
    const first = await post(app).expect(201);
    expect(harness.lines.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        fields: { requestId: first.headers['x-request-id'], op: 'increment', err: 'ECONNREFUSED 127.0.0.1:6379' },
        message: expect.stringMatching(/^rate limit: store failed, request allowed without the limit/),
      },
    ]);
    // Within the cool-down the store is not asked; the request goes on at once.
    await post(app).expect(201);
    expect(calls).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, RATE_LIMIT_STORE_COOL_DOWN_MS + 20));
    // Then it is asked again: a hanging call is cut off after the store timeout.
    const hung = await post(app).expect(201);
    expect(calls).toBe(2);
    expect(harness.lines.filter((line) => line.fields.requestId === hung.headers['x-request-id'] && line.level === 'warn')).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ op: 'increment', err: `timed out after ${RATE_LIMIT_STORE_TIMEOUT_MS} ms` }) }),
    ]);
    expect(harness.standIn.sessionRequests).toHaveLength(3);
  });
});
