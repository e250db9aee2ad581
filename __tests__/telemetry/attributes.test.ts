/** The pure attribute builders: span names, the upstream address without query, error types, callback outcomes. */
import { ResursCheckoutError } from '../../src/errors';
import { DeadlineExceeded } from '../../src/resilience/deadline';
import { UpstreamFailure } from '../../src/transport/failure';
import { answerAttributes, attemptErrorType, operationErrorType, operationSpanName, routeSpanName, upstreamAddress } from '../../src/telemetry/attributes';
import { callbackOutcome } from '../../src/telemetry/route';

test('span names', () => {
  expect(operationSpanName('create session')).toBe('resurs.create_session');
  expect(operationSpanName('search payments')).toBe('resurs.search_payments');
  expect(operationSpanName('capture payment')).toBe('resurs.capture_payment');
  expect(routeSpanName('session')).toBe('resurs.checkout.session');
  expect(routeSpanName('callback.management')).toBe('resurs.callback.management');
});

test('the upstream address drops userinfo, query and fragment, and fills in the default port', () => {
  expect(upstreamAddress('https://user:pw@merchant-api.resurs.com/v2/payments/abc?token=s3cret#x')).toEqual({
    'server.address': 'merchant-api.resurs.com',
    'server.port': 443,
    'url.full': 'https://merchant-api.resurs.com/v2/payments/abc',
  });
  expect(upstreamAddress('http://127.0.0.1:4011/x')['server.port']).toBe(4011);
});

test('error types', () => {
  expect(attemptErrorType(new UpstreamFailure('status', 'm', 503))).toBe('503');
  expect(attemptErrorType(new UpstreamFailure('timeout', 'm'))).toBe('timeout');
  expect(attemptErrorType(new UpstreamFailure('invalid', 'm', 200))).toBe('invalid');
  expect(attemptErrorType(new DeadlineExceeded(10))).toBe('deadline_exceeded');
  expect(attemptErrorType(new Error('the storefront closed the request'))).toBe('_OTHER');
  expect(operationErrorType(new ResursCheckoutError('upstream_timeout', 'd'), false)).toBe('upstream_timeout');
  expect(operationErrorType(new Error('gone'), true)).toBe('aborted');
  expect(operationErrorType(new TypeError('bug'), false)).toBe('internal_error');
});

test('only a payment status word becomes an attribute', () => {
  expect(answerAttributes({ id: 'p', status: 'ACCEPTED' })).toEqual({ 'resurs.payment.status': 'ACCEPTED' });
  expect(answerAttributes({ id: 's', expiresAt: 'x' })).toBeUndefined();
  expect(answerAttributes([{ status: 'ACCEPTED' }])).toBeUndefined();
  expect(answerAttributes({ status: 'greta@example.se' })).toBeUndefined();
});

test('callback outcomes from the answer', () => {
  expect(callbackOutcome(204, true)).toBe('handled');
  expect(callbackOutcome(204, false)).toBe('duplicate');
  expect(callbackOutcome(403, false)).toBe('refused');
  expect(callbackOutcome(404, false)).toBe('refused');
  expect(callbackOutcome(400, false)).toBe('invalid');
  expect(callbackOutcome(415, false)).toBe('invalid');
  expect(callbackOutcome(503, true)).toBe('retry');
  expect(callbackOutcome(500, false)).toBe('retry');
});
