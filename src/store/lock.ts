/**
 * Short locks in a store, each with an owner token: taken with `add` (set if absent), released
 * by compare-and-delete, so an owner that outlived its lock never deletes the next owner's.
 */
import { randomUUID } from 'node:crypto';
import type { SessionStore } from './session-store';

/** A held lock. */
export interface Lock {
  /** This holder's token, the lock's value in the store. */
  readonly owner: string;
  /** Lets go, if it is still ours; never throws. */
  release(): Promise<void>;
}

/** Takes the lock at `key` for `ttlMs`, or resolves undefined when another holder has it. Store errors reject. */
export async function tryLock(store: SessionStore & Required<Pick<SessionStore, 'add'>>, key: string, ttlMs: number, extra = ''): Promise<Lock | undefined> {
  const owner = extra ? `${randomUUID()}:${extra}` : randomUUID();
  if (!(await store.add(key, owner, ttlMs))) return undefined;
  return {
    owner,
    async release() {
      try {
        if (store.deleteIfEquals) await store.deleteIfEquals(key, owner);
        else if ((await store.get(key)) === owner) await store.delete(key);
      } catch {
        // The lock expires by itself at its TTL.
      }
    },
  };
}

/** True when the store can hold locks (set-if-absent). */
export function canLock(store: SessionStore): store is SessionStore & Required<Pick<SessionStore, 'add'>> {
  return typeof store.add === 'function';
}
