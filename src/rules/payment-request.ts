/**
 * The storefront's payment request: `{"paymentMethodId": "<id>"}` and nothing else. Amounts,
 * lines and the order reference never come from the browser. Pure.
 */
import { ResursCheckoutError } from '../errors';
import type { FieldError } from '../errors';
import { URL_SAFE_ID } from './browser-url';

export interface PaymentRequest {
  paymentMethodId: string;
}

function invalid(errors: FieldError[]): ResursCheckoutError {
  return new ResursCheckoutError('invalid_request', `The request body is not valid: ${errors.map((e) => e.message).join('; ')}.`, { errors });
}

/** Checks a parsed body. Throws `invalid_request` with field errors. */
export function parsePaymentRequest(body: unknown): PaymentRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid([{ path: '', message: 'the body must be a JSON object {"paymentMethodId": "<id>"}' }]);
  }
  const errors: FieldError[] = Object.keys(body)
    .filter((key) => key !== 'paymentMethodId')
    .map((key) => ({ path: key, message: `${key} is not allowed; the body takes only "paymentMethodId" (the order comes from the shop, never the browser)` }));
  const { paymentMethodId } = body as { paymentMethodId?: unknown };
  if (paymentMethodId === undefined) errors.push({ path: 'paymentMethodId', message: 'paymentMethodId is required' });
  else if (typeof paymentMethodId !== 'string' || !URL_SAFE_ID.test(paymentMethodId)) {
    errors.push({ path: 'paymentMethodId', message: 'paymentMethodId must be 1 to 128 URL-safe characters, as the payment elements give it' });
  }
  if (errors.length > 0) throw invalid(errors);
  return { paymentMethodId: paymentMethodId as string };
}
