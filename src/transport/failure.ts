/**
 * What went wrong with one upstream attempt, classified once, so the retry loop, the breaker
 * and the final answer all read the same facts. Pure functions; no I/O.
 */
import { isAxiosError } from 'axios';
import type { AxiosResponse } from 'axios';

export type FailureKind =
  | 'network' //     refused, reset (also mid-answer), DNS: Resurs could not be reached
  | 'timeout' //     the attempt's own time limit passed
  | 'status' //      Resurs answered a non-success status
  | 'too-large' //   the answer passed the 64 KiB cap
  | 'invalid'; //    the answer is not a valid session

/** One failed attempt. `message` is ours (never Resurs' body) and safe to log. */
export class UpstreamFailure extends Error {
  override readonly name = 'UpstreamFailure';
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status?: number,
    /** From Resurs' Retry-After header, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }

  /** Worth another attempt: connection errors, timeouts, 502/503/504 and 429. */
  get retryable(): boolean {
    if (this.kind === 'network' || this.kind === 'timeout') return true;
    return this.kind === 'status' && (this.status === 429 || this.status === 502 || this.status === 503 || this.status === 504);
  }

  /** Counts towards opening the breaker: connection errors, timeouts, 5xx and 429. */
  get sickness(): boolean {
    if (this.kind === 'network' || this.kind === 'timeout') return true;
    return this.kind === 'status' && this.status !== undefined && (this.status === 429 || this.status >= 500);
  }
}

/** Parses Retry-After (delta-seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date starts with the day's name (RFC 9110 §5.6.7); Date.parse alone would take "-5" or "1.5".
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A non-success HTTP answer as a failure. */
export function statusFailure(response: AxiosResponse, what: string): UpstreamFailure {
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  const kind = response.status >= 300 && response.status < 400 ? 'a redirect (not followed)' : `status ${response.status}`;
  return new UpstreamFailure('status', `${what} answered ${kind}`, response.status, retryAfterMs);
}

/**
 * An error thrown by axios (no answer, or an answer cut short) as a failure. `timedOut` says
 * whether our own attempt timer fired; other aborts are the caller's and are rethrown by it.
 */
export function transportFailure(error: unknown, what: string, timedOut: boolean): UpstreamFailure {
  if (timedOut) return new UpstreamFailure('timeout', `${what} did not answer in time`);
  if (isAxiosError(error) && /maxContentLength/.test(error.message)) {
    return new UpstreamFailure('too-large', `${what} answered more than 64 KiB`);
  }
  const code = isAxiosError(error) ? error.code : undefined;
  return new UpstreamFailure('network', `${what} could not be reached (${code ?? 'connection error'})`);
}
