import { errorMessage } from '../logger';
import type { Logger } from '../logger';
import { canLock, tryLock, type Lock } from './lock';
import type { SessionStore } from './session-store';
import type { StopSignal } from '../resilience/stop';
import { settleWithin, started, withTimeout } from '../resilience/timeout';

/** Options for {@link guardStore}. */
export interface GuardStoreOptions {
  /** Longest wait for one store call. Default 500. */
  timeoutMs?: number;
  /**
   * Longest wait for a lock's set-if-absent. Longer than `timeoutMs`, because giving up on it
   * lets two instances create: a lock is given up only when the store is as good as down.
   * Default {@link LOCK_TIMEOUT_MS}.
   */
  lockTimeoutMs?: number;
  /** Receives one warning per failed call. */
  logger: Logger;
  /** Names the feature in the warning, e.g. `'session reuse'`. */
  what: string;
  /**
   * After a call fails, calls to the same store (through any guard) skip it for this long and
   * degrade at once, so an outage costs a request at most one timeout. Default 1000; 0 turns it off.
   * Releasing a lock is never skipped.
   */
  coolDownMs?: number;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** Default {@link GuardStoreOptions.coolDownMs}. */
export const STORE_COOL_DOWN_MS = 1000;

/** Default {@link GuardStoreOptions.lockTimeoutMs}. */
export const LOCK_TIMEOUT_MS = 2000;

/** What asking a guarded store for a lock came to. */
export type LockAttempt =
  /** This caller holds it: release it when done. */
  | { state: 'held'; lock: Lock }
  /** Another holder has it. */
  | { state: 'busy' }
  /** The store failed, took too long or rests: go on without a lock (logged). */
  | { state: 'unavailable' };

/** A guarded store: never throws, and offers locks instead of a bare `add`. */
export interface GuardedStore extends SessionStore {
  /**
   * Takes the lock at `key` for `ttlMs` (with an owner token; see `tryLock`). Present when the
   * store has `add`. Rejects only with `signal`'s reason; a lock that lands after we stopped
   * waiting for it is released by its owner as soon as it does.
   */
  lock?(key: string, ttlMs: number, signal?: StopSignal): Promise<LockAttempt>;
}

/** Per store: until when calls skip it (epoch ms), shared by every guard of that store. */
const restingUntil = new WeakMap<SessionStore, number>();

/** Raised when a store call did not settle in time. */
class StoreTimeout extends Error {
  override readonly name = 'StoreTimeout';
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/**
 * Wraps a store so it can only slow a request by `timeoutMs`, never fail it: a call that throws,
 * rejects or times out logs one warning (operation and error message, never keys' values) and
 * degrades: `get` to `undefined`, `set`/`delete` to done, `lock` to "unavailable" (go on without
 * the lock). For `coolDownMs` after a failure the store is not asked at all (but locks are still
 * released); a guard that has not warned yet warns once that it is going on without the store.
 */
export function guardStore(store: SessionStore, options: GuardStoreOptions): GuardedStore {
  const timeoutMs = options.timeoutMs ?? 500;
  const lockTimeoutMs = Math.max(timeoutMs, options.lockTimeoutMs ?? LOCK_TIMEOUT_MS);
  const coolDownMs = options.coolDownMs ?? STORE_COOL_DOWN_MS;
  const now = options.now ?? Date.now;
  const { logger, what } = options;
  /** This guard (one request, usually) has written its warning. */
  let warned = false;

  const warn = (op: string, err: string): void => {
    warned = true;
    logger.warn({ op, err }, `${what}: store failed, continuing without it: ${op}: ${err}`);
  };

  /** True (after one warning per guard) while the store rests. */
  function resting(op: string): boolean {
    if ((restingUntil.get(store) ?? 0) <= now()) return false;
    if (!warned) warn(op, `failed less than ${coolDownMs} ms ago, not asked`);
    return true;
  }

  function failed(op: string, error: unknown): void {
    if (coolDownMs > 0) restingUntil.set(store, now() + coolDownMs);
    warn(op, errorMessage(error));
  }

  function guard<R>(op: string, call: () => Promise<R>, fallback: R): Promise<R> {
    if (resting(op)) return Promise.resolve(fallback);
    return withTimeout(call, timeoutMs, () => new StoreTimeout(timeoutMs)).catch((error: unknown) => {
      failed(op, error);
      return fallback;
    });
  }

  /** A release bounded by `timeoutMs`, attempted cool-down or not; an unreleased lock expires at its TTL. */
  const bounded = (lock: Lock): Lock => ({
    owner: lock.owner,
    release: () => settleWithin(lock.release(), timeoutMs, () => new StoreTimeout(timeoutMs)).catch(() => undefined),
  });

  const guarded: GuardedStore = {
    get: (key) => guard<string | undefined>('get', () => store.get(key), undefined),
    set: (key, value, ttlMs) => guard<void>('set', () => store.set(key, value, ttlMs), undefined),
    delete: (key) => guard<void>('delete', () => store.delete(key), undefined),
  };
  if (canLock(store)) {
    guarded.lock = async (key, ttlMs, signal) => {
      if (resting('lock')) return { state: 'unavailable' };
      const attempt = started(() => tryLock(store, key, ttlMs));
      try {
        const lock = await settleWithin(attempt, lockTimeoutMs, () => new StoreTimeout(lockTimeoutMs), signal);
        return lock ? { state: 'held', lock: bounded(lock) } : { state: 'busy' };
      } catch (error) {
        // We stopped waiting, but the SET may still land: its owner (us) lets go when it does.
        attempt.then((late) => late?.release(), () => undefined);
        if (signal?.aborted && error === signal.reason) throw error;
        failed('lock', error instanceof StoreTimeout ? new Error(`${error.message}; released if it lands`) : error);
        return { state: 'unavailable' };
      }
    };
  }
  return guarded;
}
