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
    /**
     * False only when the request provably never left this process (connection refused, host not
     * found): a money-moving write may then be sent again. Anything else may have reached Resurs.
     */
    readonly sent: boolean = true,
    /** Resurs' parsed answer body, for the operation's own refusal mapping. Never logged. */
    readonly body?: unknown,
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

/** The longest Retry-After we pass on or honour: an hour. Resurs asking for more is capped. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * Parses Retry-After (delta-seconds or an HTTP date) into whole ms from `now`, capped at
 * {@link MAX_RETRY_AFTER_MS}; anything else (`1e+21`, `Infinity`, `-5`, `1.5`) is ignored.
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d{1,12}$/.test(trimmed)) return Math.min(MAX_RETRY_AFTER_MS, Number(trimmed) * 1000);
  if (/^\d+$/.test(trimmed)) return MAX_RETRY_AFTER_MS; // more digits than any sane wait
  // An HTTP date starts with the day's name (RFC 9110 §5.6.7); Date.parse alone would take "-5" or "1.5".
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.ceil((date - now) / 1000) * 1000));
}

/** Parses a JSON text, or undefined. */
function parseJson(text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Connection errors that prove the request never left this process. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** A non-success HTTP answer as a failure. */
export function statusFailure(response: AxiosResponse, what: string): UpstreamFailure {
  const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
  const kind = response.status >= 300 && response.status < 400 ? 'a redirect (not followed)' : `status ${response.status}`;
  const body = response.status >= 400 && response.status < 500 ? parseJson(response.data) : undefined;
  return new UpstreamFailure('status', `${what} answered ${kind}`, response.status, retryAfterMs, true, body);
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
  const sent = !(code !== undefined && NOT_SENT.has(code));
  return new UpstreamFailure('network', `${what} could not be reached (${code ?? 'connection error'})`, undefined, undefined, sent);
}
