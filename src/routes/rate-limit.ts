/**
 * The optional per-client rate limit, on express-rate-limit. Its handler is replaced by the
 * 429 problem answer, and a failing or slow store (Redis down) lets the request through with a
 * warning: the rate limit fails open, like the session store.
 */
import { rateLimit } from 'express-rate-limit';
import type { ClientRateLimitInfo, IncrementResponse, Options as LibraryOptions, Store } from 'express-rate-limit';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ResursCheckoutError } from '../errors';
import { isModernStore } from '../options/rate-limit-options';
import { withTimeout } from '../resilience/timeout';
import { errorMessage } from '../logger';
import type { Logger } from '../logger';
import type { RateLimitOptions } from '../options/options';

/** Longest wait for one rate-limit store call before the request goes on without the limit. */
export const RATE_LIMIT_STORE_TIMEOUT_MS = 500;

/**
 * After a store call fails (or `init`, e.g. Redis down at start-up), requests go on without the
 * limit for this long without asking the store, so an outage costs a request at most one timeout.
 */
export const RATE_LIMIT_STORE_COOL_DOWN_MS = 1000;

/** Stores already handed to a router: express-rate-limit cannot see them through our wrapper. */
const usedStores = new WeakSet<object>();

/** What the router gives the rate limit. */
export interface RateLimitDeps {
  /** The merchant's logger: express-rate-limit's own warnings (ERR_ERL_*) go here. */
  logger: Logger;
  /** The request's logger (its lines carry the request id). */
  logOf: (res: Response) => Logger;
  /** Answers a problem the way every other answer of the router is written, logged and hooked. */
  fail: (res: Response, error: ResursCheckoutError) => void;
}

/** A store call that failed or timed out: the request goes on without the limit. */
class StoreFailure extends Error {
  constructor(
    readonly op: string,
    readonly reason: string,
  ) {
    super(`rate-limit store ${op} failed: ${reason}`);
    this.name = 'StoreFailure';
  }
}

/**
 * Builds the rate-limit stage. Our defaults: `standardHeaders: 'draft-8'` (`RateLimit` and
 * `RateLimit-Policy`), and no legacy `X-RateLimit-*` headers unless the merchant sets
 * `legacyHeaders` (or the older `headers`). The options were checked with the others
 * (rate-limit-options.ts), so a typo or an option the router owns never gets here.
 */
export function createRateLimit(options: RateLimitOptions, deps: RateLimitDeps): RequestHandler {
  const { logger, logOf, fail } = deps;
  const merchantSetsLegacy = options.legacyHeaders !== undefined || options.headers !== undefined;
  const { store, ...rest } = options;
  if (store) {
    if (usedStores.has(store)) {
      logger.warn(
        { code: 'ERR_ERL_STORE_REUSE' },
        'rate limit: this store instance is already used by another checkout router; give each router its own store (with its own prefix), or they count each other\'s requests.',
      );
    }
    usedStores.add(store);
  }

  const limiter = rateLimit({
    standardHeaders: 'draft-8',
    ...(merchantSetsLegacy ? {} : { legacyHeaders: false }),
    ...rest,
    ...(store && isModernStore(store) ? { store: guardRateLimitStore(store, logger) } : {}),
    // We catch store failures ourselves (StoreFailure below) to log them with the request id.
    passOnStoreError: false,
    logger: {
      error: (error: unknown, message?: string) => logLibrary(logger, error, message),
      warn: (error: unknown, message?: string) => logLibrary(logger, error, message),
    },
    handler: (req: Request, res: Response, _next: NextFunction, used: LibraryOptions) => {
      // express-rate-limit has set Retry-After already (from the merchant's `retryAfter` or the
      // window) when it sends any rate-limit headers; otherwise it is worked out here.
      const set = Number(res.getHeader('Retry-After'));
      const info = (req as unknown as Record<string, { resetTime?: Date } | undefined>)[used.requestPropertyName];
      const resetMs = info?.resetTime ? info.resetTime.getTime() - Date.now() : used.windowMs;
      fail(
        res,
        new ResursCheckoutError('rate_limited', 'Too many checkout attempts from this client. Wait a moment and try again.', {
          retryAfter: Math.max(1, Number.isFinite(set) && set > 0 ? set : resetMs / 1000),
        }),
      );
    },
  });

  return (req, res, next) => {
    void limiter(req, res, (error?: unknown) => {
      if (error instanceof StoreFailure) {
        logOf(res).warn(
          { op: error.op, err: error.reason },
          `rate limit: store failed, request allowed without the limit: ${error.op}: ${error.reason}`,
        );
        next();
        return;
      }
      next(error as Parameters<NextFunction>[0]);
    });
  };
}

/** `{totalHits: number ≥ 0, resetTime?: Date}`, as express-rate-limit needs it. */
function isIncrementResponse(value: unknown): value is IncrementResponse {
  if (typeof value !== 'object' || value === null) return false;
  const { totalHits, resetTime } = value as Partial<IncrementResponse>;
  return (
    typeof totalHits === 'number' && Number.isFinite(totalHits) && totalHits >= 0 &&
    (resetTime === undefined || (resetTime instanceof Date && !Number.isNaN(resetTime.getTime())))
  );
}

/** express-rate-limit's own warnings and errors (ERR_ERL_* validations), on our logger. */
function logLibrary(logger: Logger, error: unknown, message?: string): void {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  const err = errorMessage(error);
  logger.warn({ ...(code ? { code } : {}), err }, message ?? `express-rate-limit: ${err}`);
}

/**
 * Wraps the merchant's store (e.g. rate-limit-redis' `RedisStore`) so that each call fails with a
 * {@link StoreFailure} within {@link RATE_LIMIT_STORE_TIMEOUT_MS} instead of hanging or throwing
 * something else, is not even tried for {@link RATE_LIMIT_STORE_COOL_DOWN_MS} after a failure,
 * and so that a failed `init` (Redis down at start-up, which would leave rate-limit-redis without
 * its scripts for good) is retried once the cool-down is over.
 * `prefix` and `localKeys` are passed through for express-rate-limit's own checks.
 */
function guardRateLimitStore(inner: Store, logger: Logger): Store {
  let initOptions: LibraryOptions | undefined;
  /** Resolves true once `inner.init` has succeeded (or when there is none). */
  let ready: Promise<boolean> = Promise.resolve(true);
  /** After a failure the store is not asked until then (epoch ms). */
  let restingUntil = 0;

  const runInit = (first: boolean): Promise<boolean> => {
    if (typeof inner.init !== 'function' || !initOptions) return Promise.resolve(true);
    const options = initOptions;
    return Promise.resolve()
      .then(() => inner.init!(options))
      .then(
        () => true,
        (error: unknown) => {
          restingUntil = Date.now() + RATE_LIMIT_STORE_COOL_DOWN_MS;
          const err = errorMessage(error);
          // Later attempts show up as each request's own warning.
          if (first) logger.warn({ op: 'init', err }, `rate limit: store failed to start, retrying on later requests: ${err}`);
          return false;
        },
      );
  };

  function guard<R>(op: string, call: () => Promise<R>): Promise<R> {
    if (restingUntil > Date.now()) {
      return Promise.reject(new StoreFailure(op, `failed less than ${RATE_LIMIT_STORE_COOL_DOWN_MS} ms ago, not asked`));
    }
    const pending = async () => {
      const started = ready;
      if (!(await started)) {
        if (ready === started) ready = runInit(false); // one retry for all the requests waiting here
        if (!(await ready)) throw new StoreFailure(op, 'the store has not started');
      }
      return call();
    };
    return withTimeout(pending, RATE_LIMIT_STORE_TIMEOUT_MS, () => new StoreFailure(op, `timed out after ${RATE_LIMIT_STORE_TIMEOUT_MS} ms`)).catch(
      (error: unknown) => {
        restingUntil = Date.now() + RATE_LIMIT_STORE_COOL_DOWN_MS;
        throw error instanceof StoreFailure ? error : new StoreFailure(op, errorMessage(error));
      },
    );
  }

  const guarded: Store = {
    init(options: LibraryOptions) {
      initOptions = options;
      ready = runInit(true);
    },
    increment: (key: string): Promise<IncrementResponse> =>
      guard('increment', async () => {
        const answer: unknown = await inner.increment(key);
        // A store answering garbage fails open like one that fails: never a 500.
        if (!isIncrementResponse(answer)) throw new StoreFailure('increment', 'the store answered something that is not a hit count');
        return answer;
      }),
    decrement: (key: string): Promise<void> => guard('decrement', async () => inner.decrement(key)),
    resetKey: (key: string): Promise<void> => guard('resetKey', async () => inner.resetKey(key)),
  };
  if (typeof inner.get === 'function') {
    const get = inner.get.bind(inner);
    guarded.get = (key: string): Promise<ClientRateLimitInfo | undefined> => guard('get', async () => get(key));
  }
  if (typeof inner.resetAll === 'function') {
    const resetAll = inner.resetAll.bind(inner);
    guarded.resetAll = () => guard('resetAll', async () => resetAll());
  }
  if (typeof inner.shutdown === 'function') guarded.shutdown = inner.shutdown.bind(inner);
  if (inner.localKeys !== undefined) guarded.localKeys = inner.localKeys;
  if (inner.prefix !== undefined) guarded.prefix = inner.prefix;
  return guarded;
}
