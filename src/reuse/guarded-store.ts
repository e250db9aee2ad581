import type { Logger } from '../logger';
import type { SessionStore } from './session-store';

/** Options for {@link guardStore}. */
export interface GuardStoreOptions {
  /** Longest wait for one store call. Default 500. */
  timeoutMs?: number;
  /** Receives one warning per failed call. */
  logger: Logger;
  /** Names the feature in the warning, e.g. `'session reuse'`. */
  what: string;
}

/**
 * Wraps a store so it can only slow a request by `timeoutMs`, never fail it: a call that throws,
 * rejects or times out logs one warning (operation and error message, never keys' values) and
 * degrades: `get` to `undefined`, `set`/`delete` to done, `add` to `true` (go on without the lock).
 */
export function guardStore(store: SessionStore, options: GuardStoreOptions): SessionStore {
  const timeoutMs = options.timeoutMs ?? 500;
  const { logger, what } = options;

  function guard<R>(op: string, call: () => Promise<R>, fallback: R): Promise<R> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    let pending: Promise<R>;
    try {
      pending = Promise.resolve(call());
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.catch(() => undefined); // a late rejection after the timeout must not go unhandled
    return Promise.race([pending, timeout]).then(
      (result) => result,
      (error: unknown) => {
        const err = error instanceof Error ? error.message : typeof error;
        logger.warn({ op, err }, `${what}: store failed, continuing without it: ${op}: ${err}`);
        return fallback;
      },
    ).finally(() => clearTimeout(timer));
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
