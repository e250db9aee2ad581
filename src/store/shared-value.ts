/**
 * Get-or-create across instances: read the store; when it has nothing fresh, one instance takes
 * a short lock (`add`, set-if-absent) and creates while the others poll for its result. Used for
 * reused sessions and for shared tokens. Without `add`, every instance creates for itself.
 */
import type { SessionStore } from './session-store';

export interface SharedValueSteps<T> {
  /** The fresh stored value, or undefined. */
  read(): Promise<T | undefined>;
  /** The second look, right after taking the lock (e.g. without warnings). Default `read`. */
  reread?(): Promise<T | undefined>;
  /** Makes the value and stores it. */
  create(): Promise<T>;
  /** How long the creation lock lives; a holder that crashed is outlived after this. */
  lockTtlMs: number;
  /** How often a waiting instance looks again. */
  pollMs: number;
  /** Called when the wait ran out and this instance creates without the lock. */
  onGiveUp?: () => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The stored value, or the one this instance (or the lock holder) creates. Bounded polling. */
export async function getOrCreateShared<T>(store: SessionStore, lockKey: string, steps: SharedValueSteps<T>): Promise<T> {
  const maxPolls = Math.max(1, Math.ceil(steps.lockTtlMs / Math.max(1, steps.pollMs)));
  for (let poll = 0; ; poll++) {
    const hit = await steps.read();
    if (hit !== undefined) return hit;
    if (!store.add) return steps.create();
    if (await store.add(lockKey, '1', steps.lockTtlMs)) {
      try {
        // The holder before us may have stored its value and let go between our read and our lock.
        return (await (steps.reread ?? steps.read)()) ?? (await steps.create());
      } finally {
        await store.delete(lockKey);
      }
    }
    if (poll >= maxPolls) {
      steps.onGiveUp?.();
      return steps.create();
    }
    await sleep(steps.pollMs);
  }
}
