/** Writing answers to Express responses: the only place that sets status, headers and body. */
import type { Response } from 'express';
import type { ResursCheckoutError } from '../errors';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../problem';
import type { CheckoutSession } from '../resurs/session';

/** 201 with exactly `{id, expiresAt, embed: {src}}`. */
export function sendSession(res: Response, session: CheckoutSession): void {
  sendCreated(res, JSON.stringify({ id: session.id, expiresAt: session.expiresAt, embed: { src: session.embed.src } }));
}

/** What the payment route answers. */
export interface PaymentAnswer {
  paymentId: string;
  status: string;
  /** Where the browser goes next, when Resurs asked for it. */
  redirectUrl?: string;
}

/** 201 with exactly `{paymentId, status, redirectUrl?}`. */
export function sendPayment(res: Response, answer: PaymentAnswer): void {
  const body: PaymentAnswer = { paymentId: answer.paymentId, status: answer.status };
  if (answer.redirectUrl !== undefined) body.redirectUrl = answer.redirectUrl;
  sendCreated(res, JSON.stringify(body));
}

/** 204: a callback handled (or a duplicate recognised). */
export function sendNoContent(res: Response): void {
  res.statusCode = 204;
  res.setHeader('Cache-Control', 'no-store');
  res.end();
}

function sendCreated(res: Response, body: string): void {
  // Written directly: res.send would hash the body for an ETag that a no-store POST answer never uses.
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
