/**
 * The Merchant API's loopback-only control routes under `/__stand-in/`, for other processes
 * (the demo, browser tests):
 *   POST payment-faults | lookup-faults | action-faults   a FaultPlan, or null/empty to clear
 *   POST callback-mode        a CallbackMode, or null/empty for normal
 *   POST callback-delivery    {maxAttempts?, retryIntervalMs?, timeoutMs?}
 *   POST flush-callbacks      deliver held out-of-order callbacks (answers when done)
 *   POST payments/{id}/approve {outcome?}  |  POST payments/{id}/decline  ->  {payment, location?}
 *   POST payments/{id}/status {status}     ->  {payment}
 *   GET  payments[?orderReference=&storeId=]  ->  {payments}
 *   GET  callbacks  ->  {callbacks}     GET merchant-requests  ->  {requests}
 *   GET  merchant-stats  ->  {merchantRequests, payments, callbacks}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, splitUrl } from './http-util';
import type { ApprovalOutcome, CallbackDelivery, CallbackMode, FaultPlan, PaymentStatus, StandInMerchant } from './types';

/** What the merchant control routes act on. */
export interface MerchantControlTarget {
  merchant: StandInMerchant;
  stats(): { merchantRequests: number; payments: number; callbacks: number };
}

type Action = (value: unknown) => unknown;

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}

function posts(target: MerchantControlTarget): Record<string, Action> {
  const { merchant } = target;
  return {
    'payment-faults': (value) => merchant.setPaymentFaults(value as FaultPlan | null),
    'lookup-faults': (value) => merchant.setLookupFaults(value as FaultPlan | null),
    'action-faults': (value) => merchant.setActionFaults(value as FaultPlan | null),
    'callback-mode': (value) => merchant.setCallbackMode(value as CallbackMode | null),
    'callback-delivery': (value) => merchant.setCallbackDelivery((value ?? {}) as Partial<CallbackDelivery>),
    'flush-callbacks': () => merchant.flushCallbacks(),
  };
}

function gets(target: MerchantControlTarget, query: URLSearchParams): Record<string, () => unknown> {
  const { merchant } = target;
  return {
    payments: () => {
      const filter: { orderReference?: string; storeId?: string } = {};
      const orderReference = query.get('orderReference');
      const storeId = query.get('storeId');
      if (orderReference !== null) filter.orderReference = orderReference;
      if (storeId !== null) filter.storeId = storeId;
      return { payments: merchant.payments(filter) };
    },
    callbacks: () => ({ callbacks: merchant.callbacks() }),
    'merchant-requests': () => ({ requests: merchant.requests() }),
    'merchant-stats': () => target.stats(),
  };
}

async function paymentAction(res: ServerResponse, merchant: StandInMerchant, paymentId: string, step: string, value: unknown): Promise<void> {
  try {
    if (step === 'status') {
      const payment = merchant.setStatus(paymentId, field(value, 'status') as PaymentStatus);
      return sendJson(res, 200, { payment });
    }
    const outcome = field(value, 'outcome');
    const result =
      step === 'decline'
        ? await merchant.decline(paymentId)
        : await merchant.approve(paymentId, outcome === undefined ? {} : { outcome: outcome as ApprovalOutcome });
    sendJson(res, 200, result);
  } catch (error) {
    const message = error instanceof Error ? error.message : 'Not allowed';
    const status = error instanceof TypeError ? 400 : merchant.payment(paymentId) ? 409 : 404;
    sendJson(res, status, { message });
  }
}

/**
 * Answer `name` (the path after `/__stand-in/`) when it is a merchant control route; returns
 * false (having answered nothing) when it is not one. `parsed` is the JSON body (null when empty).
 */
export async function handleMerchantControl(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  parsed: { ok: true; value: unknown } | { ok: false },
  target: MerchantControlTarget,
): Promise<boolean> {
  const { query } = splitUrl(req.url);
  const payment = /^payments\/([^/]+)\/(approve|decline|status)$/.exec(name);
  const postTable = posts(target);
  const getTable = gets(target, query);
  const post = Object.hasOwn(postTable, name) ? postTable[name] : undefined;
  const get = Object.hasOwn(getTable, name) ? getTable[name] : undefined;
  if (!payment && !post && !get) return false;
  const method = get ? 'GET' : 'POST';
  if (req.method !== method) {
    sendJson(res, 405, { message: `Use ${method}` }, { Allow: method });
    return true;
  }
  if (get) {
    sendJson(res, 200, get());
    return true;
  }
  if (!parsed.ok) {
    sendJson(res, 400, { message: 'Malformed JSON body' });
    return true;
  }
  if (payment) {
    let paymentId: string;
    try {
      paymentId = decodeURIComponent(payment[1]);
    } catch {
      sendJson(res, 400, { message: 'Malformed payment id' });
      return true;
    }
    await paymentAction(res, target.merchant, paymentId, payment[2], parsed.value);
    return true;
  }
  try {
    await post?.(parsed.value);
  } catch (error) {
    sendJson(res, 400, { message: error instanceof Error ? error.message : 'Invalid request' });
    return true;
  }
  sendJson(res, 200, { ok: true });
  return true;
}
