/**
 * What `rateLimit` may hold: express-rate-limit's own options, minus the ones the router sets.
 * Pure checks, run with the other option checks so every problem is listed in one ConfigError.
 */
import type { Store } from 'express-rate-limit';

/** express-rate-limit 8's options; anything else is a typo that would silently change nothing. */
export const LIBRARY_OPTIONS = new Set([
  'windowMs', 'limit', 'max', 'legacyHeaders', 'headers', 'standardHeaders', 'identifier',
  'retryAfter', 'requestPropertyName', 'skipFailedRequests', 'skipSuccessfulRequests', 'keyGenerator', 'ipv6Subnet',
  'skip', 'requestWasSuccessful', 'store', 'validate',
]);

/** express-rate-limit options the router sets itself, and why. */
export const ROUTER_OWNED: Readonly<Record<string, string>> = {
  handler: 'the router answers 429 rate_limited as a problem itself (use `onError` to observe rate-limited requests)',
  message: 'the router answers 429 rate_limited as a problem itself (use `onError` to observe rate-limited requests)',
  statusCode: 'the router answers 429 rate_limited as a problem itself (use `onError` to observe rate-limited requests)',
  passOnStoreError: 'the rate limit always fails open: when its store fails, requests go on with a warning in the log',
  logger: "express-rate-limit's warnings go to the router's own `logger` option",
};

/** A current `Store` (not the callback-style `LegacyStore` of express-rate-limit 5, nor something else). */
export function isModernStore(store: unknown): store is Store {
  if (typeof store !== 'object' || store === null) return false;
  const { increment, decrement, resetKey } = store as Partial<Store>;
  return typeof increment === 'function' && typeof decrement === 'function' && typeof resetKey === 'function';
}

/** Every problem with `rateLimit` options, each saying what to change. */
export function rateLimitProblems(options: Record<string, unknown>): string[] {
  const problems = Object.keys(options).flatMap((key) => {
    if (Object.hasOwn(ROUTER_OWNED, key)) return [`remove \`rateLimit.${key}\`: ${ROUTER_OWNED[key]}.`];
    if (!LIBRARY_OPTIONS.has(key)) {
      return [`\`rateLimit.${key}\` is not an express-rate-limit option: check its spelling (e.g. windowMs, limit, store, keyGenerator).`];
    }
    return [];
  });
  if (options.store !== undefined && !isModernStore(options.store)) {
    problems.push(
      '`rateLimit.store` must be an express-rate-limit Store with increment, decrement and resetKey, e.g. new RedisStore({sendCommand, prefix}) from rate-limit-redis.',
    );
  }
  return problems;
}
