/**
 * `POST {payments.callbackPath}/authorization` and `/management`: Resurs' callbacks. Signature
 * and IP gate → the body as a hint → a fresh "get payment" → the payment must be this order's and
 * this store's → exactly-once mark → the merchant's onPaymentUpdate → 204, or 503 so Resurs
 * delivers again. Built once; the handler only does what depends on the request.
 */
import type { RequestHandler } from 'express';
import type { FactMarks } from '../callbacks/exactly-once';
import type { CallbackSigner } from '../callbacks/signature';
import { ResursCheckoutError } from '../errors';
import { errorName } from '../logger';
import type { PaymentUpdateEvent, ResolvedPaymentsOptions } from '../options/options';
import { toCheckoutError } from '../problem';
import { withTimeout } from '../resilience/timeout';
import type { Payment } from '../resurs/payment';
import type { PaymentOperations } from '../resurs/payments';
import { parseAuthorizationCallback, parseManagementCallback } from '../rules/callback-body';
import { StoreUnavailable } from '../store/bounded';
import type { Fail } from './exchange';
import { exchangeOf } from './exchange';
import { sendNoContent } from './respond';

/** What Resurs sends, for problem details. */
export const CALLBACK_BODY = { shape: 'the callback JSON', limitBytes: 4096 } as const;

/** How long onPaymentUpdate may take before Resurs is told to deliver again. */
export const HOOK_TIMEOUT_MS = 10_000;

export interface CallbackRouteDeps {
  kind: 'authorization' | 'management';
  storeId: string;
  payments: ResolvedPaymentsOptions;
  operations: PaymentOperations;
  signer: CallbackSigner;
  marks: FactMarks;
  allowIp: (ip: string | undefined) => boolean;
  fail: Fail;
  /** Injectable for tests. */
  hookTimeoutMs?: number;
}

const refused = (gate: string) => Object.assign(new ResursCheckoutError('callback_refused', 'This callback was refused.'), { gate });
const retryLater = (detail: string, cause?: unknown) =>
  new ResursCheckoutError('upstream_unavailable', detail, { retryAfter: 30, ...(cause !== undefined ? { cause } : {}) });

export function createCallbackHandler(deps: CallbackRouteDeps): RequestHandler {
  const { kind, payments, operations, signer, marks, fail } = deps;
  const hookTimeoutMs = deps.hookTimeoutMs ?? HOOK_TIMEOUT_MS;
  const parse = kind === 'authorization' ? parseAuthorizationCallback : parseManagementCallback;

  return async function receiveCallback(req, res) {
    const exchange = exchangeOf(res);
    const { log } = exchange;
    try {
      // Gates first: nothing of a forged callback reaches Resurs or the merchant.
      if (!deps.allowIp(req.ip)) throw refused('ip');
      const ref = typeof req.query.ref === 'string' ? req.query.ref : '';
      const sig = typeof req.query.sig === 'string' ? req.query.sig : '';
      if (!ref || !signer.verify(ref, sig)) throw refused('signature');
      const hint = parse(req.body);

      let payment: Payment;
      try {
        payment = await operations.get(hint.paymentId, { requestId: exchange.requestId });
      } catch (error) {
        if (error instanceof ResursCheckoutError && error.code === 'not_found') throw error;
        throw retryLater('The payment could not be looked up at Resurs; deliver again later.', error);
      }
      if (payment.order?.orderReference !== ref || payment.storeId !== deps.storeId) throw refused('payment');

      const status = payment.status;
      const fact = kind === 'authorization' ? `authorization\n${payment.id}\n${status}` : `management\n${(hint as { actionId: string }).actionId}`;
      let claimed: boolean;
      try {
        claimed = await marks.claim(fact);
      } catch (error) {
        throw retryLater('The shop cannot record this callback right now; deliver again later.', error);
      }
      if (!claimed) {
        log.info({ callback: kind, outcome: 'duplicate', paymentStatus: status }, 'Callback already handled; answered 204 without calling onPaymentUpdate.');
        return sendNoContent(res);
      }

      const event: PaymentUpdateEvent = {
        type: kind,
        paymentId: payment.id,
        orderReference: ref,
        status,
        ...(kind === 'management' ? { action: (hint as { action: string }).action, actionId: (hint as { actionId: string }).actionId } : {}),
        payment,
        requestId: exchange.requestId,
      };
      try {
        await withTimeout(async () => payments.onPaymentUpdate(event), hookTimeoutMs, () => new Error(`onPaymentUpdate took longer than ${hookTimeoutMs} ms`));
      } catch (error) {
        await marks.release(fact);
        log.error({ callback: kind, hook: 'onPaymentUpdate', errorName: errorName(error) }, 'onPaymentUpdate failed or timed out; answered 503 so Resurs delivers again.');
        throw retryLater('The shop could not handle this callback yet; deliver again later.');
      }
      log.info({ callback: kind, outcome: 'handled', paymentStatus: status, durationMs: Date.now() - exchange.startedAt }, 'Callback handled.');
      sendNoContent(res);
    } catch (error) {
      if (res.destroyed || res.writableEnded) return;
      const gate = (error as { gate?: string }).gate;
      if (gate) log.warn({ callback: kind, gate }, `Callback refused at the ${gate} gate.`);
      fail(res, toCheckoutError(error instanceof StoreUnavailable ? retryLater('deliver again later', error) : error), error);
    }
  };
}
