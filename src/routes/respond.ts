/** Writing answers to Express responses: the only place that sets status, headers and body. */
import type { Response } from 'express';
import type { ResursCheckoutError } from '../errors';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../problem';
import type { CheckoutSession } from '../resurs/session';

/** 201 with exactly `{id, expiresAt, embed: {src}}`. */
export function sendSession(res: Response, session: CheckoutSession): void {
  // Written directly: res.send would hash the body for an ETag that a no-store POST answer never uses.
  const body = JSON.stringify({ id: session.id, expiresAt: session.expiresAt, embed: { src: session.embed.src } });
  res.statusCode = 201;
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** The RFC 9457 problem answer, with Retry-After (and Allow for 405) where they apply. */
export function sendProblem(res: Response, error: ResursCheckoutError, requestId: string): void {
  if (res.headersSent) return;
  if (error.retryAfter !== undefined) res.set('Retry-After', String(error.retryAfter));
  if (error.code === 'method_not_allowed') res.set('Allow', 'POST');
  res
    .status(error.status)
    .set('Cache-Control', 'no-store')
    .set('Content-Type', PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(toProblem(error, requestId)));
}
