/**
 * The Merchant API's payment operations (v2): create, get, search, capture, cancel, refund.
 * Reads are retried like Create Session; money-moving writes never once they may have reached
 * Resurs. A create whose outcome is unknown (timeout, cut connection, 5xx) is settled by
 * searching for its order reference: found, it is answered as created; not found, nothing was
 * created and the caller may try again.
 */
import { ResursCheckoutError } from '../errors';
import type { FieldError } from '../errors';
import type { CallContext, RequestScope, Transport } from '../transport/transport';
import { MaybeSent } from '../transport/transport';
import { UpstreamFailure } from '../transport/failure';
import type { Operation } from '../transport/operation';
import { checkPayment, checkPaymentList } from './payment';
import type { Customer, OrderLine, Order, Payment } from './payment';

/** Options of a payment, as Resurs takes them (`options` of `POST /v2/payments`). */
export interface CreatePaymentOptions {
  initiatedOnCustomersDevice?: boolean;
  handleFrozenPayments?: boolean;
  redirectionUrls?: { customer?: { successUrl: string; failUrl: string } };
  callbacks?: { authorization?: { url: string }; management?: { url: string } };
  /** 1 to 43200. */
  timeToLiveInMinutes?: number;
  [option: string]: unknown;
}

/** What `payments.create` sends; the client adds `storeId`. */
export interface CreatePaymentInput {
  /** The `methodIds` entry the shopper picked in the payment elements. */
  paymentMethodId: string;
  order: Order;
  customer?: Customer;
  options?: CreatePaymentOptions;
}

/** Lines to capture or refund; all of the payment's when left out. */
export interface PaymentActionInput {
  orderLines?: OrderLine[];
}

/** `createResursClient(...).payments`. */
export interface PaymentsClient {
  /**
   * Creates a payment. Never sent twice once it may have reached Resurs; an unknown outcome is
   * settled by searching the order reference. Rejects with ResursCheckoutError: 422
   * `payment_refused` when Resurs refuses it, 503/504 when it is not known to exist.
   */
  create(input: CreatePaymentInput, context?: CallContext): Promise<Payment>;
  /** The payment as Resurs reports it now; 404 `not_found` when Resurs does not know it. */
  get(paymentId: string, context?: CallContext): Promise<Payment>;
  /** This store's payments for an order reference. */
  search(query: { orderReference: string }, context?: CallContext): Promise<Payment[]>;
  /** Captures (debits) the payment, or the given lines. Never retried once it may have reached Resurs. */
  capture(paymentId: string, input?: PaymentActionInput, context?: CallContext): Promise<Payment>;
  /** Cancels (annuls) what is not captured. Never retried once it may have reached Resurs. */
  cancel(paymentId: string, input?: PaymentActionInput, context?: CallContext): Promise<Payment>;
  /** Refunds what was captured. Never retried once it may have reached Resurs. */
  refund(paymentId: string, input?: PaymentActionInput, context?: CallContext): Promise<Payment>;
}

/** The client's payments, plus the scoped create the router uses (one deadline for create and search). */
export interface PaymentOperations extends PaymentsClient {
  createInScope(input: CreatePaymentInput, scope: RequestScope): Promise<Payment>;
  searchInScope(orderReference: string, scope: RequestScope): Promise<Payment[]>;
}

/** Field names of a Resurs validation answer (never the values), for `errors` of `payment_refused`. */
export function refusedFields(body: unknown): FieldError[] {
  if (typeof body !== 'object' || body === null) return [];
  const fields = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value.slice(0, 50)) {
        if (typeof item === 'object' && item !== null) {
          const name = (item as Record<string, unknown>).field ?? (item as Record<string, unknown>).path ?? (item as Record<string, unknown>).name;
          if (typeof name === 'string') fields.add(name);
        }
      }
      return;
    }
    for (const key of ['parameters', 'errors', 'fieldErrors', 'violations']) {
      const inner = (value as Record<string, unknown>)[key];
      if (Array.isArray(inner)) visit(inner);
      else if (typeof inner === 'object' && inner !== null) for (const name of Object.keys(inner).slice(0, 50)) fields.add(name);
    }
  };
  visit(body);
  // A field name is Resurs' own word for a place in our request: keep it to a safe, short shape.
  return [...fields]
    .filter((name) => /^[A-Za-z0-9_.[\]-]{1,100}$/.test(name))
    .map((path) => ({ path, message: 'refused by Resurs' }));
}

/** A failure whose answer had a success status: Resurs acted on the request, the body was unreadable. */
function answeredSuccess(cause: unknown): boolean {
  return cause instanceof UpstreamFailure && cause.status !== undefined && cause.status >= 200 && cause.status < 300;
}

const notFound = (status: number): ResursCheckoutError | undefined =>
  status === 404 ? new ResursCheckoutError('not_found', 'Resurs does not know this payment.') : undefined;

export function createPaymentOperations(transport: Transport, merchantApiUrl: string, storeId: string): PaymentOperations {
  const paymentsUrl = `${merchantApiUrl}/v2/payments`;
  const paymentUrl = (id: string) => `${paymentsUrl}/${encodeURIComponent(id)}`;

  const createOperation = (input: CreatePaymentInput): Operation<Payment> => ({
    name: 'create payment',
    method: 'POST',
    url: paymentsUrl,
    body: JSON.stringify({
      storeId,
      paymentMethodId: input.paymentMethodId,
      order: input.order,
      ...(input.customer !== undefined ? { customer: input.customer } : {}),
      ...(input.options !== undefined ? { options: input.options } : {}),
    }),
    idempotent: false,
    success: [200, 201],
    check: checkPayment,
    refused: (status, body) =>
      status === 400 || status === 403 || status === 404 || status === 409 || status === 422
        ? new ResursCheckoutError('payment_refused', 'Resurs refused this payment. Choose another way to pay, or check the order.', {
            errors: refusedFields(body),
          })
        : undefined,
    failureDetail: 'Resurs could not create the payment. Try again, or choose another way to pay.',
  });

  const searchOperation = (orderReference: string): Operation<Payment[]> => ({
    name: 'search payments',
    method: 'POST',
    url: `${paymentsUrl}/search`,
    body: JSON.stringify({ storeId, orderReference }),
    idempotent: true,
    success: [200],
    check: checkPaymentList,
    failureDetail: 'Resurs could not look the payments up. Try again shortly.',
  });

  const getOperation = (paymentId: string): Operation<Payment> => ({
    name: 'get payment',
    method: 'GET',
    url: paymentUrl(paymentId),
    idempotent: true,
    success: [200],
    check: checkPayment,
    refused: notFound,
    failureDetail: 'Resurs could not report the payment. Try again shortly.',
  });

  const actionOperation = (action: 'capture' | 'cancel' | 'refund', paymentId: string, input: PaymentActionInput = {}): Operation<Payment> => ({
    name: `${action} payment`,
    method: 'POST',
    url: `${paymentUrl(paymentId)}/${action}`,
    body: JSON.stringify(input.orderLines ? { orderLines: input.orderLines } : {}),
    idempotent: false,
    success: [200, 201],
    check: checkPayment,
    refused: (status, body) =>
      notFound(status) ??
      new ResursCheckoutError('payment_refused', `Resurs refused to ${action} this payment in its current state.`, { errors: refusedFields(body) }),
    failureDetail: `Resurs could not ${action} the payment. Check it with payments.get before trying again.`,
  });

  async function searchInScope(orderReference: string, scope: RequestScope): Promise<Payment[]> {
    const found = await transport.send(searchOperation(orderReference), scope);
    // Resurs filters by store and reference; hold it to that all the same.
    return found.filter((p) => p.order?.orderReference === orderReference && (p.storeId === undefined || p.storeId === storeId));
  }

  async function createInScope(input: CreatePaymentInput, scope: RequestScope): Promise<Payment> {
    try {
      return await transport.send(createOperation(input), scope);
    } catch (error) {
      if (error instanceof MaybeSent) return settle(input, error.final, scope);
      // Resurs answered a success status with a body we cannot read (not JSON, wrong shape, too
      // large): it did create the payment. Answering 502 would have the storefront try again and
      // create a second one; look it up instead.
      if (error instanceof ResursCheckoutError && answeredSuccess(error.cause)) return settle(input, error, scope);
      throw error;
    }
  }

  /** The create may have reached Resurs: look the order up, in a budget of its own. */
  async function settle(input: CreatePaymentInput, final: unknown, createScope: RequestScope): Promise<Payment> {
    const { log } = createScope;
    log.warn({ operation: 'create payment' }, 'No answer to create payment: searching the order reference to settle whether it exists.');
    let found: Payment[];
    try {
      found = await transport.within({ requestId: createScope.requestId }, (scope) => searchInScope(input.order.orderReference, scope));
    } catch {
      log.error({ operation: 'create payment', settled: 'unknown' }, 'Could not settle whether the payment exists; the next try searches first.');
      throw new UnsettledPayment(final);
    }
    const payment = found.find((p) => p.paymentMethodId === undefined || p.paymentMethodId === input.paymentMethodId);
    if (payment) {
      log.info({ operation: 'create payment', settled: 'found' }, 'The payment exists at Resurs: answering it as created.');
      return payment;
    }
    if (found.length > 0) {
      // The order already has a payment with another method: it is not the one asked for.
      log.warn({ operation: 'create payment', settled: 'other-method' }, 'The order already has a payment with another payment method at Resurs.');
      throw new ResursCheckoutError(
        'payment_in_progress',
        'A payment with another payment method already exists for this order. Finish or cancel it, or start a new order.',
        { cause: final },
      );
    }
    log.warn({ operation: 'create payment', settled: 'not-found' }, 'The payment does not exist at Resurs: nothing was created.');
    const timedOut = final instanceof ResursCheckoutError && final.code === 'upstream_timeout';
    // Resurs' own Retry-After (a 503 or 429 on create) is passed on.
    const retryAfter = final instanceof ResursCheckoutError ? final.retryAfter : undefined;
    throw timedOut
      ? new ResursCheckoutError('upstream_timeout', 'Resurs did not answer in time; no payment was created. Try again.', { cause: final })
      : new ResursCheckoutError('upstream_unavailable', 'Resurs did not answer; no payment was created. Try again shortly.', {
          cause: final,
          ...(retryAfter !== undefined ? { retryAfter } : {}),
        });
  }

  return {
    createInScope,
    searchInScope,
    create: (input, context) => transport.within(context, (scope) => createInScope(input, scope)),
    get: (paymentId, context) => transport.call(getOperation(paymentId), context),
    search: ({ orderReference }, context) => transport.within(context, (scope) => searchInScope(orderReference, scope)),
    capture: (id, input, context) => transport.call(actionOperation('capture', id, input), context),
    cancel: (id, input, context) => transport.call(actionOperation('cancel', id, input), context),
    refund: (id, input, context) => transport.call(actionOperation('refund', id, input), context),
  };
}

/**
 * A create whose outcome is still unknown: neither its answer nor a search said whether the
 * payment exists. A 503 for the storefront; whoever tries again must search before creating.
 */
export class UnsettledPayment extends ResursCheckoutError {
  constructor(cause: unknown) {
    super('upstream_unavailable', 'Resurs could not confirm the payment yet. Try again shortly; no second payment will be made.', { cause });
  }
}
