import { guardStore } from '../../src/store/guarded-store';
import { MemorySessionStore } from '../../src/store/memory-store';
import type { SessionStore } from '../../src/store/session-store';
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
    const store = guardStore(inner, { timeoutMs: 30, coolDownMs: 0, logger, what: 'session reuse' });

    await expect(store.get('k')).resolves.toBeUndefined();
    await expect(store.set('k', SECRET, 1000)).resolves.toBeUndefined();
    await expect(store.delete('k')).resolves.toBeUndefined();
    await expect(store.add?.('k', SECRET, 1000)).resolves.toBe(true);

    expect(lines).toHaveLength(4);
    expect(warns().map((line) => line.fields.op)).toEqual(['get', 'set', 'delete', 'add']);
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
    await expect(store.add?.('k', 'w', 10_000)).resolves.toBe(false);
    await store.delete('k');
    await expect(store.get('k')).resolves.toBeUndefined();
    expect(lines).toHaveLength(0);
  });

  it('offers add only when the store does', () => {
    const { logger } = recordingLogger();
    const { add: _, ...withoutAdd } = throwing;
    expect(guardStore(withoutAdd, { logger, what: 'x' }).add).toBeUndefined();
    expect(typeof guardStore(throwing, { logger, what: 'x' }).add).toBe('function');
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

  it('does not leave a late rejection unhandled', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { logger, warns } = recordingLogger();
      const late: SessionStore = {
        ...hanging,
        get: () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 40)),
      };
      await expect(guardStore(late, { timeoutMs: 10, coolDownMs: 0, logger, what: 'x' }).get('k')).resolves.toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(unhandled).not.toHaveBeenCalled();
      expect(warns()).toHaveLength(1);
    } finally {
      process.off('unhandledRejection', unhandled);
    }
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
    await expect(one.add?.('lock', '1', 1000)).resolves.toBe(true);
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
});
