/**
 * Telemetry of the transport: one span per operation (`resurs.create_session`, ...), a CLIENT
 * span per HTTP attempt under it (HTTP client semantic conventions), the attempt duration
 * histogram, the payments counter, and the breaker's open/close as span events and as the
 * per-host open-breakers counter. Knows nothing of bodies, headers or tokens: it is given the
 * operation's name, method and URL, answer statuses and our own error classes.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Context } from '@opentelemetry/api';
import { UpstreamFailure } from '../transport/failure';
import { answerAttributes, attemptErrorType, operationErrorType, operationSpanName, upstreamAddress } from './attributes';
import { instruments } from './metrics';
import { NO_SPAN, tracer } from './tracer';

/** What telemetry reads of an operation. */
export interface TracedOperation {
  readonly name: string;
  readonly method: string;
  readonly url: string;
}

/** One operation's span, from its first attempt to its final answer. */
export interface OperationTrace {
  /** Runs `fn` with the operation's span active (for nested instrumentation). */
  run<R>(fn: () => Promise<R>): Promise<R>;
  /** Attempt `n` (1-based) as a CLIENT span; `run` gets the context to propagate to Resurs. */
  attempt<R extends { status: number }>(n: number, run: (traceContext: Context) => Promise<R>): Promise<R>;
  breakerOpened(): void;
  breakerClosed(): void;
  succeeded(value: unknown): void;
  /** `final` is the error the caller gets; `aborted` when the caller went away. */
  failed(final: unknown, aborted: boolean): void;
}

export interface TransportTelemetry {
  operation(operation: TracedOperation): OperationTrace;
}

/** One per transport: it remembers which hosts' breakers it reported open, so each counts once. */
export function createTransportTelemetry(): TransportTelemetry {
  const openHosts = new Set<string>();
  const setBreaker = (address: Attributes, key: string, open: boolean): void => {
    if (open === openHosts.has(key)) return;
    if (open) openHosts.add(key);
    else openHosts.delete(key);
    instruments().breakerOpen.add(open ? 1 : -1, address);
  };

  return {
    operation(operation) {
      const tracing = tracer();
      const measuring = instruments();
      if (!tracing && !measuring.enabled) return UNOBSERVED;
      const address = upstreamAddress(operation.url);
      const host = { 'server.address': address['server.address'], 'server.port': address['server.port'] };
      const hostKey = `${host['server.address']}:${host['server.port']}`;
      const parent = context.active();
      const span =
        tracing?.startSpan(operationSpanName(operation.name), { kind: SpanKind.INTERNAL, attributes: { 'resurs.operation': operation.name, ...host } }, parent) ??
        NO_SPAN;
      const own = trace.setSpan(parent, span);
      let attempts = 0;

      return {
        run: (fn) => context.with(own, fn),
        attempt(n, run) {
          attempts = n;
          const started = performance.now();
          const attempt =
            tracing?.startSpan(
              operation.method,
              {
                kind: SpanKind.CLIENT,
                attributes: { 'http.request.method': operation.method, ...address, ...(n > 1 ? { 'http.request.resend_count': n - 1 } : {}) },
              },
              own,
            ) ?? NO_SPAN;
          const end = (status: number | undefined, error: unknown): void => {
            const measured: Attributes = { 'server.address': host['server.address'], 'resurs.operation': operation.name };
            if (status !== undefined) {
              attempt.setAttribute('http.response.status_code', status);
              measured['http.response.status_code'] = status;
            }
            if (error !== undefined) {
              const type = attemptErrorType(error);
              attempt.setAttribute('error.type', type);
              attempt.setStatus({ code: SpanStatusCode.ERROR });
              if (status === undefined) measured['error.type'] = type;
            }
            attempt.end();
            measuring.upstreamDuration.record((performance.now() - started) / 1000, measured);
          };
          return run(trace.setSpan(own, attempt)).then(
            (result) => {
              end(result.status, undefined);
              return result;
            },
            (error: unknown) => {
              end(error instanceof UpstreamFailure ? error.status : undefined, error);
              throw error;
            },
          );
        },
        breakerOpened() {
          span.addEvent('resurs.breaker.open', host);
          setBreaker(host, hostKey, true);
        },
        breakerClosed() {
          span.addEvent('resurs.breaker.close', host);
          setBreaker(host, hostKey, false);
        },
        succeeded(value) {
          const answer = answerAttributes(value);
          if (answer) span.setAttributes(answer);
          if (operation.name === 'create payment' && answer) measuring.payments.add(1, { status: answer['resurs.payment.status'] });
          span.setAttribute('resurs.attempts', attempts);
          span.end();
        },
        failed(final, aborted) {
          const type = operationErrorType(final, aborted);
          span.setAttributes({ 'error.type': type, 'resurs.attempts': attempts });
          span.setStatus({ code: SpanStatusCode.ERROR, message: type });
          span.end();
        },
      };
    },
  };
}

/** While no SDK is registered: nothing is made or measured; the calls just run. */
const UNOBSERVED: OperationTrace = {
  run: (fn) => fn(),
  attempt: (_n, run) => run(context.active()),
  breakerOpened: () => undefined,
  breakerClosed: () => undefined,
  succeeded: () => undefined,
  failed: () => undefined,
};
