import { errorMessage } from '../logger';
import type { Logger } from '../logger';
import { withTimeout } from '../resilience/timeout';
import type { SessionStore } from './session-store';

/** Options for {@link guardStore}. */
export interface GuardStoreOptions {
  /** Longest wait for one store call. Default 500. */
  timeoutMs?: number;
  /** Receives one warning per failed call. */
  logger: Logger;
  /** Names the feature in the warning, e.g. `'session reuse'`. */
  what: string;
  /**
   * After a call fails, calls to the same store (through any guard) skip it for this long and
   * degrade at once, so an outage costs a request at most one timeout. Default 1000; 0 turns it off.
   */
  coolDownMs?: number;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** Default {@link GuardStoreOptions.coolDownMs}. */
export const STORE_COOL_DOWN_MS = 1000;

/** Per store: until when calls skip it (epoch ms), shared by every guard of that store. */
const restingUntil = new WeakMap<SessionStore, number>();

/**
 * Wraps a store so it can only slow a request by `timeoutMs`, never fail it: a call that throws,
 * rejects or times out logs one warning (operation and error message, never keys' values) and
 * degrades: `get` to `undefined`, `set`/`delete` to done, `add` to `true` (go on without the lock).
 * For `coolDownMs` after a failure the store is not asked at all; a guard that has not warned yet
 * warns once that it is going on without the store.
 */
export function guardStore(store: SessionStore, options: GuardStoreOptions): SessionStore {
  const timeoutMs = options.timeoutMs ?? 500;
  const coolDownMs = options.coolDownMs ?? STORE_COOL_DOWN_MS;
  const now = options.now ?? Date.now;
  const { logger, what } = options;
  /** This guard (one request, usually) has written its warning. */
  let warned = false;

  function guard<R>(op: string, call: () => Promise<R>, fallback: R): Promise<R> {
    if ((restingUntil.get(store) ?? 0) > now()) {
      if (!warned) {
        warned = true;
        const err = `failed less than ${coolDownMs} ms ago, not asked`;
        logger.warn({ op, err }, `${what}: store failed, continuing without it: ${op}: ${err}`);
      }
      return Promise.resolve(fallback);
    }
    return withTimeout(call, timeoutMs, () => new Error(`timed out after ${timeoutMs} ms`)).catch((error: unknown) => {
      if (coolDownMs > 0) restingUntil.set(store, now() + coolDownMs);
      warned = true;
      const err = errorMessage(error);
      logger.warn({ op, err }, `${what}: store failed, continuing without it: ${op}: ${err}`);
      return fallback;
    });
  }

  const guarded: SessionStore = {
    get: (key) => guard<string | undefined>('get', () => store.get(key), undefined),
    set: (key, value, ttlMs) => guard<void>('set', () => store.set(key, value, ttlMs), undefined),
    delete: (key) => guard<void>('delete', () => store.delete(key), undefined),
  };
  const add = store.add?.bind(store);
  if (add) guarded.add = (key, value, ttlMs) => guard<boolean>('add', () => add(key, value, ttlMs), true);
  return guarded;
}
