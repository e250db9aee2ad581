/**
 * Where reused sessions (and, for client credentials, tokens) are kept between requests.
 * Values are opaque strings; keys are chosen by this package. Implementations may fail or be
 * slow: callers wrap them with `guardStore`, so a broken store never fails a checkout.
 */
export interface SessionStore {
  /** The value stored under `key`, or `undefined` when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds, replacing any earlier value. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Removes `key`; resolves even when it was absent. */
  delete(key: string): Promise<void>;
  /** Optional: set only if absent (atomic); resolves true when this call set it. Enables cross-instance single flight. */
  add?(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Optional: removes `key` only while it still holds `value` (atomic compare-and-delete);
   * resolves true when it removed it. Lets a lock's owner release it without deleting a lock
   * another instance took after it expired. Without it, locks are left to expire.
   */
  deleteIfEquals?(key: string, value: string): Promise<boolean>;
}
