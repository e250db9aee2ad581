/**
 * `createResursClient`: Create Session with retries, one deadline, a breaker, token refresh on
 * 401, and the answer checked before anyone sees it. Works in any Node program; knows nothing
 * of Express.
 */
import { randomUUID } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { silentLogger, withFields } from '../logger';
import { isLoopbackHost } from '../net';
import type { ResolvedClientOptions, ResursClientOptions } from '../options/options';
import { resolveClientOptions } from '../options/options';
import { createTokenSource } from '../auth/create-token-source';
import type { TokenSource } from '../auth/token-source';
import { sleep, untilAborted } from '../resilience/abort';
import { backoffDelay } from '../resilience/backoff';
import { BreakerOpen, createBreaker } from '../resilience/breaker';
import type { Breaker, BreakerCall } from '../resilience/breaker';
import { DeadlineExceeded, createDeadline } from '../resilience/deadline';
import type { Deadline } from '../resilience/deadline';
import { UpstreamFailure, statusFailure, transportFailure } from '../transport/failure';
import { createHttp } from '../transport/http';
import { checkSession } from './session';
import type { CheckoutSession, SessionRules } from './session';

/** What to create a session for. */
export interface CreateSessionInput {
  /** A campaign name; omitted means only non-campaign payment methods. */
  campaign?: string;
}

/** Per-call context. */
export interface CreateSessionContext {
  /** Forwarded to Resurs as X-Request-Id and written in every log line. Default: a new UUID. */
  requestId?: string;
  /** Abort to stop: the attempt in flight is cancelled and no further attempt is made. */
  signal?: AbortSignal;
}

/** The upstream call without Express. */
export interface ResursClient {
  /**
   * Creates a session. Resolves to a validated session (exactly `{id, expiresAt, embed: {src}}`);
   * rejects with a ResursCheckoutError, or with the signal's reason when `signal` aborts.
   */
  createSession(input?: CreateSessionInput, context?: CreateSessionContext): Promise<CheckoutSession>;
}

/** Seconds suggested in Retry-After when Resurs is unreachable and said nothing itself. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;

/** Creates a client; throws ConfigError on invalid options. */
export function createResursClient(options: ResursClientOptions): ResursClient {
  return buildResursClient(resolveClientOptions(options));
}

/** Builds a client from already-resolved options (the router shares its validation). */
export function buildResursClient(options: ResolvedClientOptions): ResursClient {
  const http = createHttp(options);
  const url = `${options.baseUrl}/stores/${encodeURIComponent(options.storeId)}/sessions`;
  const rules: SessionRules = {
    baseUrlIsLoopback: isLoopbackHost(new URL(options.baseUrl).hostname),
    allowedScriptOrigins: options.allowedScriptOrigins,
  };
  const tokens = createTokenSource(options.auth, { http, timeoutMs: options.timeoutMs, logger: options.logger });
  // An attempt cut off by the request's deadline got no answer in time: a failure like a timeout.
  const breaker = createBreaker(
    options.breaker,
    (error) => (error instanceof UpstreamFailure && error.sickness) || error instanceof DeadlineExceeded,
  );
  const call: CallSettings = { http, url, rules, tokens, breaker, options };

  return {
    async createSession(input = {}, context = {}) {
      const requestId = context.requestId ?? randomUUID();
      const log = options.logger === silentLogger ? silentLogger : withFields(options.logger, { requestId });
      const deadline = createDeadline(options.deadlineMs, context.signal);
      const body = input.campaign === undefined ? '{}' : JSON.stringify({ campaign: input.campaign });
      try {
        return await createWithRetries(call, { body, requestId, log, deadline });
      } catch (error) {
        throw finalError(error, { log, refreshable: tokens.refreshable, callerSignal: context.signal });
      } finally {
        deadline.dispose();
      }
    },
  };
}

interface CallSettings {
  http: AxiosInstance;
  url: string;
  rules: SessionRules;
  tokens: TokenSource;
  breaker: Breaker;
  options: ResolvedClientOptions;
}

interface Call {
  body: string;
  requestId: string;
  log: Logger;
  deadline: Deadline;
}

/** The retry loop. Throws UpstreamFailure (the last one), BreakerOpen, or an abort reason. */
async function createWithRetries(settings: CallSettings, call: Call): Promise<CheckoutSession> {
  const { tokens, breaker, options } = settings;
  const { deadline, log } = call;
  let lastFailure: UpstreamFailure | undefined;
  let refreshed = false;
  let retriesUsed = 0;
  /** One token per request, kept across retries; fetched again only after a 401. */
  let token: string | undefined;

  const breakerCall: BreakerCall = {
    signal: deadline.signal,
    onOpen: () => log.warn({ breaker: 'open' }, 'Circuit breaker opened: Resurs keeps failing; answering 503 without calling it for a while.'),
    onClose: () => log.info({ breaker: 'closed' }, 'Circuit breaker closed: Resurs answered again.'),
  };

  for (let attempt = 1; ; attempt++) {
    if (breaker.isOpen()) throw lastFailure ?? new BreakerOpen(breaker.retryAfterMs());
    token ??= await untilAborted(
      tokens.getToken({ signal: deadline.signal, timeoutMs: Math.min(options.timeoutMs, deadline.remaining()), log }),
      deadline.signal,
    );
    const bearer = token;
    const started = Date.now();
    try {
      // Bounded by the deadline even while the breaker holds the call back behind a probe.
      const { session, status } = await untilAborted(breaker.execute(() => attemptOnce(settings, call, bearer), breakerCall), deadline.signal);
      log.info({ attempt, upstreamStatus: status, latencyMs: Date.now() - started }, 'Resurs created a session.');
      return session;
    } catch (error) {
      if (error instanceof BreakerOpen) throw lastFailure ?? error;
      if (!(error instanceof UpstreamFailure)) throw error;
      lastFailure = error;
      log.warn(
        { attempt, upstreamStatus: error.status, latencyMs: Date.now() - started, reason: error.message },
        'Resurs attempt failed.',
      );
      if (error.status === 401) {
        tokens.invalidate(bearer, log); // never offered again, even after the one refresh
        token = undefined;
        if (tokens.refreshable && !refreshed) {
          refreshed = true; // one fresh token, on top of `retries`
          continue;
        }
      }
      if (!error.retryable || retriesUsed >= options.retries || breaker.isOpen()) throw error;
      retriesUsed++;
      if (error.retryAfterMs !== undefined && error.retryAfterMs >= deadline.remaining()) {
        throw new ResursCheckoutError('upstream_unavailable', 'Resurs asked us to wait longer than this request may take. Try again later.', {
          retryAfter: error.retryAfterMs / 1000,
          cause: error,
        });
      }
      const delay = error.retryAfterMs ?? backoffDelay(retriesUsed);
      if (delay >= deadline.remaining()) throw error;
      await sleep(delay, deadline.signal);
    }
  }
}

/** One POST to Resurs, bounded by the attempt timeout and the request's deadline. */
async function attemptOnce(settings: CallSettings, call: Call, token: string): Promise<{ session: CheckoutSession; status: number }> {
  const { deadline } = call;
  if (deadline.signal.aborted) throw deadline.signal.reason;
  const attempt = new AbortController();
  // When the deadline comes first, only its signal stops the attempt, so the answer is always
  // told as "out of time" (DeadlineExceeded), never raced by an attempt timer firing at the same ms.
  const { timeoutMs } = settings.options;
  const timeout = timeoutMs < deadline.remaining() ? setTimeout(() => attempt.abort(), timeoutMs) : undefined;
  const onStop = () => attempt.abort(deadline.signal.reason);
  deadline.signal.addEventListener('abort', onStop, { once: true });
  try {
    const response = await settings.http.post<string>(settings.url, call.body, {
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'X-Request-Id': call.requestId },
      signal: attempt.signal,
    });
    if (response.status !== 200 && response.status !== 201) throw statusFailure(response, 'Resurs');
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.data);
    } catch {
      throw new UpstreamFailure('invalid', 'Resurs answered something that is not JSON', response.status);
    }
    const session = checkSession(parsed, settings.rules);
    if (typeof session === 'string') throw new UpstreamFailure('invalid', `Resurs' answer was refused: ${session}`, response.status);
    return { session, status: response.status };
  } catch (error) {
    if (error instanceof UpstreamFailure) throw error;
    if (deadline.signal.aborted) throw deadline.signal.reason;
    throw transportFailure(error, 'Resurs', attempt.signal.aborted);
  } finally {
    clearTimeout(timeout);
    deadline.signal.removeEventListener('abort', onStop);
  }
}

interface FinalContext {
  log: Logger;
  refreshable: boolean;
  callerSignal: AbortSignal | undefined;
}

/** Maps whatever ended the call to the contract's answer (and one log line saying why). */
function finalError(error: unknown, { log, refreshable, callerSignal }: FinalContext): unknown {
  if (error instanceof ResursCheckoutError) return error;
  if (callerSignal?.aborted && error === callerSignal.reason) {
    log.info({}, 'The caller went away; the Resurs call was cancelled.');
    return error;
  }
  if (error instanceof DeadlineExceeded) {
    log.warn({ budgetMs: error.budgetMs }, 'The request ran out of time (deadlineMs) before Resurs answered.');
    return new ResursCheckoutError('upstream_timeout', 'Resurs did not answer in time. Try again shortly.', { cause: error });
  }
  if (error instanceof BreakerOpen) {
    return new ResursCheckoutError('upstream_unavailable', 'Resurs is failing right now; we are giving it a short rest. Try again shortly.', {
      retryAfter: Math.max(1, error.retryAfterMs / 1000),
      cause: error,
    });
  }
  if (!(error instanceof UpstreamFailure)) return error; // a bug: the router answers 500
  return failureError(error, log, refreshable);
}

function failureError(failure: UpstreamFailure, log: Logger, refreshable: boolean): ResursCheckoutError {
  const unavailable = (retryAfterMs: number | undefined) =>
    new ResursCheckoutError('upstream_unavailable', 'Resurs is unavailable right now. Try again shortly.', {
      retryAfter: retryAfterMs !== undefined ? retryAfterMs / 1000 : DEFAULT_RETRY_AFTER_SECONDS,
      cause: failure,
    });
  if (failure.kind === 'network') return unavailable(undefined);
  if (failure.kind === 'timeout' || failure.status === 504) {
    return new ResursCheckoutError('upstream_timeout', 'Resurs did not answer in time. Try again shortly.', { cause: failure });
  }
  if (failure.status === 429 || failure.status === 503) return unavailable(failure.retryAfterMs);
  if (failure.status === 401) {
    log.error(
      {},
      refreshable
        ? 'Resurs refused the merchant token (401) even after a fresh one was fetched: check the credentials and the store id.'
        : 'Resurs refused the merchant token (401); a static auth.token cannot be refreshed: issue a new one, or use client credentials.',
    );
  } else if (failure.kind === 'invalid' || failure.kind === 'too-large') {
    log.error({ reason: failure.message }, 'Resurs answered something we cannot pass on.');
  }
  return new ResursCheckoutError('upstream_error', 'Resurs could not create a checkout session. Try again, or choose another way to pay.', {
    cause: failure,
  });
}
