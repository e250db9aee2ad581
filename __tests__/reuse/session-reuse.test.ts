import { createClient } from 'redis';
import { ResursCheckoutError } from '../../src/errors';
import type { CheckoutSession } from '../../src/resurs/session';
import { MemorySessionStore } from '../../src/store/memory-store';
import { RedisSessionStore } from '../../src/store/redis-store';
import { createSessionReuse } from '../../src/reuse/session-reuse';
import type { SessionStore } from '../../src/store/session-store';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';
import { recordingLogger } from '../helpers/recording-logger';

const T0 = Date.parse('2025-06-01T12:00:00Z');
const LIFETIME_MS = 30 * 60_000;
const MARGIN_S = 60;

/** A `create` that counts calls and hands out sessions expiring LIFETIME_MS after `clock()`. */
function creator(clock: () => number, delayMs = 0) {
  let n = 0;
  const create = jest.fn(async (): Promise<CheckoutSession> => {
    const id = `session-${++n}`;
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return { id, expiresAt: new Date(clock() + LIFETIME_MS).toISOString(), embed: { src: `https://cdn.example/${id}.js` } };
  });
  return create;
}

/** Records every key and ttl that reaches the inner store. */
function recordingStore(inner: SessionStore, withAdd = true) {
  const sets: Array<{ key: string; ttlMs: number }> = [];
  const keys = new Set<string>();
  const store: SessionStore = {
    get: (key) => (keys.add(key), inner.get(key)),
    set: (key, value, ttlMs) => (keys.add(key), sets.push({ key, ttlMs }), inner.set(key, value, ttlMs)),
    delete: (key) => (keys.add(key), inner.delete(key)),
  };
  if (withAdd && inner.add) {
    const add = inner.add.bind(inner);
    store.add = (key, value, ttlMs) => (keys.add(key), add(key, value, ttlMs));
  }
  return { store, sets, keys };
}

describe('createSessionReuse', () => {
  let clock: number;
  const now = (): number => clock;
  beforeEach(() => {
    clock = T0;
  });

  function setup(store: SessionStore = new MemorySessionStore()) {
    const log = recordingLogger();
    const reuse = createSessionReuse({ store, marginSeconds: MARGIN_S, logger: log.logger, now, pollMs: 5, lockTtlMs: 500 });
    return { reuse, ...log };
  }

  it('reuses a session with margin + 1 s left but not one with margin or margin - 1 s left', async () => {
    const { reuse } = setup();
    const create = creator(now);
    const first = await reuse.get('cart-1', undefined, create);
    const expiresAt = Date.parse(first.expiresAt);

    clock = expiresAt - (MARGIN_S + 1) * 1000;
    await expect(reuse.get('cart-1', undefined, create)).resolves.toEqual(first);
    expect(create).toHaveBeenCalledTimes(1);

    clock = expiresAt - MARGIN_S * 1000;
    const second = await reuse.get('cart-1', undefined, create);
    expect(second.id).toBe('session-2');

    clock = Date.parse(second.expiresAt) - (MARGIN_S - 1) * 1000;
    await expect(reuse.get('cart-1', undefined, create)).resolves.toMatchObject({ id: 'session-3' });
    expect(create).toHaveBeenCalledTimes(3);
  });

  it('stores with ttl = expiresAt - now - margin, under hashed keys only', async () => {
    const { store, sets, keys } = recordingStore(new MemorySessionStore());
    const { reuse } = setup(store);
    await reuse.get('user:alice@example.com', 'SUMMER_SALE', creator(now));
    expect(sets).toEqual([{ key: expect.stringMatching(/^session:[0-9a-f]{64}$/), ttlMs: LIFETIME_MS - MARGIN_S * 1000 }]);
    for (const key of keys) {
      expect(key).toMatch(/^(lock:)?session:[0-9a-f]{64}$/);
    }
    expect([...keys].join()).not.toContain('alice');
  });

  it('does not store a session that is already within the margin', async () => {
    const { store, sets } = recordingStore(new MemorySessionStore());
    const { reuse } = setup(store);
    const create = jest.fn(async () => ({ id: 'short', expiresAt: new Date(clock + 30_000).toISOString(), embed: { src: 'https://cdn.example/s.js' } }));
    await reuse.get('k', undefined, create);
    await reuse.get('k', undefined, create);
    expect(sets).toHaveLength(0);
    expect(create).toHaveBeenCalledTimes(2);
  });

  it('shares one create between 50 concurrent gets with the same key', async () => {
    const { reuse } = setup();
    const create = creator(now, 20);
    const sessions = await Promise.all(Array.from({ length: 50 }, () => reuse.get('cart', 'A', create)));
    expect(create).toHaveBeenCalledTimes(1);
    expect(new Set(sessions.map((s) => s.id))).toEqual(new Set(['session-1']));
  });

  it('keeps keys and campaigns apart, without collisions', async () => {
    const { reuse } = setup();
    const create = creator(now);
    const pairs: Array<[string, string | undefined]> = [
      ['x', undefined],
      ['x', 'A'],
      ['x', 'B'],
      ['x:A', undefined],
      ['x', 'null'],
      ['["x","A"]', undefined],
    ];
    const ids = [];
    for (const [key, campaign] of pairs) ids.push((await reuse.get(key, campaign, create)).id);
    expect(new Set(ids).size).toBe(pairs.length);
    for (const [i, [key, campaign]] of pairs.entries()) {
      await expect(reuse.get(key, campaign, create)).resolves.toMatchObject({ id: ids[i] });
    }
    expect(create).toHaveBeenCalledTimes(pairs.length);
  });

  it('propagates a create failure to every waiter, does not cache it and releases the lock', async () => {
    const { store, keys } = recordingStore(new MemorySessionStore());
    const { reuse } = setup(store);
    const failing = jest.fn(async (): Promise<CheckoutSession> => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error('upstream down');
    });
    const results = await Promise.allSettled([reuse.get('k', undefined, failing), reuse.get('k', undefined, failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(failing).toHaveBeenCalledTimes(1);

    const lockKey = [...keys].find((key) => key.startsWith('lock:'));
    expect(lockKey).toBeDefined();
    await expect(store.get(lockKey ?? '')).resolves.toBeUndefined();

    const create = creator(now);
    const started = Date.now();
    await expect(reuse.get('k', undefined, create)).resolves.toMatchObject({ id: 'session-1' });
    expect(Date.now() - started).toBeLessThan(400); // no wait on a stale lock (lockTtlMs is 500)
  });

  it('ignores a corrupt stored value with a warning', async () => {
    const inner = new MemorySessionStore();
    const { store, sets } = recordingStore(inner);
    const { reuse, warns } = setup(store);
    const create = creator(now);
    await reuse.get('k', undefined, create);
    const storageKey = sets[0]?.key ?? '';
    for (const corrupt of ['not json', '{"id":"x"}', 'null', '{"id":"x","expiresAt":"soon","embed":{"src":"s"}}']) {
      await inner.set(storageKey, corrupt, 60_000);
      const session = await reuse.get('k', undefined, create);
      expect(session.id).toBe(`session-${create.mock.calls.length}`);
    }
    expect(create).toHaveBeenCalledTimes(5);
    expect(warns()).toHaveLength(4);
    expect(warns()[0]?.message).toMatch(/session reuse: ignoring a stored session/);
  });

  it('works with a store without add: create, then set', async () => {
    const { store, sets } = recordingStore(new MemorySessionStore(), false);
    const { reuse } = setup(store);
    const create = creator(now);
    await reuse.get('k', undefined, create);
    await expect(reuse.get('k', undefined, create)).resolves.toMatchObject({ id: 'session-1' });
    expect(sets).toHaveLength(1);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('never fails the checkout when the store fails, and warns on the per-request logger', async () => {
    const broken: SessionStore = {
      get: () => Promise.reject(new Error('ECONNREFUSED')),
      set: () => Promise.reject(new Error('ECONNREFUSED')),
      delete: () => Promise.reject(new Error('ECONNREFUSED')),
      add: () => Promise.reject(new Error('ECONNREFUSED')),
    };
    const { reuse, lines } = setup(broken);
    const request = recordingLogger();
    const create = creator(now);
    await expect(reuse.get('k', undefined, create, request.logger)).resolves.toMatchObject({ id: 'session-1' });
    expect(lines).toHaveLength(0);
    // After the failed get the store rests (cool-down): the rest of the request does without it.
    expect(request.warns().map((line) => line.fields.op)).toEqual(['get']);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('waits for another instance holding the lock, then falls back to creating after lockTtlMs', async () => {
    const shared = new MemorySessionStore();
    const a = setup(shared);
    const b = setup(shared);
    const slow = creator(now, 60);
    const fast = creator(now);
    const [fromA, fromB] = await Promise.all([a.reuse.get('k', undefined, slow), b.reuse.get('k', undefined, fast)]);
    expect(fromB).toEqual(fromA);
    expect(slow.mock.calls.length + fast.mock.calls.length).toBe(1);

    const stuck = { ...recordingStore(new MemorySessionStore()).store, add: async () => false };
    const c = setup(stuck);
    const create = creator(now);
    const started = Date.now();
    await expect(c.reuse.get('other', undefined, create)).resolves.toMatchObject({ id: 'session-1' });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(5000);
    expect(c.warns().map((line) => line.message)).toEqual([expect.stringMatching(/creation lock/)]);
  });

  it('a waiter whose budget runs out answers 504 upstream_timeout, and does not create a second session', async () => {
    const shared = new MemorySessionStore();
    const a = setup(shared);
    const b = createSessionReuse({ store: shared, marginSeconds: MARGIN_S, logger: recordingLogger().logger, now, lockTtlMs: 5_000 });
    const hanging = jest.fn(() => new Promise<CheckoutSession>(() => undefined)); // Resurs does not answer
    void a.reuse.get('k', undefined, hanging).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20)); // a holds the lock
    const second = creator(now);
    const request = recordingLogger();
    const started = Date.now();
    const error: unknown = await b.get('k', undefined, second, request.logger, { budgetMs: 150 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(450);
    expect(error).toBeInstanceOf(ResursCheckoutError);
    expect(error).toMatchObject({ code: 'upstream_timeout', status: 504 });
    expect(second).not.toHaveBeenCalled();
    expect(hanging).toHaveBeenCalledTimes(1);
    expect(request.warns().map((line) => line.message)).toEqual([expect.stringMatching(/session reuse: .*ran out of time/)]);
  });

  it("a waiter stops when its shopper's signal aborts, with that reason", async () => {
    const shared = new MemorySessionStore();
    const a = setup(shared);
    const b = setup(shared);
    void a.reuse.get('k', undefined, () => new Promise<CheckoutSession>(() => undefined)).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const gone = new AbortController();
    const reason = new Error('the storefront closed the request');
    setTimeout(() => gone.abort(reason), 50);
    const second = creator(now);
    await expect(b.reuse.get('k', undefined, second, undefined, { signal: gone.signal })).rejects.toBe(reason);
    expect(second).not.toHaveBeenCalled();
  });

  it('one waiter running out of time does not stop another waiting for the same key', async () => {
    const shared = new MemorySessionStore();
    const a = setup(shared);
    const b = createSessionReuse({ store: shared, marginSeconds: MARGIN_S, logger: recordingLogger().logger, now, lockTtlMs: 5_000, pollMs: 5 });
    const slow = creator(now, 200);
    const fromA = a.reuse.get('k', undefined, slow);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const other = creator(now);
    const [short, long] = await Promise.allSettled([
      b.get('k', undefined, other, undefined, { budgetMs: 50 }),
      b.get('k', undefined, other, undefined, { budgetMs: 2_000 }),
    ]);
    expect(short).toMatchObject({ status: 'rejected', reason: { code: 'upstream_timeout' } });
    expect(long).toEqual({ status: 'fulfilled', value: await fromA });
    expect(other).not.toHaveBeenCalled();
    expect(slow).toHaveBeenCalledTimes(1);
  });

  it('two instances create once when the lock is slower than storeTimeoutMs (a slow Redis)', async () => {
    const inner = new MemorySessionStore();
    /** Each instance has its own connection (own store object) to the one slow store. */
    const slowLock = (): SessionStore => ({
      get: (key) => inner.get(key),
      set: (key, value, ttlMs) => inner.set(key, value, ttlMs),
      delete: (key) => inner.delete(key),
      deleteIfEquals: (key, value) => inner.deleteIfEquals(key, value),
      add: async (key, value, ttlMs) => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        return inner.add(key, value, ttlMs);
      },
    });
    const make = () => createSessionReuse({ store: slowLock(), marginSeconds: MARGIN_S, logger: recordingLogger().logger, now, storeTimeoutMs: 50, pollMs: 5 });
    const [a, b] = [make(), make()];
    const create = creator(now, 20);
    const [one, two] = await Promise.all([a.get('k', undefined, create), b.get('k', undefined, create)]);
    expect(create).toHaveBeenCalledTimes(1);
    expect(two).toEqual(one);
  });

  it('a lock whose add timed out is released once it lands: the next shopper does not wait for it', async () => {
    const inner = new MemorySessionStore();
    let firstAdd = true;
    const connection = (): SessionStore => ({
      get: (key) => inner.get(key),
      set: (key, value, ttlMs) => inner.set(key, value, ttlMs),
      delete: (key) => inner.delete(key),
      deleteIfEquals: (key, value) => inner.deleteIfEquals(key, value),
      add: async (key, value, ttlMs) => {
        if (firstAdd) {
          firstAdd = false;
          await new Promise((resolve) => setTimeout(resolve, 300)); // one slow reply: the SET lands late
        }
        return inner.add(key, value, ttlMs);
      },
    });
    const options = { marginSeconds: MARGIN_S, now, storeTimeoutMs: 50, lockTimeoutMs: 100, storeCoolDownMs: 5_000, lockTtlMs: 10_000, pollMs: 5 };
    const a = createSessionReuse({ ...options, store: connection(), logger: recordingLogger().logger });
    const create = creator(now);
    await expect(a.get('k', undefined, create)).resolves.toMatchObject({ id: 'session-1' }); // without the lock
    await new Promise((resolve) => setTimeout(resolve, 400)); // the late SET has landed by now
    const b = createSessionReuse({ ...options, store: connection(), logger: recordingLogger().logger });
    const started = Date.now();
    await expect(b.get('k', undefined, create, undefined, { budgetMs: 3_000 })).resolves.toBeDefined();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("serves a stored session only when the reading router's own check accepts it", async () => {
    const shared = new MemorySessionStore();
    const lenient = setup(shared);
    const first = await lenient.reuse.get('k', undefined, creator(now)); // https://cdn.example/session-1.js
    const log = recordingLogger();
    const check = jest.fn((stored: unknown): CheckoutSession | string => {
      const src = (stored as CheckoutSession).embed.src;
      return src.startsWith('https://scripts.example/') ? (stored as CheckoutSession) : '`embed.src` comes from https://cdn.example, which is not in allowedScriptOrigins';
    });
    const strict = createSessionReuse({ store: shared, marginSeconds: MARGIN_S, logger: log.logger, now, pollMs: 5, check });
    const own = jest.fn(async (): Promise<CheckoutSession> => ({ id: 'strict-1', expiresAt: first.expiresAt, embed: { src: 'https://scripts.example/a.js' } }));
    await expect(strict.get('k', undefined, own)).resolves.toMatchObject({ id: 'strict-1' });
    expect(own).toHaveBeenCalledTimes(1);
    expect(check).toHaveBeenCalled();
    expect(log.warns().map((line) => line.message)).toEqual([expect.stringMatching(/session reuse: ignoring a stored session .*allowedScriptOrigins/)]);
    // Its own session replaced the refused entry, and it is served from the store from now on.
    await expect(strict.get('k', undefined, own)).resolves.toMatchObject({ id: 'strict-1' });
    expect(own).toHaveBeenCalledTimes(1);
  });

  it('rejects a negative margin', () => {
    expect(() => createSessionReuse({ store: new MemorySessionStore(), marginSeconds: -1, logger: recordingLogger().logger })).toThrow(TypeError);
  });
});

describeWithRedis('createSessionReuse over Redis', () => {
  let server: RedisServer;
  let client: ReturnType<typeof createClient>;
  let store: RedisSessionStore;

  beforeAll(async () => {
    server = await startRedisServer();
    client = createClient({ url: server.url });
    client.on('error', () => undefined);
    await client.connect();
    store = new RedisSessionStore({ sendCommand: (...args) => client.sendCommand(args) });
  });

  afterAll(async () => {
    client?.destroy();
    await server?.stop();
  });

  it('two instances (two processes) share one create across a burst', async () => {
    const make = () => createSessionReuse({ store, marginSeconds: MARGIN_S, logger: recordingLogger().logger });
    const [one, two] = [make(), make()];
    const create = creator(Date.now, 50);
    const burst = Array.from({ length: 40 }, (_, i) => (i % 2 ? one : two).get('burst', 'A', create));
    const sessions = await Promise.all(burst);
    expect(create).toHaveBeenCalledTimes(1);
    expect(new Set(sessions.map((s) => s.id)).size).toBe(1);
    await expect(two.get('burst', 'A', create)).resolves.toEqual(sessions[0]);
    expect(await client.keys('resurs-checkout:lock:*')).toEqual([]);
  });

  it('keeps checkouts working while Redis is down, with a warning, and recovers', async () => {
    const log = recordingLogger();
    const reuse = createSessionReuse({ store, marginSeconds: MARGIN_S, logger: log.logger, storeTimeoutMs: 200, storeCoolDownMs: 0 });
    const create = creator(Date.now);
    const before = await reuse.get('down', undefined, create);

    await server.stop();
    const during = await reuse.get('down', undefined, create);
    expect(during.id).not.toBe(before.id);
    expect(log.warns().length).toBeGreaterThanOrEqual(1);
    expect(log.warns()[0]?.message).toMatch(/^session reuse: store failed, continuing without it/);

    await server.start();
    for (let i = 0; i < 200 && !client.isReady; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.isReady).toBe(true);
    const after = await reuse.get('down', undefined, create);
    await expect(reuse.get('down', undefined, create)).resolves.toEqual(after);
  });
});
