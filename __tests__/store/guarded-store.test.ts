import { guardStore } from '../../src/store/guarded-store';
import { MemorySessionStore } from '../../src/store/memory-store';
import type { SessionStore } from '../../src/store/session-store';
import { busyFor, withAnsweringPeer } from '../helpers/answering-peer';
import { recordingLogger } from '../helpers/recording-logger';

const SECRET = 'eyJhbGciOiJIUzI1NiJ9.secret-token-value';

const throwing: Required<Omit<SessionStore, 'deleteIfEquals'>> = {
  get: () => {
    throw new Error('sync failure');
  },
  set: () => Promise.reject(new Error('connection refused')),
  delete: () => Promise.reject(new Error('connection refused')),
  add: () => {
    throw new Error('sync failure');
  },
};

const hanging: Required<Omit<SessionStore, 'deleteIfEquals'>> = {
  get: () => new Promise(() => undefined),
  set: () => new Promise(() => undefined),
  delete: () => new Promise(() => undefined),
  add: () => new Promise(() => undefined),
};

describe('guardStore', () => {
  it.each([
    ['throws or rejects', throwing, /sync failure|connection refused/],
    ['hangs past the timeout', hanging, /timed out after 30 ms/],
  ])('degrades every operation when the store %s, with one warning each', async (_, inner, reason) => {
    const { logger, lines, warns } = recordingLogger();
    const store = guardStore(inner, { timeoutMs: 30, lockTimeoutMs: 30, coolDownMs: 0, logger, what: 'session reuse' });

    await expect(store.get('k')).resolves.toBeUndefined();
    await expect(store.set('k', SECRET, 1000)).resolves.toBeUndefined();
    await expect(store.delete('k')).resolves.toBeUndefined();
    // The lock cannot be had: "go on without it", never "held".
    await expect(store.lock?.('k', 1000)).resolves.toEqual({ state: 'unavailable' });

    expect(lines).toHaveLength(4);
    expect(warns().map((line) => line.fields.op)).toEqual(['get', 'set', 'delete', 'lock']);
    for (const line of warns()) {
      expect(line.message).toMatch(/^session reuse: store failed, continuing without it: /);
      expect(String(line.fields.err)).toMatch(reason);
    }
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it('gives up on a hanging call after about timeoutMs', async () => {
    const { logger } = recordingLogger();
    const store = guardStore(hanging, { timeoutMs: 50, coolDownMs: 0, logger, what: 'x' });
    const started = Date.now();
    await store.get('k');
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(1000);
  });

  it('passes a working store through without logging', async () => {
    const { logger, lines } = recordingLogger();
    const store = guardStore(new MemorySessionStore(), { logger, what: 'x' });
    await store.set('k', 'v', 10_000);
    await expect(store.get('k')).resolves.toBe('v');
    const held = await store.lock?.('lock', 10_000);
    expect(held?.state).toBe('held');
    await expect(store.lock?.('lock', 10_000)).resolves.toEqual({ state: 'busy' });
    if (held?.state === 'held') await held.lock.release();
    await expect(store.lock?.('lock', 10_000)).resolves.toMatchObject({ state: 'held' });
    await store.delete('k');
    await expect(store.get('k')).resolves.toBeUndefined();
    expect(lines).toHaveLength(0);
  });

  it('offers a lock only when the store has add, and never a bare add', () => {
    const { logger } = recordingLogger();
    const { add: _, ...withoutAdd } = throwing;
    expect(guardStore(withoutAdd, { logger, what: 'x' }).lock).toBeUndefined();
    expect(typeof guardStore(throwing, { logger, what: 'x' }).lock).toBe('function');
    // A bare add cannot say "unknown": a timed-out add may still have set the key.
    expect(guardStore(throwing, { logger, what: 'x' }).add).toBeUndefined();
  });

  it('clears its timer once the call settles', async () => {
    jest.useFakeTimers();
    try {
      const { logger } = recordingLogger();
      const store = guardStore(new MemorySessionStore(), { timeoutMs: 60_000, logger, what: 'x' });
      await store.set('k', 'v', 1000);
      await store.get('k');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  // That the late rejection is not left unhandled is checked in a Node process of its own
  // (__tests__/faults/unhandled-rejections.test.ts): Jest 30 takes `unhandledRejection` first.
  it('a rejection after the timeout changes nothing: the fallback, one warning (the timeout), none for the late error', async () => {
    const { logger, warns } = recordingLogger();
    let reject: (error: Error) => void = () => undefined;
    const late: SessionStore = {
      ...hanging,
      get: () => new Promise((_, fail) => (reject = fail)),
    };
    await expect(guardStore(late, { timeoutMs: 10, coolDownMs: 0, logger, what: 'x' }).get('k')).resolves.toBeUndefined();
    reject(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(warns()).toHaveLength(1);
    expect(String(warns()[0]!.fields.err)).toMatch(/timed out after 10 ms/);
  });

  it('skips a failed store for coolDownMs, across guards, with one warning per guard', async () => {
    let clock = 1_000_000;
    const now = (): number => clock;
    let calls = 0;
    let failing = true;
    const flaky: SessionStore = {
      get: async () => {
        calls++;
        if (failing) throw new Error('connection refused');
        return 'v';
      },
      set: async () => void calls++,
      delete: async () => void calls++,
      add: async () => (calls++, true),
    };
    const first = recordingLogger();
    const one = guardStore(flaky, { coolDownMs: 1000, now, logger: first.logger, what: 'session reuse' });
    await expect(one.get('k')).resolves.toBeUndefined();
    await expect(one.lock?.('lock', 1000)).resolves.toEqual({ state: 'unavailable' });
    await one.set('k', 'v', 1000);
    await one.delete('lock');
    expect(calls).toBe(1); // only the failed get reached the store
    expect(first.warns().map((line) => line.fields.op)).toEqual(['get']);

    // Another guard of the same store (the next request) skips it too, and says so once.
    const second = recordingLogger();
    const two = guardStore(flaky, { coolDownMs: 1000, now, logger: second.logger, what: 'session reuse' });
    failing = false;
    clock += 999;
    await expect(two.get('k')).resolves.toBeUndefined();
    await two.set('k', 'v', 1000);
    expect(calls).toBe(1);
    expect(second.warns().map((line) => [line.fields.op, line.fields.err])).toEqual([['get', expect.stringMatching(/^failed less than 1000 ms ago/)]]);

    // Once the cool-down is over the store is asked again.
    clock += 2;
    const third = recordingLogger();
    await expect(guardStore(flaky, { coolDownMs: 1000, now, logger: third.logger, what: 'x' }).get('k')).resolves.toBe('v');
    expect(calls).toBe(2);
    expect(third.lines).toHaveLength(0);
  });

  it('does not give up on an answer that arrived while the event loop was busy (CPU load)', async () => {
    await withAnsweringPeer(async (ask) => {
      const overSocket: SessionStore = { get: ask, set: async () => undefined, delete: async () => undefined };
      const { logger, warns } = recordingLogger();
      const store = guardStore(overSocket, { timeoutMs: 200, coolDownMs: 0, logger, what: 'x' });
      const pending = store.get('k');
      busyFor(500); // the answer comes within a millisecond or two, but this loop is busy past the limit
      await expect(pending).resolves.toBe('v');
      expect(warns()).toHaveLength(0);
    });
  });
});

/** A memory store whose `add` answers late: the key is set when the answer comes, as Redis does. */
function slowAdd(inner: MemorySessionStore, delayMs: () => number): SessionStore {
  return {
    get: (key) => inner.get(key),
    set: (key, value, ttlMs) => inner.set(key, value, ttlMs),
    delete: (key) => inner.delete(key),
    deleteIfEquals: (key, value) => inner.deleteIfEquals(key, value),
    add: async (key, value, ttlMs) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs()));
      return inner.add(key, value, ttlMs);
    },
  };
}

describe('guardStore locks', () => {
  it('waits longer for a lock than for a read: an add slower than timeoutMs still takes it', async () => {
    const inner = new MemorySessionStore();
    const { logger, warns } = recordingLogger();
    const store = guardStore(slowAdd(inner, () => 150), { timeoutMs: 50, lockTimeoutMs: 1_000, coolDownMs: 0, logger, what: 'x' });
    const attempt = await store.lock?.('lock', 10_000);
    expect(attempt?.state).toBe('held');
    if (attempt?.state !== 'held') return;
    await expect(inner.get('lock')).resolves.toBe(attempt.lock.owner);
    await attempt.lock.release();
    await expect(inner.get('lock')).resolves.toBeUndefined();
    expect(warns()).toHaveLength(0);
  });

  it('a lock that took too long is "unavailable", and its owner releases it once the add lands, cool-down or not', async () => {
    const inner = new MemorySessionStore();
    const { logger, warns } = recordingLogger();
    const store = guardStore(slowAdd(inner, () => 150), { timeoutMs: 50, lockTimeoutMs: 50, coolDownMs: 60_000, logger, what: 'session reuse' });
    await expect(store.lock?.('lock', 60_000)).resolves.toEqual({ state: 'unavailable' });
    expect(warns().map((line) => [line.fields.op, line.message])).toEqual([['lock', expect.stringMatching(/^session reuse: store failed, continuing without it: lock: timed out/)]]);
    // The SET lands after we gave up on it; we still know our token, and let go.
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(inner.get('lock')).resolves.toBeUndefined();
  });

  it("releases by compare-and-delete, never another holder's lock, and even during a cool-down", async () => {
    const inner = new MemorySessionStore();
    let clock = 1_000_000;
    let failGet = false;
    const store = guardStore(
      { ...slowAdd(inner, () => 0), get: (key) => (failGet ? Promise.reject(new Error('down')) : inner.get(key)) },
      { coolDownMs: 10_000, now: () => clock, logger: recordingLogger().logger, what: 'x' },
    );
    const first = await store.lock?.('lock', 50);
    if (first?.state !== 'held') throw new Error('expected the lock');
    await new Promise((resolve) => setTimeout(resolve, 80)); // it expired; another instance takes it
    await inner.add('lock', 'theirs', 10_000);
    await first.lock.release();
    await expect(inner.get('lock')).resolves.toBe('theirs');

    await inner.delete('lock');
    const second = await store.lock?.('lock', 10_000);
    if (second?.state !== 'held') throw new Error('expected the lock');
    failGet = true;
    await store.get('k'); // the store rests from now on
    clock += 1;
    await second.lock.release();
    await expect(inner.get('lock')).resolves.toBeUndefined();
  });

  it('stops at the caller’s signal with its reason, and releases a lock that lands afterwards', async () => {
    const inner = new MemorySessionStore();
    const store = guardStore(slowAdd(inner, () => 150), { lockTimeoutMs: 5_000, coolDownMs: 0, logger: recordingLogger().logger, what: 'x' });
    const controller = new AbortController();
    const reason = new Error('out of time');
    setTimeout(() => controller.abort(reason), 30);
    await expect(store.lock?.('lock', 60_000, controller.signal)).rejects.toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await expect(inner.get('lock')).resolves.toBeUndefined();
  });
});
