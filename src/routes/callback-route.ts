/**
 * `POST {payments.callbackPath}/authorization` and `/management`: Resurs' callbacks. Signature
 * and IP gate → the body as a hint → a fresh "get payment" → the payment must be this order's and
 * this store's → exactly-once mark → the merchant's onPaymentUpdate → 204, or 503 so Resurs
 * delivers again. Built once; the handler only does what depends on the request.
 */
import type { RequestHandler } from 'express';
import type { Claim, FactMarks } from '../callbacks/exactly-once';
import type { CallbackSigner } from '../callbacks/signature';
import { ResursCheckoutError } from '../errors';
import { errorName } from '../logger';
import type { PaymentUpdateEvent, ResolvedPaymentsOptions } from '../options/options';
import { toCheckoutError } from '../problem';
import { withTimeout } from '../resilience/timeout';
import type { Payment } from '../resurs/payment';
import type { PaymentOperations } from '../resurs/payments';
import { parseAuthorizationCallback, parseManagementCallback } from '../rules/callback-body';
import { MONEY_STORE_TIMEOUT_MS, StoreUnavailable } from '../store/bounded';
import type { Fail } from './exchange';
import { exchangeOf } from './exchange';
import { sendNoContent } from './respond';
import type { Stores } from './stores';

/** What Resurs sends, for problem details. */
export const CALLBACK_BODY = { shape: 'the callback JSON', limitBytes: 4096 } as const;

/** How long onPaymentUpdate may take before Resurs is told to deliver again. */
export const HOOK_TIMEOUT_MS = 10_000;

/** What the callback routes need of each store: its payments (the fresh lookup) and its exactly-once marks. */
export interface CallbackStoreParts {
  operations: PaymentOperations;
  marks: FactMarks;
}

export interface CallbackRouteDeps {
  kind: 'authorization' | 'management';
  payments: ResolvedPaymentsOptions;
  /** The router's stores; with several, the signed URL names the callback's store. */
  stores: Stores<CallbackStoreParts>;
  signer: CallbackSigner;
  allowIp: (ip: string | undefined) => boolean;
  fail: Fail;
  /** Injectable for tests. */
  hookTimeoutMs?: number;
}

const refused = (gate: string) => Object.assign(new ResursCheckoutError('callback_refused', 'This callback was refused.'), { gate });
const retryLater = (detail: string, cause?: unknown, retryAfter = 30) =>
  new ResursCheckoutError('upstream_unavailable', detail, { retryAfter, ...(cause !== undefined ? { cause } : {}) });

const MANAGEMENT_ACTIONS = new Set(['CAPTURE', 'REFUND', 'CANCEL']);

/**
 * The action `actionId` names in the payment's own log (`order.actionLog`, as Resurs reports it;
 * `paymentActions` where there is no log): its type, or undefined when the payment does not list it.
 */
function loggedActionType(payment: Payment, actionId: string): string | undefined {
  const log = Array.isArray(payment.order?.actionLog) ? payment.order.actionLog : payment.paymentActions;
  if (!Array.isArray(log)) return undefined;
  const entry = (log as unknown[]).find((item) => typeof item === 'object' && item !== null && (item as { actionId?: unknown }).actionId === actionId);
  if (!entry) return undefined;
  const type = (entry as { type?: unknown }).type;
  return typeof type === 'string' ? type : '';
}

/** The IP allow-list as a stage of its own, before the body is read. */
export function callbackIpGate(allowIp: (ip: string | undefined) => boolean, kind: string, fail: Fail): RequestHandler {
  return (req, res, next) => {
    if (allowIp(req.ip)) return next();
    exchangeOf(res).log.warn({ callback: kind, gate: 'ip' }, 'Callback refused at the ip gate.');
    fail(res, refused('ip'));
  };
}

export function createCallbackHandler(deps: CallbackRouteDeps): RequestHandler {
  const { kind, payments, stores, signer, fail } = deps;
  const hookTimeoutMs = deps.hookTimeoutMs ?? HOOK_TIMEOUT_MS;
  // A claimed fact is held while its hook may run (and its confirm be written); a mark whose
  // holder died or could not release it expires then, so Resurs' next delivery is handled.
  const holdMs = 2 * hookTimeoutMs + MONEY_STORE_TIMEOUT_MS;
  const comeBackSeconds = Math.max(1, Math.ceil(holdMs / 1000));
  const parse = kind === 'authorization' ? parseAuthorizationCallback : parseManagementCallback;

  return async function receiveCallback(req, res) {
    const exchange = exchangeOf(res);
    const { log } = exchange;
    try {
      // Gates first: nothing of a forged callback reaches Resurs or the merchant.
      if (!deps.allowIp(req.ip)) throw refused('ip');
      const ref = typeof req.query.ref === 'string' ? req.query.ref : '';
      const sig = typeof req.query.sig === 'string' ? req.query.sig : '';
      // With several stores the signed URL names the store; with one there is nothing to choose.
      const store = stores.several ? (typeof req.query.store === 'string' ? stores.byId(req.query.store) : undefined) : stores.of(req);
      if (!ref || !store || !signer.verify(ref, store.id, sig)) throw refused('signature');
      exchange.storeId = store.id;
      const { operations, marks } = store.parts;
      const hint = parse(req.body);

      let payment: Payment;
      try {
        payment = await operations.get(hint.paymentId, { requestId: exchange.requestId });
      } catch (error) {
        if (error instanceof ResursCheckoutError && error.code === 'not_found') throw error;
        throw retryLater('The payment could not be looked up at Resurs; deliver again later.', error);
      }
      if (payment.order?.orderReference !== ref || payment.storeId !== store.id) throw refused('payment');

      const status = payment.status;
      // Resurs says something was decided, but its payment still waits for the shopper: its read
      // side has not caught up. Taking the callback now would use it up on a stale status.
      if (kind === 'authorization' && status === 'TASK_REDIRECTION_REQUIRED') {
        log.info({ callback: kind, outcome: 'not-yet', paymentStatus: status }, 'The payment does not show the decision yet; answered 503 so Resurs delivers again.');
        throw retryLater('The payment does not show this decision yet; deliver again later.', undefined, 5);
      }
      // Management: the action must be in the payment's own log; its type there is the truth.
      let action: { action: string; actionId: string } | undefined;
      if (kind === 'management') {
        const { actionId } = hint as { actionId: string };
        const type = loggedActionType(payment, actionId);
        if (type === undefined) {
          log.warn({ callback: kind, outcome: 'action-not-listed' }, 'The payment does not list this action (yet); answered 503 so Resurs delivers again.');
          throw retryLater('The action is not visible at Resurs yet; deliver again later.');
        }
        if (!MANAGEMENT_ACTIONS.has(type)) throw refused('action');
        action = { action: type, actionId };
      }

      const fact = action ? `management\n${action.actionId}` : `authorization\n${payment.id}\n${status}`;
      let claim: Claim;
      try {
        claim = await marks.claim(fact, holdMs);
      } catch (error) {
        throw retryLater('The shop cannot record this callback right now; deliver again later.', error);
      }
      if (claim.outcome === 'handled') {
        log.info({ callback: kind, outcome: 'duplicate', paymentStatus: status }, 'Callback already handled; answered 204 without calling onPaymentUpdate.');
        return sendNoContent(res);
      }
      if (claim.outcome === 'in-progress') {
        // Not 204: the delivery handling it may yet fail, and this one would then be lost.
        log.info({ callback: kind, outcome: 'in-progress', paymentStatus: status }, 'Callback being handled by another delivery; answered 503 so Resurs comes back.');
        throw retryLater('This callback is being handled; deliver again later.', undefined, comeBackSeconds);
      }

      const event: PaymentUpdateEvent = {
        type: kind,
        paymentId: payment.id,
        orderReference: ref,
        status,
        ...action,
        payment,
        requestId: exchange.requestId,
      };
      try {
        // The callbacks metric tells a handled callback (the hook ran) from a duplicate.
        exchange.telemetry.hookCalled = true;
        await withTimeout(async () => payments.onPaymentUpdate(event), hookTimeoutMs, () => new Error(`onPaymentUpdate took longer than ${hookTimeoutMs} ms`));
      } catch (error) {
        await claim.release();
        log.error({ callback: kind, hook: 'onPaymentUpdate', errorName: errorName(error) }, 'onPaymentUpdate failed or timed out; answered 503 so Resurs delivers again.');
        throw retryLater('The shop could not handle this callback yet; deliver again later.');
      }
      try {
        await claim.confirm();
      } catch (error) {
        // Handled all the same; the pending mark expires, so a later redelivery may call the hook again.
        log.warn(
          { callback: kind, outcome: 'unconfirmed', errorName: errorName(error) },
          'Callback handled, but the store could not record it; a redelivery after the hold may call onPaymentUpdate again.',
        );
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
