/**
 * Telemetry of the routes: a span per storefront or callback request (`resurs.checkout.session`,
 * `resurs.checkout.payment`, `resurs.callback.authorization`, `resurs.callback.management`)
 * that the operations' spans nest under, the request duration histogram, the sessions counter and
 * the callbacks counter. Given plain facts by the routes (status, our error code, reused); never
 * the request, its query (the callback's signature) or its body.
 */
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span } from '@opentelemetry/api';
import { routeSpanName } from './attributes';
import type { RouteName } from './attributes';
import { instruments } from './metrics';
import { NO_SPAN, tracer } from './tracer';

export type { RouteName } from './attributes';

/** One request's telemetry. */
export interface RouteTelemetry {
  readonly route: RouteName;
  readonly span: Span;
  readonly context: Context;
  /** performance.now() at the first stage. */
  readonly startedAt: number;
  /** Callbacks: the merchant's onPaymentUpdate was called for this request. */
  hookCalled: boolean;
  /** False while no SDK is registered: nothing to record. */
  readonly observed: boolean;
}

/** How the request ended, as the route's first stage sees it when the response closes. */
export interface RouteEnd {
  status: number;
  /** Our error code when the answer was a problem. */
  code: string | undefined;
  /** False when the connection closed before the answer was sent. */
  finished: boolean;
  /** The storefront's campaign, once its format was checked. */
  campaign: string | undefined;
  /** The request's Resurs store, once chosen (one of the router's `stores`: a short list). */
  storeId: string | undefined;
}

export type CallbackOutcome = 'handled' | 'duplicate' | 'refused' | 'retry' | 'invalid';

/** A callback's outcome from its answer: 204 with the hook called is handled, without it a duplicate. */
export function callbackOutcome(status: number, hookCalled: boolean): CallbackOutcome {
  if (status >= 200 && status < 300) return hookCalled ? 'handled' : 'duplicate';
  if (status === 403 || status === 404) return 'refused';
  if (status >= 400 && status < 500 && status !== 429) return 'invalid';
  return 'retry';
}

export function beginRoute(route: RouteName, method: string, httpRoute: string): RouteTelemetry {
  const parent = context.active();
  const tracing = tracer();
  if (!tracing && !instruments().enabled) return { route, span: NO_SPAN, context: parent, startedAt: 0, hookCalled: false, observed: false };
  const span =
    tracing?.startSpan(
      routeSpanName(route),
      { kind: SpanKind.INTERNAL, attributes: { 'resurs.route': route, 'http.route': httpRoute, 'http.request.method': method } },
      parent,
    ) ?? NO_SPAN;
  return { route, span, context: trace.setSpan(parent, span), startedAt: performance.now(), hookCalled: false, observed: true };
}

/** Runs the route's handler with its span active. */
export function runInRoute<R>(telemetry: RouteTelemetry, fn: () => R): R {
  return telemetry.observed ? context.with(telemetry.context, fn) : fn();
}

/** A session was answered: created, or reused from the store. */
export function noteSession(telemetry: RouteTelemetry, reused: boolean): void {
  if (!telemetry.observed) return;
  telemetry.span.setAttribute('resurs.reused', reused);
  instruments().sessions.add(1, { reused });
}

export function endRoute(telemetry: RouteTelemetry, end: RouteEnd): void {
  if (!telemetry.observed) return;
  const { span, route } = telemetry;
  const code = !end.finished ? 'aborted' : end.code ?? (end.status < 400 ? 'ok' : 'unknown');
  const spanAttributes: Attributes = { 'http.response.status_code': end.status };
  if (code !== 'ok') spanAttributes['error.type'] = code;
  if (end.campaign !== undefined) spanAttributes['resurs.campaign'] = end.campaign;
  const measured: Attributes = { route, code, 'http.response.status_code': end.status };
  if (end.storeId !== undefined) spanAttributes['resurs.store_id'] = measured['resurs.store_id'] = end.storeId;
  if (route === 'callback.authorization' || route === 'callback.management') {
    const outcome = end.finished ? callbackOutcome(end.status, telemetry.hookCalled) : 'retry';
    spanAttributes['resurs.callback.outcome'] = outcome;
    instruments().callbacks.add(1, { type: route.slice('callback.'.length), outcome });
  }
  span.setAttributes(spanAttributes);
  // As for a server span: a 4xx is the client's doing, not an error of ours.
  if (end.status >= 500 || !end.finished) span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  span.end();
  instruments().requestDuration.record((performance.now() - telemetry.startedAt) / 1000, measured);
}
