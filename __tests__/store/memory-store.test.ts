import { MemorySessionStore } from '../../src/store/memory-store';

describe('MemorySessionStore', () => {
  const start = Date.parse('2025-01-01T00:00:00Z');
  beforeEach(() => {
    jest.useFakeTimers({ now: start });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('stores, returns and deletes values', async () => {
    const store = new MemorySessionStore();
    await expect(store.get('k')).resolves.toBeUndefined();
    await store.set('k', 'v', 1000);
    await expect(store.get('k')).resolves.toBe('v');
    await store.set('k', 'w', 1000);
    await expect(store.get('k')).resolves.toBe('w');
    await store.delete('k');
    await expect(store.get('k')).resolves.toBeUndefined();
    await expect(store.delete('absent')).resolves.toBeUndefined();
  });

  it('never returns an expired entry and drops it when read', async () => {
    const store = new MemorySessionStore();
    await store.set('k', 'v', 1000);
    jest.setSystemTime(start + 999);
    await expect(store.get('k')).resolves.toBe('v');
    jest.setSystemTime(start + 1000);
    await expect(store.get('k')).resolves.toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('does not keep a value whose ttl is not positive', async () => {
    const store = new MemorySessionStore();
    await store.set('k', 'old', 1000);
    await store.set('k', 'v', 0);
    await expect(store.get('k')).resolves.toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('add sets only when the key is absent or expired', async () => {
    const store = new MemorySessionStore();
    await expect(store.add('lock', 'a', 100)).resolves.toBe(true);
    await expect(store.add('lock', 'b', 100)).resolves.toBe(false);
    await expect(store.get('lock')).resolves.toBe('a');
    jest.setSystemTime(start + 100);
    await expect(store.add('lock', 'c', 100)).resolves.toBe(true);
    await expect(store.get('lock')).resolves.toBe('c');
  });

  it('evicts the least recently set entry when full', async () => {
    const store = new MemorySessionStore({ maxEntries: 3 });
    await store.set('a', '1', 10_000);
    await store.set('b', '2', 10_000);
    await store.set('c', '3', 10_000);
    await store.set('a', '1again', 10_000); // a becomes the newest
    await store.set('d', '4', 10_000);
    expect(store.size).toBe(3);
    await expect(store.get('b')).resolves.toBeUndefined();
    await expect(store.get('a')).resolves.toBe('1again');
    await expect(store.get('c')).resolves.toBe('3');
    await expect(store.get('d')).resolves.toBe('4');
  });

  it('drops expired entries before evicting live ones', async () => {
    const store = new MemorySessionStore({ maxEntries: 3 });
    await store.set('a', '1', 10_000);
    await store.set('b', '2', 50);
    await store.set('c', '3', 10_000);
    jest.setSystemTime(start + 60);
    await store.set('d', '4', 10_000);
    await expect(store.get('a')).resolves.toBe('1');
    await expect(store.get('b')).resolves.toBeUndefined();
    await expect(store.get('c')).resolves.toBe('3');
    await expect(store.get('d')).resolves.toBe('4');
  });

  it('stays within maxEntries under many writes', async () => {
    const store = new MemorySessionStore({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) {
      await store.set(`k${i}`, String(i), i % 2 ? 10_000 : 5);
      if (i % 100 === 0) jest.setSystemTime(start + i);
      expect(store.size).toBeLessThanOrEqual(100);
    }
    await expect(store.get('k999')).resolves.toBe('999');
    await expect(store.get('k0')).resolves.toBeUndefined();
  });

  it('starts no timers', async () => {
    const store = new MemorySessionStore();
    await store.set('k', 'v', 60_000);
    await store.add('l', 'v', 60_000);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects a maxEntries that is not a positive integer', () => {
    expect(() => new MemorySessionStore({ maxEntries: 0 })).toThrow(TypeError);
    expect(() => new MemorySessionStore({ maxEntries: 1.5 })).toThrow(/maxEntries/);
  });
});
