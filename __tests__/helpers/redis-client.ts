/**
 * node-redis clients configured the way the README tells a merchant to: reconnect quickly, and
 * reject commands at once while disconnected (no offline queue), so a Redis outage costs a
 * request nothing but the shared state.
 */
import { createClient } from 'redis';
import type { RedisReply } from 'rate-limit-redis';

export type RedisClient = ReturnType<typeof createClient>;

/** Connects a client to `url`; swallows its 'error' events (reconnect attempts while Redis is down). */
export async function connectRedis(url: string): Promise<RedisClient> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(25 * (retries + 1), 200) },
  });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** The variadic `sendCommand` both RedisSessionStore and rate-limit-redis take. */
export function sendCommandOf(client: RedisClient): (...args: string[]) => Promise<RedisReply> {
  return (...args: string[]) => client.sendCommand<RedisReply>(args);
}

/** Waits (bounded) until the client has reconnected after a restart of the server. */
export async function untilReady(client: RedisClient, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (client.isReady) {
      try {
        if ((await client.ping()) === 'PONG') return;
      } catch {
        // not yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the Redis client did not reconnect');
}
