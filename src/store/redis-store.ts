import type { SessionStore } from './session-store';

/** Sends one Redis command, e.g. `(...args) => client.sendCommand(args)` with node-redis (as rate-limit-redis takes it). */
export type SendCommandFn = (...args: string[]) => Promise<unknown>;

/** Options for {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** Sends one command over the merchant's own Redis connection. */
  sendCommand: SendCommandFn;
  /** Prepended to every key. Default `'resurs-checkout:'`. */
  prefix?: string;
}

/**
 * A {@link SessionStore} in Redis, shared by every instance of the shop, over the merchant's
 * own connection (`GET`, `SET … PX`, `SET … PX … NX`, `DEL`, and one `EVAL` for compare-and-delete). It does not import `redis`.
 */
export class RedisSessionStore implements SessionStore {
  readonly #send: SendCommandFn;
  readonly #prefix: string;

  constructor(options: RedisSessionStoreOptions) {
    if (typeof options !== 'object' || options === null || typeof options.sendCommand !== 'function') {
      throw new TypeError(
        'RedisSessionStore: options.sendCommand must be a function, e.g. ' +
          '{sendCommand: (...args) => client.sendCommand(args)} with the redis package',
      );
    }
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new TypeError('RedisSessionStore: options.prefix must be a string');
    }
    this.#send = options.sendCommand;
    this.#prefix = options.prefix ?? 'resurs-checkout:';
  }

  async get(key: string): Promise<string | undefined> {
    const reply = await this.#send('GET', this.#prefix + key);
    if (reply === null || reply === undefined) return undefined;
    if (typeof reply === 'string') return reply;
    if (reply instanceof Uint8Array) return Buffer.from(reply).toString('utf8');
    throw new TypeError(`RedisSessionStore: unexpected GET reply of type ${typeof reply}`);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.#send('SET', this.#prefix + key, value, 'PX', px(ttlMs));
  }

  async delete(key: string): Promise<void> {
    await this.#send('DEL', this.#prefix + key);
  }

  async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#send('SET', this.#prefix + key, value, 'PX', px(ttlMs), 'NX');
    return reply === 'OK';
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    const reply = await this.#send('EVAL', DELETE_IF_EQUALS, '1', this.#prefix + key, value);
    return reply === 1 || reply === '1';
  }
}

/** Deletes KEYS[1] only while it holds ARGV[1]: one round trip, atomic in Redis. */
const DELETE_IF_EQUALS = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/** Redis wants a positive integer number of milliseconds. */
function px(ttlMs: number): string {
  if (!Number.isFinite(ttlMs)) throw new RangeError('RedisSessionStore: ttlMs must be a finite number');
  return String(Math.max(1, Math.ceil(ttlMs)));
}
