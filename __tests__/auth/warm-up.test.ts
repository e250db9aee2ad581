/**
 * Warm start (contract "Warm start"): `warmUp()` fetches the token before the first shopper;
 * with client credentials the token is renewed in the background before it is due (one refresh
 * in flight, across instances sharing `auth.store`), so no shopper waits on a token fetch.
 * Time is driven by jest's fake clock and a stubbed token endpoint, never by sleeping.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { AxiosInstance } from 'axios';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import { MemorySessionStore, RedisSessionStore, ResursCheckoutError, createCheckoutRouter, createResursClient } from '../../src';
import type { ClientCredentialsAuth, SessionStore } from '../../src';
import { BACKGROUND_REFRESH_AT, createClientCredentialsSource } from '../../src/auth/client-credentials';
import type { TokenSource } from '../../src/auth/token-source';
import { silentLogger } from '../../src/logger';
import { useHarness } from '../helpers/checkout-app';
import { closedPort } from '../helpers/loopback-servers';
import { logText } from '../helpers/recording-logger';
import { connectRedis, sendCommandOf, type RedisClient } from '../helpers/redis-client';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

const harness = useHarness();

const credentials = (more: Partial<ClientCredentialsAuth> = {}): ClientCredentialsAuth => ({
  clientId: DEMO_CLIENT_ID,
  clientSecret: DEMO_CLIENT_SECRET,
  tokenUrl: harness.standIn.tokenUrl,
  ...more,
});

const clientOptions = (auth: ClientCredentialsAuth) => ({ storeId: 'test-store', baseUrl: harness.standIn.baseUrl, auth });

describe('warmUp against the stand-in', () => {
  it('client.warmUp() makes one token request, and the next session request makes none', async () => {
    const client = createResursClient(clientOptions(credentials()));
    try {
      await expect(client.warmUp()).resolves.toBeUndefined();
      expect(harness.standIn.tokenRequests).toHaveLength(1);
      await client.createSession();
      expect(harness.standIn.tokenRequests).toHaveLength(1);
      expect(harness.standIn.sessionRequests).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('router.warmUp() does the same for the router', async () => {
    const router = createCheckoutRouter({ ...clientOptions(credentials()), logger: silentLogger });
    try {
      await router.warmUp();
      expect(harness.standIn.tokenRequests).toHaveLength(1);
    } finally {
      router.close?.();
    }
  });

  it('rejects with ResursCheckoutError upstream_error when Resurs refuses the credentials', async () => {
    const client = createResursClient(clientOptions(credentials({ clientSecret: 'wrong-secret-value' })));
    const error: unknown = await client.warmUp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResursCheckoutError);
    expect(error).toMatchObject({ code: 'upstream_error', status: 502 });
    expect(String(error)).not.toContain('wrong-secret-value');
    client.close();
  });

  it('rejects with upstream_unavailable when the token endpoint is down', async () => {
    const port = await closedPort();
    const client = createResursClient(clientOptions(credentials({ tokenUrl: `http://127.0.0.1:${port}/oauth2/token` })));
    const error: unknown = await client.warmUp().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResursCheckoutError);
    expect(error).toMatchObject({ code: 'upstream_unavailable', status: 503 });
    client.close();
  });

  it('never logs the secret or the token', async () => {
    const client = createResursClient({ ...clientOptions(credentials()), logger: harnessLogger() });
    await client.warmUp();
    client.close();
    expect(logText(harness.lines)).not.toContain(DEMO_CLIENT_SECRET);
  });
});

/** The harness's recording logger, by building an app once (its logger records into `harness.lines`). */
function harnessLogger() {
  const lines = harness.lines;
  const record = (level: 'debug' | 'info' | 'warn' | 'error') => (fields: Record<string, unknown>, message: string) => lines.push({ level, fields, message });
  return { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
}

/** A token endpoint stand-in without sockets: hands out `token-1`, `token-2`, … living `expiresIn` seconds. */
function stubEndpoint(expiresIn = 3600, counter: { calls: number; issuedAt?: number[] } = { calls: 0 }) {
  const http = {
    post: jest.fn(async () => {
      const n = ++counter.calls;
      counter.issuedAt?.push(Date.now());
      return { status: 200, data: JSON.stringify({ access_token: `token-${n}`, token_type: 'Bearer', expires_in: expiresIn }) };
    }),
  } as unknown as AxiosInstance;
  return { http, counter };
}

/** Moves the fake clock to `at`, firing every timer due on the way. */
const advanceTo = (at: number): Promise<void> => jest.advanceTimersByTimeAsync(Math.max(0, at - Date.now()));

const context = { signal: new AbortController().signal, log: silentLogger };
const HOUR_MS = 3600_000;
/** A one-hour token is used until a minute before it expires, and renewed at 80 % of that. */
const DUE_MS = HOUR_MS - 60_000;
const RENEW_MS = DUE_MS * BACKGROUND_REFRESH_AT;
const FAKE = { doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask'] as const, now: Date.parse('2025-06-01T12:00:00Z') };

describe('background refresh (fake clock)', () => {
  let sources: TokenSource[] = [];
  const source = (auth: Partial<ClientCredentialsAuth>, http: AxiosInstance): TokenSource => {
    const made = createClientCredentialsSource({ clientId: 'id', clientSecret: 'secret', tokenUrl: 'http://127.0.0.1:1/token', ...auth }, { http, timeoutMs: 5_000, logger: silentLogger });
    sources.push(made);
    return made;
  };

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: [...FAKE.doNotFake], now: FAKE.now });
  });
  afterEach(() => {
    for (const made of sources) made.close();
    sources = [];
    jest.useRealTimers();
  });

  it('fetches a new token before the old one is due; a request right after the due time makes no token request', async () => {
    const { http, counter } = stubEndpoint();
    const tokens = source({}, http);
    await tokens.warmUp(silentLogger);
    expect(counter.calls).toBe(1);

    await jest.advanceTimersByTimeAsync(RENEW_MS - 1_000);
    expect(counter.calls).toBe(1); // not yet
    await jest.advanceTimersByTimeAsync(2_000);
    expect(counter.calls).toBe(2); // renewed in the background, while token-1 still serves

    await advanceTo(FAKE.now + DUE_MS + 1); // token-1 is due now
    await expect(tokens.getToken(context)).resolves.toBe('token-2');
    expect(counter.calls).toBe(2);

    // And so on, one renewal per token.
    await jest.advanceTimersByTimeAsync(HOUR_MS);
    expect(counter.calls).toBe(3);
  });

  it('keeps serving the current token while a background refresh fails, and tries again', async () => {
    const { http, counter } = stubEndpoint();
    const tokens = source({}, http);
    await tokens.getToken(context);
    (http.post as jest.Mock).mockImplementationOnce(async () => {
      counter.calls++;
      return { status: 503, data: '' };
    });
    await jest.advanceTimersByTimeAsync(RENEW_MS + 1);
    expect(counter.calls).toBe(2);
    await expect(tokens.getToken(context)).resolves.toBe('token-1');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(counter.calls).toBe(3);
    await advanceTo(FAKE.now + DUE_MS + 1);
    await expect(tokens.getToken(context)).resolves.toBe('token-3');
    expect(counter.calls).toBe(3);
  });

  it('a token living longer than setTimeout can wait (24.8 days) is renewed once, not in a loop', async () => {
    const { http, counter } = stubEndpoint(60 * 24 * 3600);
    const tokens = source({}, http);
    await tokens.warmUp(silentLogger);
    await jest.advanceTimersByTimeAsync(10 * 60_000);
    expect(counter.calls).toBe(1);
    await jest.advanceTimersByTimeAsync(50 * 24 * HOUR_MS);
    expect(counter.calls).toBe(2);
  });

  it('close() stops the background refresh', async () => {
    const { http, counter } = stubEndpoint();
    const tokens = source({}, http);
    await tokens.warmUp(silentLogger);
    expect(jest.getTimerCount()).toBe(1);
    tokens.close();
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(2 * HOUR_MS);
    expect(counter.calls).toBe(1);
  });
});

describe('warmUp while another instance holds the token lock', () => {
  it('waits the lock out and fetches, instead of timing out after timeoutMs', async () => {
    const inner = new MemorySessionStore();
    const heldUntil = Date.now() + 400; // an instance that crashed holding the lock; it expires at 400 ms
    const store: SessionStore = {
      get: (key) => inner.get(key),
      set: (key, value, ttlMs) => inner.set(key, value, ttlMs),
      delete: (key) => inner.delete(key),
      deleteIfEquals: (key, value) => inner.deleteIfEquals(key, value),
      add: async (key, value, ttlMs) => (Date.now() < heldUntil ? false : inner.add(key, value, ttlMs)),
    };
    const { http, counter } = stubEndpoint();
    const tokens = createClientCredentialsSource(
      { clientId: 'id', clientSecret: 'secret', tokenUrl: 'http://127.0.0.1:1/token', store },
      { http, timeoutMs: 300, logger: silentLogger },
    );
    try {
      await expect(tokens.warmUp(silentLogger)).resolves.toBeUndefined();
      expect(counter.calls).toBe(1);
    } finally {
      tokens.close();
    }
  });
});

describe('the refresh timer does not keep the process alive', () => {
  it('a process that warmed up and did nothing else exits on its own', () => {
    const script = `
      const { createClientCredentialsSource } = require(${JSON.stringify(resolve(__dirname, '../../src/auth/client-credentials.ts'))});
      const logger = { debug() {}, info() {}, warn() {}, error() {} };
      const http = { post: async () => ({ status: 200, data: JSON.stringify({ access_token: 'a', expires_in: 3600 }) }) };
      const source = createClientCredentialsSource({ clientId: 'id', clientSecret: 's', tokenUrl: 'http://127.0.0.1:1/t' }, { http, timeoutMs: 1000, logger });
      source.warmUp(logger).then(() => console.log('warm'));
    `;
    const started = Date.now();
    const run = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: resolve(__dirname, '../..'), timeout: 20_000, encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('warm');
    expect(run.signal).toBeNull(); // not killed by the timeout
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describeWithRedis('background refresh shared through Redis (fake clock)', () => {
  let redis: RedisServer;
  let clientA: RedisClient;
  let clientB: RedisClient;

  beforeAll(async () => {
    redis = await startRedisServer();
    [clientA, clientB] = await Promise.all([connectRedis(redis.url), connectRedis(redis.url)]);
  });
  afterAll(async () => {
    clientA?.destroy();
    clientB?.destroy();
    await redis?.stop();
  });

  const realTimers = jest.requireActual<typeof import('node:timers')>('node:timers');
  /** Lets fake time pass in small steps while real I/O (Redis) goes on. */
  async function runFor(ms: number, step = 10): Promise<void> {
    for (let passed = 0; passed < ms; passed += step) {
      await jest.advanceTimersByTimeAsync(step);
      // A little real time per fake step, so Redis' replies keep up with the fake clock even on a busy machine.
      await new Promise((resolveTick) => realTimers.setTimeout(resolveTick, 2));
    }
  }

  it('two sources sharing one Redis store make one token request per refresh between them', async () => {
    await clientA.flushAll();
    jest.useFakeTimers({ doNotFake: [...FAKE.doNotFake], now: FAKE.now });
    const made: TokenSource[] = [];
    try {
      const counter = { calls: 0, issuedAt: [] as number[] };
      const make = (client: RedisClient) => {
        const { http } = stubEndpoint(3600, counter);
        const tokens = createClientCredentialsSource(
          { clientId: 'id', clientSecret: 'secret', tokenUrl: 'http://127.0.0.1:1/token', store: new RedisSessionStore({ sendCommand: sendCommandOf(client) }) },
          { http, timeoutMs: 5_000, logger: silentLogger },
        );
        made.push(tokens);
        return tokens;
      };
      const [a, b] = [make(clientA), make(clientB)];
      // Both start cold at once: one fetches, the other waits on its lock (its polls need time to pass).
      const warm = Promise.all([a.warmUp(silentLogger), b.warmUp(silentLogger)]);
      await runFor(500);
      await warm;
      expect(counter.calls).toBe(1);

      for (let refresh = 1; refresh <= 2; refresh++) {
        const issued = counter.issuedAt[refresh - 1]!;
        // Both instances' timers fire at the same moment: one fetches, the other takes its token.
        await advanceTo(issued + RENEW_MS - 100);
        expect(counter.calls).toBe(refresh);
        await runFor(1_000);
        expect(counter.calls).toBe(refresh + 1);
        await advanceTo(issued + DUE_MS + 1); // the old token is due: neither instance fetches
        await expect(a.getToken(context)).resolves.toBe(`token-${refresh + 1}`);
        await expect(b.getToken(context)).resolves.toBe(`token-${refresh + 1}`);
        expect(counter.calls).toBe(refresh + 1);
      }
    } finally {
      for (const tokens of made) tokens.close();
      jest.useRealTimers();
    }
  });
});
