/**
 * Exactly once per fact: a mark per (paymentId, status) or per actionId, set if absent in the
 * shared store, so one instance, and one delivery, calls the merchant's hook.
 *
 * A mark has two phases. Claimed, it is `pending:<owner>` for a short hold (longer than the hook
 * may run); handled, it becomes `handled` for two weeks. A delivery that finds it handled is a
 * duplicate (204); one that finds it pending is told to come back (503), because the hook may
 * still fail. A failed hook releases its mark (compare-and-delete, so it never removes another
 * owner's), and a mark whose release failed, or whose process died mid-hook, expires by itself
 * at the end of its hold: a fact is never lost to a store hiccup. Store failures reject
 * (StoreUnavailable): without a mark the hook is not called.
 */
import { createHash, randomUUID } from 'node:crypto';
import { bounded } from '../store/bounded';
import type { SessionStore } from '../store/session-store';

/** How long a handled fact is remembered: longer than Resurs keeps redelivering. */
export const CALLBACK_MARK_TTL_MS = 14 * 24 * 3600 * 1000;

const HANDLED = 'handled';
const PENDING = 'pending:';

/** This delivery holds the fact: it must confirm (handled) or release (failed) it. */
export interface ClaimedFact {
  outcome: 'claimed';
  /** The hook succeeded: remember the fact for good. Rejects (StoreUnavailable) when the store fails. */
  confirm(): Promise<void>;
  /** The hook failed: let the fact be delivered again. Never throws (the hold expires anyway). */
  release(): Promise<void>;
}

export type Claim = ClaimedFact | { outcome: 'handled' } | { outcome: 'in-progress' };

export interface FactMarks {
  /** Takes the fact for `holdMs`; or says it is handled already, or being handled elsewhere. */
  claim(fact: string, holdMs: number): Promise<Claim>;
}

export function createFactMarks(store: SessionStore & Required<Pick<SessionStore, 'add'>>, namespace: string, ttlMs = CALLBACK_MARK_TTL_MS): FactMarks {
  const keyOf = (fact: string) => `callback:${createHash('sha256').update(`${namespace}\n${fact}`).digest('base64url')}`;
  return {
    async claim(fact, holdMs) {
      const key = keyOf(fact);
      const owner = `${PENDING}${randomUUID()}`;
      if (await bounded('add', () => store.add(key, owner, holdMs))) {
        return {
          outcome: 'claimed',
          confirm: () => bounded('set', () => store.set(key, HANDLED, ttlMs)),
          async release() {
            await bounded('delete', async () => {
              if (store.deleteIfEquals) await store.deleteIfEquals(key, owner);
              else if ((await store.get(key)) === owner) await store.delete(key);
            }).catch(() => undefined);
          },
        };
      }
      const value = await bounded('get', () => store.get(key));
      // Absent now: released or expired since the add; the next delivery may take it.
      if (value === undefined || value.startsWith(PENDING)) return { outcome: 'in-progress' };
      return { outcome: 'handled' };
    },
  };
}
