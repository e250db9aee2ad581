/**
 * Exactly once per fact: a mark per (paymentId, status) or per actionId, set if absent in the
 * shared store, so one instance, and one delivery, calls the merchant's hook. A failed hook
 * releases its mark, so Resurs' next delivery is handled. Store failures reject
 * (StoreUnavailable): without a mark the hook is not called.
 */
import { createHash } from 'node:crypto';
import { bounded } from '../store/bounded';
import type { SessionStore } from '../store/session-store';

/** How long a handled fact is remembered: longer than Resurs keeps redelivering. */
export const CALLBACK_MARK_TTL_MS = 14 * 24 * 3600 * 1000;

export interface FactMarks {
  /** True when this call took the fact; false for a duplicate. */
  claim(fact: string): Promise<boolean>;
  /** Lets the fact be delivered again (the hook failed). Never throws. */
  release(fact: string): Promise<void>;
}

export function createFactMarks(store: SessionStore & Required<Pick<SessionStore, 'add'>>, namespace: string, ttlMs = CALLBACK_MARK_TTL_MS): FactMarks {
  const keyOf = (fact: string) => `callback:${createHash('sha256').update(`${namespace}\n${fact}`).digest('base64url')}`;
  return {
    claim: (fact) => bounded('add', () => store.add(keyOf(fact), '1', ttlMs)),
    async release(fact) {
      await bounded('delete', () => store.delete(keyOf(fact))).catch(() => undefined);
    },
  };
}
