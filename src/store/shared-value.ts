/**
 * Get-or-create across instances: read the store; when it has nothing fresh, one instance takes
 * a short lock (owner token, set-if-absent) and creates while the others look again, less and
 * less often, until the value is there, the lock is free, or their own signal says stop. Used
 * for reused sessions and for shared tokens. Without `add`, every instance creates for itself.
 */
import { sleep, untilAborted } from '../resilience/abort';
import type { GuardedStore, LockAttempt } from './guarded-store';
import { canLock, tryLock } from './lock';
import type { SessionStore } from './session-store';
import type { StopSignal } from '../resilience/stop';

export interface SharedValueSteps<T> {
  /** The fresh stored value, or undefined. */
  read(): Promise<T | undefined>;
  /** The second look, right after taking the lock (e.g. without warnings). Default `read`. */
  reread?(): Promise<T | undefined>;
  /** Makes the value and stores it. Not bound by `signal`: its caller bounds it. */
  create(): Promise<T>;
  /** How long the creation lock lives; a holder that crashed is outlived after this. */
  lockTtlMs: number;
  /** First wait before looking again; each wait doubles, up to `maxPollMs`. Default 25. */
  pollMs?: number;
  /** Longest wait between two looks. Default 250. */
  maxPollMs?: number;
  /**
   * The caller's budget: when it aborts, the wait ends at once and the call rejects with its
   * reason; nothing is created after that.
   */
  signal?: StopSignal;
  /**
   * The holder's create failed: leave word for the instances waiting on its lock (e.g. a short
   * marker with the error's code). Never throws.
   */
  shareFailure?(error: unknown): Promise<void>;
  /**
   * For an instance that waited on another's lock: the failure that holder left, if any. It is
   * thrown instead of calling the upstream again, as single flight does within one process.
   */
  readFailure?(): Promise<unknown>;
  /** Called when the lock was held by others past `lockTtlMs` and this instance creates without it. */
  onGiveUp?: () => void;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** Default {@link SharedValueSteps.pollMs}. */
export const FIRST_POLL_MS = 25;
/** Default {@link SharedValueSteps.maxPollMs}. */
export const MAX_POLL_MS = 250;

/** The next wait: doubled, at most `max`. */
export function nextPoll(wait: number, max: number): number {
  return Math.min(max, wait * 2);
}

/** Resolves with `promise`, or rejects with the signal's reason once it aborts. */
const bounded = <T>(promise: Promise<T>, signal: StopSignal | undefined): Promise<T> => (signal ? untilAborted(promise, signal) : promise);

/**
 * Asks for the lock: through the guard when there is one (it bounds the wait); a bare store's
 * errors reject. Either way a lock that lands after `signal` aborted is released by its owner.
 */
async function lockOf(store: SessionStore & Pick<GuardedStore, 'lock'>, key: string, ttlMs: number, signal: StopSignal | undefined): Promise<LockAttempt> {
  if (store.lock) return store.lock(key, ttlMs, signal);
  if (!canLock(store)) return { state: 'unavailable' };
  const pending = tryLock(store, key, ttlMs);
  try {
    const lock = await bounded(pending, signal);
    return lock ? { state: 'held', lock } : { state: 'busy' };
  } catch (error) {
    pending.then((late) => late?.release(), () => undefined);
    throw error;
  }
}

/**
 * The stored value, or the one this instance (or the lock holder) creates. A waiter looks again
 * after 25, 50, 100, 200, 250, 250 … ms; it stops at `signal` without creating, and creates
 * without the lock only after others held it longer than `lockTtlMs` (`onGiveUp`).
 */
export async function getOrCreateShared<T>(store: SessionStore & Pick<GuardedStore, 'lock'>, lockKey: string, steps: SharedValueSteps<T>): Promise<T> {
  const { signal } = steps;
  const now = steps.now ?? Date.now;
  const maxPollMs = Math.max(1, steps.maxPollMs ?? MAX_POLL_MS);
  const giveUpAt = now() + steps.lockTtlMs;
  /** Another instance held the lock while this one waited: its outcome is this one's too. */
  let waited = false;
  for (let wait = Math.max(1, steps.pollMs ?? FIRST_POLL_MS); ; wait = nextPoll(wait, maxPollMs)) {
    signal?.throwIfAborted();
    const hit = await bounded(steps.read(), signal);
    if (hit !== undefined) return hit;
    if (waited && steps.readFailure) {
      const failure = await bounded(steps.readFailure(), signal);
      if (failure !== undefined) throw failure;
    }
    const attempt = await lockOf(store, lockKey, steps.lockTtlMs, signal);
    if (attempt.state === 'unavailable') return steps.create();
    if (attempt.state === 'held') {
      let failure: unknown;
      try {
        signal?.throwIfAborted();
        // The holder before us may have stored its value, or left word of its failure, and let go
        // between our look and our lock.
        const stored = await (steps.reread ?? steps.read)();
        if (stored !== undefined) return stored;
        failure = waited && steps.readFailure ? await steps.readFailure() : undefined;
        if (failure === undefined) {
          try {
            return await steps.create();
          } catch (error) {
            await steps.shareFailure?.(error);
            throw error;
          }
        }
      } finally {
        await attempt.lock.release();
      }
      // Its failure is ours, as for a waiter that saw it before the lock was free.
      throw failure;
    }
    waited = true;
    const left = giveUpAt - now();
    if (left <= 0) {
      steps.onGiveUp?.();
      return steps.create();
    }
    await (signal ? sleep(Math.min(wait, left), signal) : new Promise<void>((resolve) => setTimeout(resolve, Math.min(wait, left))));
  }
}
