/** Exponential backoff with full jitter (AWS architecture blog's "Full Jitter"). Pure. */

export interface BackoffOptions {
  /** The first retry waits up to this long. */
  baseMs: number;
  /** No wait is longer than this. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 100, capMs: 2_000 };

/** Delay before retry number `retry` (1 for the first retry): uniform in [0, min(cap, base·2^(retry-1))]. */
export function backoffDelay(retry: number, options: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
