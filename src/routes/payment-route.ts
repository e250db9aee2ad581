/**
 * `POST {payments.path}`: the payment. Request check → the merchant's order(req) → order check →
 * one-payment-per-order guard → Resurs "create payment" (search on an unknown outcome) → 201
 * `{paymentId, status, redirectUrl?}`. Built once; the handler only does what depends on the request.
 */
import type { Request, RequestHandler } from 'express';
import { ResursCheckoutError } from '../errors';
import { isLoopbackHost } from '../net';
import type { RedirectTarget, ResolvedPaymentsOptions, ResolvedRouterOptions } from '../options/options';
import { createPaymentGuard } from '../payments/one-payment-per-order';
import type { PaymentGuard } from '../payments/one-payment-per-order';
import type { StoreCalls } from '../resurs/client';
import { toCheckoutError } from '../problem';
import type { Payment } from '../resurs/payment';
import { redirectUrlOf } from '../resurs/payment';
import type { PaymentOperations } from '../resurs/payments';
import type { CallbackSigner } from '../callbacks/signature';
import { checkBrowserUrl } from '../rules/browser-url';
import { orderProblem } from '../rules/order';
import { parsePaymentRequest } from '../rules/payment-request';
import type { SessionStore } from '../store/session-store';
import type { Transport } from '../transport/transport';
import type { Fail } from './exchange';
import { exchangeOf } from './exchange';
import { merchantCodeError, runMerchantCode } from './merchant-code';
import { sendPayment } from './respond';
import type { Stores } from './stores';

/** What the storefront sends, for problem details. */
export const PAYMENT_BODY = { shape: '{"paymentMethodId": "<id>"}', limitBytes: 1024 } as const;

/** What the payment route needs of each store: its payments and its one-payment-per-order guard. */
export interface PaymentStoreParts {
  operations: PaymentOperations;
  guard: PaymentGuard;
}

/** Builds a store's payment parts: one shared store, one namespace per Resurs store. */
export function paymentPartsFor(
  settings: ResolvedRouterOptions,
  payments: ResolvedPaymentsOptions,
  store: SessionStore & Required<Pick<SessionStore, 'add'>>,
): (calls: StoreCalls) => PaymentStoreParts {
  return (calls) => ({
    operations: calls.payments,
    guard: createPaymentGuard({
      store,
      namespace: `${settings.merchantApiUrl}/stores/${calls.storeId}`,
      recordTtlMs: payments.timeToLiveInMinutes * 60_000,
      // A create and its settling search each get at most deadlineMs.
      lockTtlMs: 2 * settings.deadlineMs + 1000,
    }),
  });
}

export interface PaymentRouteDeps {
  settings: ResolvedRouterOptions;
  payments: ResolvedPaymentsOptions;
  stores: Stores<PaymentStoreParts>;
  transport: Transport;
  signer: CallbackSigner;
  fail: Fail;
}

/** A redirect URL the merchant gave: https, or http on loopback. */
function checkedRedirect(target: RedirectTarget, req: Request, orderReference: string, storeId: string, name: string): string {
  let value: unknown;
  try {
    value = typeof target === 'function' ? target(req, orderReference, storeId) : target;
  } catch {
    throw merchantCodeError(`payments.redirect.${name}`, `payments.redirect.${name} threw; answered 500.`);
  }
  const url = checkBrowserUrl(value, `payments.redirect.${name}`, true);
  if (typeof url === 'string') {
    throw merchantCodeError(`payments.redirect.${name}`, `payments.redirect.${name} is not a clean https: URL (http: only on loopback); answered 500.`);
  }
  return url.href;
}

export function createPaymentHandler(deps: PaymentRouteDeps): RequestHandler {
  const { settings, payments, stores, transport, signer, fail } = deps;
  const merchantApiIsLoopback = isLoopbackHost(new URL(settings.merchantApiUrl).hostname);
  const toRecord = (payment: Payment) => {
    const redirect = redirectUrlOf(payment, merchantApiIsLoopback);
    if (typeof redirect === 'string') {
      throw new ResursCheckoutError('upstream_error', 'Resurs answered a payment we cannot pass on. Try again, or choose another way to pay.', {
        cause: new Error(redirect),
      });
    }
    return { paymentId: payment.id, status: payment.status, ...(redirect.url ? { redirectUrl: redirect.url } : {}) };
  };

  return async function createPayment(req, res) {
    const exchange = exchangeOf(res);
    try {
      const { paymentMethodId } = parsePaymentRequest(req.body);
      const store = stores.of(req);
      const storeId = (exchange.storeId = store.id);
      const { operations, guard } = store.parts;
      const order = await runMerchantCode('payments.order', () => payments.order(req, storeId));
      const problem = orderProblem(order);
      if (problem) throw merchantCodeError('payments.order', `payments.order returned an order that breaks a rule: ${problem}. Fix your order builder.`, { rule: problem });
      const customer = payments.customer ? await runMerchantCode('payments.customer', () => payments.customer!(req, storeId)) : undefined;
      const { orderReference } = order;
      const options = {
        initiatedOnCustomersDevice: true,
        handleFrozenPayments: true,
        redirectionUrls: {
          customer: {
            successUrl: checkedRedirect(payments.redirect.successUrl, req, orderReference, storeId, 'successUrl'),
            failUrl: checkedRedirect(payments.redirect.failUrl, req, orderReference, storeId, 'failUrl'),
          },
        },
        callbacks: {
          authorization: { url: signer.url('authorization', orderReference, storeId) },
          management: { url: signer.url('management', orderReference, storeId) },
        },
        timeToLiveInMinutes: payments.timeToLiveInMinutes,
      };
      const input = { paymentMethodId, order, ...(customer !== undefined ? { customer } : {}), options };
      // Not tied to the storefront's connection: once begun, a payment is finished and recorded,
      // so the shopper's retry gets it back instead of a second one.
      const record = await transport.within({ requestId: exchange.requestId }, (scope) =>
        guard.run({
          orderReference,
          paymentMethodId,
          signal: scope.deadline.signal,
          log: exchange.log,
          create: () => operations.createInScope(input, scope),
          search: () => operations.searchInScope(orderReference, scope),
          toRecord,
        }),
      );
      if (res.destroyed || res.writableEnded) return;
      exchange.log.info({ status: 201, storeId, paymentStatus: record.status, durationMs: Date.now() - exchange.startedAt }, 'Payment created.');
      sendPayment(res, record);
    } catch (error) {
      if (res.destroyed || res.writableEnded) return;
      fail(res, toCheckoutError(error), error);
    }
  };
}
