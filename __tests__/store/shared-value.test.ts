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
    expect(lockHeld).toBe('1');
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
});
