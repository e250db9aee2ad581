/**
 * The one way to call Resurs. Every operation (create session, create/get/search/capture/cancel/
 * refund payment) goes through `send`: one token source, one deadline per request, one breaker
 * per upstream host, and a retry loop driven by the operation's own policy. Knows nothing of
 * Express.
 */
import { randomUUID } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import { createTokenSource } from '../auth/create-token-source';
import type { TokenSource } from '../auth/token-source';
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { silentLogger, withFields } from '../logger';
import type { ResolvedUpstreamOptions } from '../options/options';
import { sleep, untilAborted } from '../resilience/abort';
import { backoffDelay } from '../resilience/backoff';
import { BreakerOpen } from '../resilience/breaker';
import type { BreakerCall } from '../resilience/breaker';
import { DeadlineExceeded, createDeadline } from '../resilience/deadline';
import type { Deadline } from '../resilience/deadline';
import type { StopSignal } from '../resilience/stop';
import { attemptOnce } from './attempt';
import { createBreakers } from './breakers';
import type { Breakers } from './breakers';
import { finalError } from './final-error';
import { UpstreamFailure } from './failure';
import { createHttp } from './http';
import type { Operation } from './operation';
import { createTransportTelemetry } from '../telemetry/operation';
import type { OperationTrace, TransportTelemetry } from '../telemetry/operation';

/** Per-call context. */
export interface CallContext {
  /** Forwarded to Resurs as X-Request-Id and written in every log line. Default: a new UUID. */
  requestId?: string;
  /** Abort to stop: the attempt in flight is cancelled and no further attempt is made. */
  signal?: AbortSignal;
}

/** CallContext as the package itself passes it: any {@link StopSignal}, such as a light Stop. */
export interface ScopeContext extends Omit<CallContext, 'signal'> {
  signal?: StopSignal | undefined;
}

/** One request's budget and log, shared by every call it makes (a create and its search). */
export interface RequestScope {
  readonly requestId: string;
  readonly log: Logger;
  readonly deadline: Deadline;
  /** The caller's own signal (storefront gone), to tell "cancelled" from "out of time". */
  readonly callerSignal: StopSignal | undefined;
}

/** Raised (as `cause` of the final error) when a write may have reached Resurs without an answer. */
export class MaybeSent extends Error {
  override readonly name = 'MaybeSent';
  constructor(readonly final: unknown) {
    super('the request may have reached Resurs, but no answer came back');
  }
}

export interface Transport {
  readonly http: AxiosInstance;
  readonly tokens: TokenSource;
  /** Opens a request scope: the deadline starts now. Close it with `scope.deadline.dispose()`. */
  scope(context?: ScopeContext): RequestScope;
  /**
   * Sends `operation` within `scope`. Resolves to the checked answer; rejects with a
   * ResursCheckoutError (or the caller's abort reason). A non-idempotent operation that may have
   * reached Resurs rejects with a MaybeSent whose `final` is that error, so the caller can settle it.
   */
  send<T>(operation: Operation<T>, scope: RequestScope): Promise<T>;
  /** Runs `work` in a new request scope, disposed when it settles. */
  within<T>(context: ScopeContext | undefined, work: (scope: RequestScope) => Promise<T>): Promise<T>;
  /** `within` + `send`, for a single call (a MaybeSent is answered as its final error). */
  call<T>(operation: Operation<T>, context?: ScopeContext): Promise<T>;
}

export function createTransport(options: ResolvedUpstreamOptions): Transport {
  const http = createHttp(options);
  const telemetry = createTransportTelemetry();
  const tokens = createTokenSource(options.auth, { http, timeoutMs: options.timeoutMs, logger: options.logger, telemetry });
  // An attempt cut off by the request's deadline got no answer in time: a failure like a timeout.
  const breakers = createBreakers(
    options.breaker,
    (error) => (error instanceof UpstreamFailure && error.sickness) || error instanceof DeadlineExceeded,
  );
  const settings: LoopSettings = { http, tokens, breakers, options, telemetry };

  const transport: Transport = {
    http,
    tokens,
    scope(context = {}) {
      const requestId = context.requestId ?? randomUUID();
      const log = options.logger === silentLogger ? silentLogger : withFields(options.logger, { requestId });
      return { requestId, log, deadline: createDeadline(options.deadlineMs, context.signal), callerSignal: context.signal };
    },
    async send(operation, scope) {
      const trace = settings.telemetry.operation(operation);
      const state: LoopState = { maybeSent: false, trace };
      try {
        const value = await trace.run(() => sendWithRetries(settings, operation, scope, state));
        trace.succeeded(value);
        return value;
      } catch (error) {
        const final = finalError(error, operation, { log: scope.log, refreshable: tokens.refreshable, callerSignal: scope.callerSignal });
        trace.failed(final, scope.callerSignal?.aborted === true && final === scope.callerSignal.reason);
        if (!operation.idempotent && state.maybeSent && final !== scope.callerSignal?.reason) throw new MaybeSent(final);
        throw final;
      }
    },
    async within(context, work) {
      const scope = transport.scope(context);
      try {
        return await work(scope);
      } finally {
        scope.deadline.dispose();
      }
    },
    call(operation, context) {
      return transport.within(context, (scope) =>
        transport.send(operation, scope).catch((error: unknown) => {
          throw error instanceof MaybeSent ? error.final : error;
        }),
      );
    },
  };
  return transport;
}

interface LoopSettings {
  http: AxiosInstance;
  tokens: TokenSource;
  breakers: Breakers;
  options: ResolvedUpstreamOptions;
  telemetry: TransportTelemetry;
}

interface LoopState {
  /** An attempt of this call may have reached Resurs. */
  maybeSent: boolean;
  /** The operation's span: attempts, breaker events. */
  trace: OperationTrace;
}

/** The retry loop. Throws UpstreamFailure (the last one), BreakerOpen, ResursCheckoutError, or an abort reason. */
async function sendWithRetries<T>(settings: LoopSettings, operation: Operation<T>, scope: RequestScope, state: LoopState): Promise<T> {
  const { tokens, options } = settings;
  const { deadline, log } = scope;
  const breaker = settings.breakers.of(operation.url);
  let lastFailure: UpstreamFailure | undefined;
  let refreshed = false;
  let retriesUsed = 0;
  /** One token per request, kept across retries; fetched again only after a 401. */
  let token: string | undefined;

  const breakerCall: BreakerCall = {
    signal: deadline.signal,
    onOpen: () => {
      state.trace.breakerOpened();
      log.warn({ breaker: 'open' }, 'Circuit breaker opened: Resurs keeps failing; answering 503 without calling it for a while.');
    },
    onClose: () => {
      state.trace.breakerClosed();
      log.info({ breaker: 'closed' }, 'Circuit breaker closed: Resurs answered again.');
    },
  };

  for (let attempt = 1; ; attempt++) {
    if (breaker.isOpen()) throw lastFailure ?? new BreakerOpen(breaker.retryAfterMs());
    deadline.signal.throwIfAborted(); // a caller who already gave up costs no Resurs call
    token ??= tokens.current?.() ?? (await untilAborted(tokens.getToken({ signal: deadline.signal, log }), deadline.signal));
    const bearer = token;
    const started = Date.now();
    try {
      const request = { http: settings.http, operation, token: bearer, requestId: scope.requestId, deadline, timeoutMs: options.timeoutMs };
      // Bounded by the deadline even while the breaker holds the call back behind a probe.
      const { value, status } = await untilAborted(
        breaker.execute(() => {
          state.maybeSent = true; // from here on the request may reach Resurs
          return state.trace.attempt(attempt, (traceContext) => attemptOnce(request, traceContext));
        }, breakerCall),
        deadline.signal,
      );
      log.info({ operation: operation.name, attempt, upstreamStatus: status, latencyMs: Date.now() - started }, `Resurs answered ${operation.name}.`);
      return value;
    } catch (error) {
      if (error instanceof BreakerOpen) throw lastFailure ?? error;
      if (!(error instanceof UpstreamFailure)) throw error;
      lastFailure = error;
      // Refused before sending, or answered with a 4xx: Resurs did not act on it.
      if (!error.sent || (error.status !== undefined && error.status >= 400 && error.status < 500)) state.maybeSent = false;
      log.warn(
        { operation: operation.name, attempt, upstreamStatus: error.status, latencyMs: Date.now() - started, reason: error.message },
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
      // A money-moving write is sent again only when it provably never left this process.
      if (!operation.idempotent && error.sent) throw error;
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
