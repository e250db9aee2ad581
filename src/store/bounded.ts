/**
 * Store calls for the money paths, which fail closed: each call is bounded in time, and a
 * failure or time-out rejects (StoreUnavailable) instead of degrading, so the caller can refuse
 * to act blind.
 */
import { withTimeout } from '../resilience/timeout';

/** The store did not answer in time, or failed. */
export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
  constructor(
    readonly op: string,
    readonly reason: unknown,
  ) {
    super(`store ${op} failed or timed out`);
  }
}

/** Longest wait for one store call on the money paths. */
export const MONEY_STORE_TIMEOUT_MS = 1000;

export function bounded<T>(op: string, call: () => Promise<T>, timeoutMs = MONEY_STORE_TIMEOUT_MS): Promise<T> {
  return withTimeout(call, timeoutMs, () => new Error(`timed out after ${timeoutMs} ms`)).catch((error: unknown) => {
    throw new StoreUnavailable(op, error);
  });
}
