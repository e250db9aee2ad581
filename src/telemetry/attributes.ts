/**
 * The attribute values telemetry records, computed from our own facts only: span names,
 * the upstream's address (never its query, which is where secrets travel), and the error type of
 * an attempt or an operation. Pure functions; nothing here ever sees a body, a header or a token.
 */
import type { Attributes } from '@opentelemetry/api';
import { ResursCheckoutError } from '../errors';
import { DeadlineExceeded } from '../resilience/deadline';
import { UpstreamFailure } from '../transport/failure';

/** `'create session'` → `'resurs.create_session'`. */
export function operationSpanName(operation: string): string {
  return `resurs.${operation.replace(/ /g, '_')}`;
}

/** The route names of the request metric and the route spans. */
export type RouteName = 'session' | 'payment' | 'callback.authorization' | 'callback.management';

/** The route span's name: `resurs.checkout.session`, `resurs.checkout.payment`, `resurs.callback.authorization`, ... */
export function routeSpanName(route: RouteName): string {
  return route.startsWith('callback.') ? `resurs.${route}` : `resurs.checkout.${route}`;
}

/** The upstream's host, port and URL without query or fragment (HTTP client semantic conventions). */
export interface UpstreamAddress {
  'server.address': string;
  'server.port': number;
  'url.full': string;
}

export function upstreamAddress(url: string): UpstreamAddress {
  const parsed = new URL(url);
  const port = parsed.port !== '' ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
  // origin + pathname: no userinfo, no query, no fragment.
  return { 'server.address': parsed.hostname, 'server.port': port, 'url.full': `${parsed.origin}${parsed.pathname}` };
}

/**
 * `error.type` of a failed attempt: Resurs' status for an error answer (`'503'`), else what went
 * wrong (`'timeout'`, `'network'`, `'invalid'`, `'too-large'`, `'deadline_exceeded'`), `'_OTHER'`
 * for anything else (the caller went away, a bug).
 */
export function attemptErrorType(error: unknown): string {
  if (error instanceof UpstreamFailure) return error.kind === 'status' && error.status !== undefined ? String(error.status) : error.kind;
  if (error instanceof DeadlineExceeded) return 'deadline_exceeded';
  return '_OTHER';
}

/** `error.type` of a failed operation or route: our error code (`'upstream_unavailable'`), `'aborted'` when the caller left. */
export function operationErrorType(error: unknown, aborted: boolean): string {
  if (error instanceof ResursCheckoutError) return error.code;
  return aborted ? 'aborted' : 'internal_error';
}

/** `resurs.payment.status` of an answer that is a payment; none for anything else. */
export function answerAttributes(value: unknown): Attributes | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const status = (value as { status?: unknown }).status;
  // Resurs' statuses are upper-case words; anything else is not recorded.
  return typeof status === 'string' && /^[A-Z_]{1,40}$/.test(status) ? { 'resurs.payment.status': status } : undefined;
}
