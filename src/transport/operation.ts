/**
 * What one Resurs call is: its method, URL, body, which answers count as success, how the answer
 * is checked, and whether it may be sent again once it may have reached Resurs. The operations
 * (`resurs/`) say *what*; the transport says *how* (token, deadline, breaker, retries).
 */
import type { ResursCheckoutError } from '../errors';

export interface Operation<T> {
  /** Names the call in log lines, e.g. `'create session'`. Never holds data. */
  readonly name: string;
  readonly method: 'GET' | 'POST';
  /** Absolute URL, built when the operation is made. */
  readonly url: string;
  /** The JSON body as text, when the call has one. */
  readonly body?: string;
  /**
   * True for reads (and Create Session, which makes nothing that costs money): retried on every
   * retryable failure. False for money-moving writes: retried only when the request provably
   * never left this process (connection refused), never once it may have reached Resurs.
   */
  readonly idempotent: boolean;
  /** HTTP statuses that are a success. */
  readonly success: readonly number[];
  /** Checks the parsed answer; returns the value, or why it was refused (our words, safe to log). */
  check(body: unknown): T | string;
  /**
   * Resurs answered a 4xx other than 401 and 429 (`body` is its parsed JSON, never logged):
   * the operation's own answer (e.g. 404 `not_found`, 422 `payment_refused`), or undefined for
   * the default 502 `upstream_error`.
   */
  refused?(status: number, body: unknown): ResursCheckoutError | undefined;
  /** The `detail` of a 502 after the last attempt, e.g. "Resurs could not create a checkout session." */
  readonly failureDetail: string;
}
