/**
 * What Resurs POSTs to the callback URLs: a hint naming a payment, never the truth (the router
 * looks the payment up). Pure.
 */
import { ResursCheckoutError } from '../errors';
import type { FieldError } from '../errors';
import { URL_SAFE_ID as ID } from './browser-url';

const AUTHORIZATION_STATUSES = new Set(['AUTHORIZED', 'CAPTURED', 'FROZEN', 'REJECTED']);
const MANAGEMENT_ACTIONS = new Set(['CAPTURE', 'REFUND', 'CANCEL']);

export interface AuthorizationCallback {
  paymentId: string;
  /** What Resurs says happened: a hint only. */
  status: string;
}

export interface ManagementCallback {
  paymentId: string;
  action: string;
  /** Resurs' id of the action: the dedupe key. */
  actionId: string;
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid([{ path: '', message: 'the body must be a JSON object' }]);
  }
  return body as Record<string, unknown>;
}

function invalid(errors: FieldError[]): ResursCheckoutError {
  return new ResursCheckoutError('invalid_request', `The callback body is not valid: ${errors.map((e) => e.message).join('; ')}.`, { errors });
}

function id(value: unknown, path: string, errors: FieldError[]): string {
  if (typeof value === 'string' && ID.test(value)) return value;
  errors.push({ path, message: `${path} must be 1 to 128 URL-safe characters` });
  return '';
}

export function parseAuthorizationCallback(body: unknown): AuthorizationCallback {
  const fields = object(body);
  const errors: FieldError[] = [];
  const paymentId = id(fields.paymentId, 'paymentId', errors);
  const status = fields.status;
  if (typeof status !== 'string' || !AUTHORIZATION_STATUSES.has(status)) {
    errors.push({ path: 'status', message: `status must be one of ${[...AUTHORIZATION_STATUSES].join(', ')}` });
  }
  if (errors.length > 0) throw invalid(errors);
  return { paymentId, status: status as string };
}

export function parseManagementCallback(body: unknown): ManagementCallback {
  const fields = object(body);
  const errors: FieldError[] = [];
  const paymentId = id(fields.paymentId, 'paymentId', errors);
  const actionId = id(fields.actionId, 'actionId', errors);
  const action = fields.action;
  if (typeof action !== 'string' || !MANAGEMENT_ACTIONS.has(action)) {
    errors.push({ path: 'action', message: `action must be one of ${[...MANAGEMENT_ACTIONS].join(', ')}` });
  }
  if (errors.length > 0) throw invalid(errors);
  return { paymentId, actionId, action: action as string };
}
