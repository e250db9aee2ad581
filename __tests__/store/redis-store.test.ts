import { createClient } from 'redis';
import { RedisSessionStore } from '../../src/store/redis-store';
import { describeWithRedis, startRedisServer, type RedisServer } from '../helpers/redis-server';

describe('RedisSessionStore without a server', () => {
  it('rejects options without a sendCommand function', () => {
    expect(() => new RedisSessionStore({} as never)).toThrow(TypeError);
    expect(() => new RedisSessionStore({ sendCommand: 'nope' } as never)).toThrow(/sendCommand must be a function/);
    expect(() => new RedisSessionStore(undefined as never)).toThrow(TypeError);
  });

  it('sends GET, SET PX, SET PX NX and DEL with the prefix and an integer ttl of at least 1', async () => {
    const sent: string[][] = [];
    const replies: unknown[] = [null, 'OK', 'OK', null, 1];
    const store = new RedisSessionStore({
      sendCommand: async (...args) => {
        sent.push(args);
        return replies.shift();
      },
      prefix: 'p:',
    });
    await expect(store.get('k')).resolves.toBeUndefined();
    await store.set('k', 'v', 0.2);
    await expect(store.add('k', 'v', 1500.1)).resolves.toBe(true);
    await expect(store.add('k', 'v', 10)).resolves.toBe(false);
    await store.delete('k');
    expect(sent).toEqual([
      ['GET', 'p:k'],
      ['SET', 'p:k', 'v', 'PX', '1'],
      ['SET', 'p:k', 'v', 'PX', '1501', 'NX'],
      ['SET', 'p:k', 'v', 'PX', '10', 'NX'],
      ['DEL', 'p:k'],
    ]);
  });

  it('rejects an unexpected reply and passes sendCommand failures on', async () => {
    await expect(new RedisSessionStore({ sendCommand: async () => 42 }).get('k')).rejects.toThrow(/unexpected GET reply/);
    const down = new RedisSessionStore({ sendCommand: () => Promise.reject(new Error('down')) });
    await expect(down.set('k', 'v', 10)).rejects.toThrow('down');
  });
});

describeWithRedis('RedisSessionStore against redis-server', () => {
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

  it('round-trips values under the default prefix with a PX ttl', async () => {
    const value = JSON.stringify({ id: 'ä€😀', n: 1 });
    await store.set('round', value, 60_000);
    await expect(store.get('round')).resolves.toBe(value);
    await expect(client.get('resurs-checkout:round')).resolves.toBe(value);
    const pttl = await client.pTTL('resurs-checkout:round');
    expect(pttl).toBeGreaterThan(55_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('returns undefined for a missing key and after delete', async () => {
    await expect(store.get('missing')).resolves.toBeUndefined();
    await store.set('gone', 'v', 60_000);
    await store.delete('gone');
    await expect(store.get('gone')).resolves.toBeUndefined();
  });

  it('lets Redis expire entries', async () => {
    await store.set('short', 'v', 50);
    await expect(store.get('short')).resolves.toBe('v');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await expect(store.get('short')).resolves.toBeUndefined();
  });

  it('add is atomic: exactly one of many concurrent adds wins', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.add('lock', String(i), 5_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    await expect(store.get('lock')).resolves.toBe(String(winner));
    await store.delete('lock');
    await expect(store.add('lock', 'again', 5_000)).resolves.toBe(true);
  });

  it('keeps prefixes apart', async () => {
    const other = new RedisSessionStore({ sendCommand: (...args) => client.sendCommand(args), prefix: 'other:' });
    await store.set('shared', 'a', 60_000);
    await expect(other.get('shared')).resolves.toBeUndefined();
    await other.set('shared', 'b', 60_000);
    await expect(store.get('shared')).resolves.toBe('a');
    await expect(client.get('other:shared')).resolves.toBe('b');
  });
});
