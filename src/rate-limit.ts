/**
 * The optional per-client rate limit, on express-rate-limit. Its handler is replaced by the
 * 429 problem answer, and a failing store (Redis down) lets the request through with a warning.
 */
import { rateLimit } from 'express-rate-limit';
import type { RequestHandler } from 'express';
import { ResursCheckoutError } from './errors';
import type { Logger } from './logger';
import type { RateLimitOptions } from './options';
import { sendProblem } from './respond';

export function createRateLimit(options: RateLimitOptions, logger: Logger, requestIdOf: (res: unknown) => string): RequestHandler {
  return rateLimit({
    ...options,
    passOnStoreError: true,
    logger: {
      error: (error: unknown, message?: string) =>
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, message ?? 'express-rate-limit error; request allowed.'),
      warn: (error: unknown, message?: string) =>
        logger.warn({ err: error instanceof Error ? error.message : String(error) }, message ?? 'express-rate-limit warning.'),
    },
    handler: (req, res) => {
      const info = (req as typeof req & { rateLimit?: { resetTime?: Date } }).rateLimit;
      const windowMs = options.windowMs ?? 60_000;
      const resetMs = info?.resetTime ? info.resetTime.getTime() - Date.now() : windowMs;
      const error = new ResursCheckoutError('rate_limited', 'Too many checkout attempts from this client. Wait a moment and try again.', {
        retryAfter: Math.max(1, resetMs / 1000),
      });
      sendProblem(res, error, requestIdOf(res));
    },
  });
}
