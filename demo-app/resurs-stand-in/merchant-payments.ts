/** Merchant API payments: the in-memory record and the state changes approval and management make. */
import { randomUUID } from 'node:crypto';
import type { ActionInput, CreatePaymentInput } from './merchant-validation';
import { PAYMENT_METHOD_CATALOG } from './payment-methods';
import type {
  ApprovalOutcome,
  AuthorizationCallbackStatus,
  ManagementAction,
  MerchantPayment,
  PaymentActionEntry,
  PaymentOptionsRecord,
  PaymentOrderLine,
  PossibleAction,
} from './types';

/** A payment and what the stand-in keeps beside it. */
export interface StoredPayment {
  payment: MerchantPayment;
  options: PaymentOptionsRecord;
  /** Epoch milliseconds: `created` + `timeToLiveInMinutes`. */
  expiresAt: number;
}

/** A change that was refused: the HTTP status and Resurs-like error code to answer. */
export interface Refusal {
  ok: false;
  status: number;
  code: string;
  message: string;
}

const METHODS: ReadonlyMap<string, { name: string; type: string }> = new Map(
  PAYMENT_METHOD_CATALOG.flatMap((entry) => entry.methodIds.map((id) => [id, { name: entry.title, type: entry.type }] as const)),
);

/** True when `id` is one of the payment-method catalog's `methodIds`. */
export function knownPaymentMethod(id: string): boolean {
  return METHODS.has(id);
}

const EPSILON = 0.005;
const round2 = (n: number): number => Math.round(n * 100) / 100;
const sumLines = (lines: PaymentOrderLine[]): number => round2(lines.reduce((total, line) => total + line.totalAmountIncludingVat, 0));

function refuse(status: number, code: string, message: string): Refusal {
  return { ok: false, status, code, message };
}

/** Payments by id, dropping the oldest past `max`. */
export class PaymentStore {
  private readonly byId = new Map<string, StoredPayment>();

  constructor(private readonly max: number) {}

  add(stored: StoredPayment): void {
    this.byId.set(stored.payment.id, stored);
    while (this.byId.size > this.max) {
      const oldest = this.byId.keys().next().value;
      if (oldest === undefined) break;
      this.byId.delete(oldest);
    }
  }

  get(id: string): StoredPayment | undefined {
    return this.byId.get(id);
  }

  /** Every payment, oldest first. */
  list(): StoredPayment[] {
    return [...this.byId.values()];
  }

  /** Payments of `storeId` (and `orderReference`, when given), oldest first. */
  search(storeId: string, orderReference?: string): StoredPayment[] {
    return this.list().filter((s) => s.payment.storeId === storeId && (orderReference === undefined || s.payment.order.orderReference === orderReference));
  }

  clear(): void {
    this.byId.clear();
  }

  get size(): number {
    return this.byId.size;
  }
}

/** Recompute `order.possibleActions` from the status and the amounts. */
function refreshPossibleActions(payment: MerchantPayment): void {
  const { order } = payment;
  const actions: PossibleAction[] = [];
  const open = order.authorizedAmount - order.capturedAmount - order.canceledAmount;
  if (payment.status === 'ACCEPTED' && open > EPSILON) actions.push('CAPTURE', 'PARTIAL_CAPTURE', 'CANCEL', 'PARTIAL_CANCEL');
  if (order.capturedAmount - order.refundedAmount > EPSILON) actions.push('REFUND', 'PARTIAL_REFUND');
  order.possibleActions = actions.map((action) => ({ action }));
}

/** A new payment awaiting the shopper (TASK_REDIRECTION_REQUIRED), with its approval page's URL. */
export function createPayment(input: CreatePaymentInput, customerUrlFor: (paymentId: string) => string, now = Date.now()): StoredPayment {
  const id = randomUUID();
  const created = new Date(now).toISOString();
  const total = sumLines(input.orderLines);
  const method = METHODS.get(input.paymentMethodId) ?? { name: 'Unknown', type: 'GENERIC' };
  const payment: MerchantPayment = {
    id,
    created,
    storeId: input.storeId,
    paymentMethodId: input.paymentMethodId,
    paymentMethod: { ...method },
    countryCode: 'SE',
    status: 'TASK_REDIRECTION_REQUIRED',
    paymentActions: [],
    order: {
      orderReference: input.orderReference,
      orderLines: input.orderLines,
      totalAmountIncludingVat: total,
      totalOrderAmount: total,
      authorizedAmount: 0,
      capturedAmount: 0,
      canceledAmount: 0,
      refundedAmount: 0,
      actionLog: [{ actionId: randomUUID(), type: 'CREATE', created, amount: total, orderLines: structuredClone(input.orderLines) }],
      possibleActions: [],
    },
    application: { requestedCreditLimit: total, approvedCreditLimit: 0 },
    taskRedirectionUrls: { customerUrl: customerUrlFor(id) },
  };
  if (input.customer) payment.customer = input.customer;
  const expiresAt = now + input.timeToLiveInMinutes * 60_000;
  const options: PaymentOptionsRecord = { timeToLiveInMinutes: input.timeToLiveInMinutes, expiresAt: new Date(expiresAt).toISOString() };
  for (const key of ['initiatedOnCustomersDevice', 'handleFrozenPayments', 'successUrl', 'failUrl', 'authorizationCallbackUrl', 'managementCallbackUrl'] as const) {
    if (input[key] !== undefined) (options as unknown as Record<string, unknown>)[key] = input[key];
  }
  return { payment, options, expiresAt };
}

function addAction(payment: MerchantPayment, type: ManagementAction, amount: number, orderLines: PaymentOrderLine[], now: number, creator?: string): PaymentActionEntry {
  const entry: PaymentActionEntry = { actionId: randomUUID(), type, created: new Date(now).toISOString(), amount, orderLines };
  if (creator !== undefined) entry.creator = creator;
  payment.order.actionLog.push(entry);
  payment.paymentActions.push(structuredClone(entry));
  return entry;
}

/** What approving or declining did. */
export interface Decision {
  ok: true;
  /** Status the authorization callback carries. */
  callbackStatus: AuthorizationCallbackStatus;
  /** True when the shopper was at the approval step (so the browser is redirected). */
  shopperPresent: boolean;
}

/**
 * Approve (`AUTHORIZED`, `CAPTURED` or `FROZEN`) or decline (`REJECTED`) a payment that awaits the
 * shopper; a FROZEN payment can still be approved or rejected (Resurs' fraud review ending).
 */
export function decide(stored: StoredPayment, outcome: ApprovalOutcome | 'REJECTED', now = Date.now()): Decision | Refusal {
  const { payment } = stored;
  const pending = payment.status === 'TASK_REDIRECTION_REQUIRED';
  if (!pending && payment.status !== 'FROZEN') return refuse(409, 'NOT_ALLOWED', `Payment is already ${payment.status}`);
  if (pending && now > stored.expiresAt) return refuse(410, 'EXPIRED', 'Payment has expired');
  if (!pending && outcome === 'FROZEN') return refuse(409, 'NOT_ALLOWED', 'Payment is already FROZEN');
  delete payment.taskRedirectionUrls;
  const total = payment.order.totalOrderAmount;
  if (outcome === 'REJECTED') {
    payment.status = 'REJECTED';
  } else if (outcome === 'FROZEN') {
    payment.status = 'FROZEN';
  } else {
    payment.status = 'ACCEPTED';
    payment.order.authorizedAmount = total;
    payment.application.approvedCreditLimit = total;
    if (outcome === 'CAPTURED') {
      addAction(payment, 'CAPTURE', total, structuredClone(payment.order.orderLines), now);
      payment.order.capturedAmount = total;
    }
  }
  refreshPossibleActions(payment);
  return { ok: true, callbackStatus: outcome, shopperPresent: pending };
}

/** Set a status directly (a test's escape hatch); amounts follow ACCEPTED/others like `decide`. */
export function forceStatus(stored: StoredPayment, status: MerchantPayment['status']): void {
  const { payment } = stored;
  payment.status = status;
  if (status !== 'TASK_REDIRECTION_REQUIRED') delete payment.taskRedirectionUrls;
  if (status === 'ACCEPTED' && payment.order.authorizedAmount === 0) {
    payment.order.authorizedAmount = payment.order.totalOrderAmount;
    payment.application.approvedCreditLimit = payment.order.totalOrderAmount;
  }
  refreshPossibleActions(payment);
}

/**
 * Capture, cancel or refund (the whole open amount, or the given lines' sum). Capture and cancel
 * need an ACCEPTED payment with an amount neither captured nor canceled; refund needs a captured,
 * not yet refunded amount. Refused otherwise (409).
 */
export function manage(stored: StoredPayment, action: ManagementAction, input: ActionInput, now = Date.now()): { ok: true; entry: PaymentActionEntry } | Refusal {
  const { payment } = stored;
  const { order } = payment;
  const open =
    action === 'REFUND' ? round2(order.capturedAmount - order.refundedAmount) : round2(order.authorizedAmount - order.capturedAmount - order.canceledAmount);
  const verb = action.toLowerCase();
  if (action !== 'REFUND' && payment.status !== 'ACCEPTED') return refuse(409, 'NOT_ALLOWED', `Cannot ${verb} a payment that is ${payment.status}`);
  if (open <= EPSILON) return refuse(409, 'NOT_ALLOWED', action === 'REFUND' ? 'Nothing captured is left to refund' : `Nothing is left to ${verb}`);
  const amount = input.orderLines ? sumLines(input.orderLines) : open;
  if (amount <= 0) return refuse(400, 'VALIDATION_ERROR', 'The order lines must add up to more than 0');
  if (amount > open + EPSILON) return refuse(409, 'NOT_ALLOWED', `Cannot ${verb} ${amount}: only ${open} is left`);
  const whole = Math.abs(amount - order.totalOrderAmount) <= EPSILON;
  const lines =
    input.orderLines ??
    (whole
      ? structuredClone(order.orderLines)
      : [{ description: 'Remaining amount', quantity: 1, quantityUnit: 'st', vatRate: 0, totalAmountIncludingVat: amount }]);
  const entry = addAction(payment, action, amount, lines, now, input.creator);
  if (action === 'CAPTURE') order.capturedAmount = round2(order.capturedAmount + amount);
  else if (action === 'CANCEL') order.canceledAmount = round2(order.canceledAmount + amount);
  else order.refundedAmount = round2(order.refundedAmount + amount);
  refreshPossibleActions(payment);
  return { ok: true, entry };
}
