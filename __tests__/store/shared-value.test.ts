import { MemorySessionStore } from '../../src/store/memory-store';
import { getOrCreateShared } from '../../src/store/shared-value';
import type { SessionStore } from '../../src/store/session-store';

describe('getOrCreateShared', () => {
  it('returns the stored value without creating', async () => {
    const store = new MemorySessionStore();
    const create = jest.fn(async () => 'new');
    await expect(getOrCreateShared(store, 'lock', { read: async () => 'stored', create, lockTtlMs: 100, pollMs: 5 })).resolves.toBe('stored');
    expect(create).not.toHaveBeenCalled();
  });

  it('creates under the lock and lets it go afterwards', async () => {
    const store = new MemorySessionStore();
    let lockHeld: string | undefined;
    const value = await getOrCreateShared(store, 'lock', {
      read: async () => undefined,
      create: async () => {
        lockHeld = await store.get('lock');
        return 'new';
      },
      lockTtlMs: 1000,
      pollMs: 5,
    });
    expect(value).toBe('new');
    expect(lockHeld).toMatch(/^[0-9a-f-]{36}$/); // an owner token, not a bare marker

    await expect(store.get('lock')).resolves.toBeUndefined();
  });

  it("waits for the lock holder's value instead of creating", async () => {
    const store = new MemorySessionStore();
    await store.set('lock', '1', 1000); // another instance is creating
    let stored: string | undefined;
    setTimeout(() => (stored = 'theirs'), 30);
    const create = jest.fn(async () => 'mine');
    const value = await getOrCreateShared(store, 'lock', { read: async () => stored, create, lockTtlMs: 1000, pollMs: 5 });
    expect(value).toBe('theirs');
    expect(create).not.toHaveBeenCalled();
  });

  it('creates anyway, once, when the lock is held past its lifetime', async () => {
    const store: SessionStore = { get: async () => undefined, set: async () => undefined, delete: async () => undefined, add: async () => false };
    const onGiveUp = jest.fn();
    const create = jest.fn(async () => 'mine');
    await expect(getOrCreateShared(store, 'lock', { read: async () => undefined, create, lockTtlMs: 20, pollMs: 5, onGiveUp })).resolves.toBe('mine');
    expect(onGiveUp).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('creates straight away on a store without add', async () => {
    const plain: SessionStore = { get: async () => undefined, set: async () => undefined, delete: async () => undefined };
    const create = jest.fn(async () => 'mine');
    await expect(getOrCreateShared(plain, 'lock', { read: async () => undefined, create, lockTtlMs: 20, pollMs: 5 })).resolves.toBe('mine');
    expect(create).toHaveBeenCalledTimes(1);
  });

  it('stops waiting when its signal aborts: rejects with the reason and never creates', async () => {
    const store = new MemorySessionStore();
    await store.set('lock', 'another-instance', 10_000); // another instance is creating, for long
    const create = jest.fn(async () => 'mine');
    const started = Date.now();
    const pending = getOrCreateShared(store, 'lock', {
      read: async () => undefined,
      create,
      lockTtlMs: 5_000,
      pollMs: 5,
      signal: AbortSignal.timeout(100),
    });
    const error: unknown = await pending.catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(400);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(create).not.toHaveBeenCalled();
  });

  it('does not even look when the signal has aborted already', async () => {
    const controller = new AbortController();
    const reason = new Error('shopper gone');
    controller.abort(reason);
    const read = jest.fn(async () => undefined);
    const create = jest.fn(async () => 'mine');
    await expect(
      getOrCreateShared(new MemorySessionStore(), 'lock', { read, create, lockTtlMs: 100, pollMs: 5, signal: controller.signal }),
    ).rejects.toBe(reason);
    expect(create).not.toHaveBeenCalled();
  });

  it('backs off while it waits: 25 ms growing to 250 ms, not one look every 25 ms', async () => {
    const store = new MemorySessionStore();
    await store.set('lock', 'another-instance', 10_000);
    const reads: number[] = [];
    const started = Date.now();
    const read = async (): Promise<string | undefined> => {
      reads.push(Date.now() - started);
      return undefined;
    };
    await getOrCreateShared(store, 'lock', { read, create: async () => 'x', lockTtlMs: 30_000, pollMs: 25, signal: AbortSignal.timeout(1_500) }).catch(
      () => undefined,
    );
    // 25 + 50 + 100 + 200 + 250 + 250 + ... : about 10 looks in 1.5 s (a fixed 25 ms poll makes 60).
    expect(reads.length).toBeGreaterThanOrEqual(5);
    expect(reads.length).toBeLessThanOrEqual(13);
    const gaps = reads.slice(1).map((at, i) => at - reads[i]!);
    expect(Math.max(...gaps)).toBeLessThan(400);
    expect(gaps.slice(-2).every((gap) => gap >= 200)).toBe(true);
  });

  it("a holder whose lock expired while it created does not delete the next holder's lock", async () => {
    const store = new MemorySessionStore();
    const value = await getOrCreateShared(store, 'lock', {
      read: async () => undefined,
      create: async () => {
        await new Promise((resolve) => setTimeout(resolve, 60)); // longer than the lock lives
        await store.add('lock', 'next-holder', 10_000); // another instance took the expired lock
        return 'slow';
      },
      lockTtlMs: 20,
      pollMs: 5,
    });
    expect(value).toBe('slow');
    await expect(store.get('lock')).resolves.toBe('next-holder');
  });
});

describe('a failed creation, shared with the instances that waited for it', () => {
  it('the waiter rejects with the holder\'s failure instead of creating again', async () => {
    const store = new MemorySessionStore();
    let creates = 0;
    let release!: () => void;
    const holderMayFail = new Promise<void>((resolve) => (release = resolve));
    const steps = (name: string) => ({
      read: async () => undefined,
      create: async () => {
        creates++;
        await holderMayFail;
        throw new Error(`${name} timed out`);
      },
      shareFailure: async (error: unknown) => store.set('failed', (error as Error).message, 1000),
      readFailure: async () => {
        const message = await store.get('failed');
        return message === undefined ? undefined : new Error(`shared: ${message}`);
      },
      lockTtlMs: 5000,
      pollMs: 5,
      maxPollMs: 5,
    });
    const holder = getOrCreateShared(store, 'lock', steps('holder'));
    const waiter = getOrCreateShared(store, 'lock', steps('waiter'));
    await new Promise((resolve) => setTimeout(resolve, 30)); // the waiter has seen the lock busy
    release();
    await expect(holder).rejects.toThrow('holder timed out');
    await expect(waiter).rejects.toThrow('shared: holder timed out');
    expect(creates).toBe(1);
  });

  it('the holder fails and lets go between the waiter\'s look and its lock: the waiter still takes the failure, not the upstream', async () => {
    // Found on a loaded CI machine: the waiter read "no failure", then the holder shared its
    // failure and released the lock, then the waiter took the free lock and created a second time.
    const store = new MemorySessionStore();
    await store.set('lock', 'holder', 5000); // the holder is creating
    let failureShared = false;
    const create = jest.fn(async () => 'second call');
    const waiter = getOrCreateShared(store, 'lock', {
      read: async () => undefined,
      create,
      readFailure: async () => {
        const seen = failureShared ? new Error('shared: holder timed out') : undefined;
        if (!failureShared) {
          // Right after this look, the holder fails: it leaves word and lets the lock go.
          failureShared = true;
          await store.delete('lock');
        }
        return seen;
      },
      lockTtlMs: 5000,
      pollMs: 5,
      maxPollMs: 5,
    });
    await expect(waiter).rejects.toThrow('shared: holder timed out');
    expect(create).not.toHaveBeenCalled();
    await expect(store.get('lock')).resolves.toBeUndefined(); // the waiter let the lock go again
  });

  it('a newcomer that never waited still creates for itself', async () => {
    const store = new MemorySessionStore();
    await store.set('failed', 'earlier', 1000);
    let creates = 0;
    const value = await getOrCreateShared(store, 'lock', {
      read: async () => undefined,
      create: async () => ++creates,
      readFailure: async () => ((await store.get('failed')) ? new Error('shared') : undefined),
      lockTtlMs: 1000,
    });
    expect(value).toBe(1);
  });
});
