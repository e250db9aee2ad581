/**
 * Maps whatever ended a call to the contract's answer, with one log line saying why. Pure but
 * for the log line.
 */
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { BreakerOpen } from '../resilience/breaker';
import { DeadlineExceeded } from '../resilience/deadline';
import { UpstreamFailure } from './failure';
import type { Operation } from './operation';
import type { StopSignal } from '../resilience/stop';

export interface FinalContext {
  log: Logger;
  refreshable: boolean;
  callerSignal: StopSignal | undefined;
}

export function finalError(error: unknown, operation: Operation<unknown>, { log, refreshable, callerSignal }: FinalContext): unknown {
  if (error instanceof ResursCheckoutError) return error;
  if (callerSignal?.aborted && error === callerSignal.reason) {
    log.info({ operation: operation.name }, 'The caller went away; the Resurs call was cancelled.');
    return error;
  }
  if (error instanceof DeadlineExceeded) {
    log.warn({ operation: operation.name, budgetMs: error.budgetMs }, 'The request ran out of time (deadlineMs) before Resurs answered.');
    return new ResursCheckoutError('upstream_timeout', 'Resurs did not answer in time. Try again shortly.', { cause: error });
  }
  if (error instanceof BreakerOpen) {
    return new ResursCheckoutError('upstream_unavailable', 'Resurs is failing right now; we are giving it a short rest. Try again shortly.', {
      retryAfter: Math.max(1, error.retryAfterMs / 1000),
      cause: error,
    });
  }
  if (!(error instanceof UpstreamFailure)) return error; // a bug: the router answers 500
  return failureError(error, operation, log, refreshable);
}

function failureError(failure: UpstreamFailure, operation: Operation<unknown>, log: Logger, refreshable: boolean): ResursCheckoutError {
  const unavailable = (retryAfterMs: number | undefined) =>
    new ResursCheckoutError('upstream_unavailable', 'Resurs is unavailable right now. Try again shortly.', {
      ...(retryAfterMs !== undefined ? { retryAfter: retryAfterMs / 1000 } : {}),
      cause: failure,
    });
  if (failure.kind === 'network') return unavailable(undefined);
  if (failure.kind === 'timeout' || failure.status === 504) {
    return new ResursCheckoutError('upstream_timeout', 'Resurs did not answer in time. Try again shortly.', { cause: failure });
  }
  if (failure.status === 429 || failure.status === 503) return unavailable(failure.retryAfterMs);
  if (failure.status === 401) {
    log.error(
      { operation: operation.name },
      refreshable
        ? 'Resurs refused the merchant token (401) even after a fresh one was fetched: check the credentials and the store id.'
        : 'Resurs refused the merchant token (401); a static auth.token cannot be refreshed: issue a new one, or use client credentials.',
    );
  } else if (failure.kind === 'invalid' || failure.kind === 'too-large') {
    log.error({ operation: operation.name, reason: failure.message }, 'Resurs answered something we cannot pass on.');
  } else if (failure.status !== undefined && failure.status >= 400 && failure.status < 500) {
    const own = operation.refused?.(failure.status, failure.body);
    if (own) return own;
  }
  return new ResursCheckoutError('upstream_error', operation.failureDetail, { cause: failure });
}
