/**
 * Typed errors with stable codes. Callers branch on `code`, never on message text.
 * Nothing here knows Express; `problem.ts` renders these as RFC 9457 bodies.
 */

/** Every error code the endpoint can answer with, and its HTTP status. */
export const ERROR_STATUS = {
  invalid_request: 400,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  campaign_not_allowed: 422,
  campaign_not_started: 422,
  campaign_expired: 422,
  rate_limited: 429,
  payment_in_progress: 409,
  payment_refused: 422,
  callback_refused: 403,
  cross_site_request: 403,
  not_found: 404,
  internal_error: 500,
  upstream_error: 502,
  upstream_unavailable: 503,
  upstream_timeout: 504,
} as const;

/** A stable error code from the contract's error table. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** Short, fixed titles for each code (RFC 9457 `title`). */
export const ERROR_TITLE: Record<ErrorCode, string> = {
  invalid_request: 'Invalid request',
  method_not_allowed: 'Method not allowed',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  campaign_not_allowed: 'Campaign not allowed',
  campaign_not_started: 'Campaign not started',
  campaign_expired: 'Campaign expired',
  rate_limited: 'Too many requests',
  payment_in_progress: 'Payment in progress',
  payment_refused: 'Payment refused',
  callback_refused: 'Callback refused',
  cross_site_request: 'Cross-site request refused',
  not_found: 'Not found',
  internal_error: 'Internal error',
  upstream_error: 'Resurs answered with an error',
  upstream_unavailable: 'Resurs is unavailable',
  upstream_timeout: 'Resurs did not answer in time',
};

/** Seconds suggested in Retry-After when nobody said how long to wait. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
/** The longest Retry-After ever sent. */
export const MAX_RETRY_AFTER_SECONDS = 3600;
const RETRY_AFTER_REQUIRED: ReadonlySet<ErrorCode> = new Set(['upstream_unavailable', 'rate_limited']);

/** One field-level validation problem, as listed in a problem body's `errors`. */
export interface FieldError {
  /** Where the problem is, e.g. `campaign` or `` for the body itself. */
  path: string;
  /** What is wrong, in plain words. */
  message: string;
}

export interface ResursCheckoutErrorOptions {
  /** Seconds the caller should wait before trying again (sent as `Retry-After`). */
  retryAfter?: number;
  /** Field-level problems for `invalid_request`. */
  errors?: FieldError[];
  /** The underlying error, kept for logs; never rendered to the storefront. */
  cause?: unknown;
}

/**
 * The error `createSession` rejects with and the router renders as a problem answer.
 * `message` (the problem's `detail`) is safe to show: it never holds a token, a secret
 * or Resurs' raw error body.
 */
export class ResursCheckoutError extends Error {
  override readonly name = 'ResursCheckoutError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfter?: number;
  readonly errors?: FieldError[];

  constructor(code: ErrorCode, detail: string, options: ResursCheckoutErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    // Every 503 and 429 carries a Retry-After, by construction: whole seconds, 1 to an hour.
    const retryAfter = options.retryAfter ?? (RETRY_AFTER_REQUIRED.has(code) ? DEFAULT_RETRY_AFTER_SECONDS : undefined);
    if (retryAfter !== undefined) {
      this.retryAfter = Number.isFinite(retryAfter) ? Math.min(MAX_RETRY_AFTER_SECONDS, Math.max(1, Math.ceil(retryAfter))) : DEFAULT_RETRY_AFTER_SECONDS;
    }
    if (options.errors !== undefined) this.errors = options.errors;
  }
}

/** Thrown by the factories when options are invalid; lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One line per problem, each saying what to change. */
  readonly problems: string[];

  constructor(problems: string[]) {
    super(
      `express-resurs-checkout: invalid options (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.problems = problems;
  }
}

export function isResursCheckoutError(error: unknown): error is ResursCheckoutError {
  return error instanceof ResursCheckoutError;
}
