/**
 * The demo's order book, in memory: what the shop knows about each order reference. Only
 * `onPaymentUpdate` (a verified callback, with the payment freshly fetched from Resurs) moves an
 * order to `paid` or `declined`; the shopper's return to `successUrl` proves nothing.
 */
import type { PaymentUpdateEvent } from 'express-resurs-checkout';

/**
 * `waiting`: no verdict from Resurs yet. `paid`: Resurs reports ACCEPTED (authorized or captured).
 * `declined`: REJECTED. `frozen`: Resurs holds it for manual review.
 */
export type OrderState = 'waiting' | 'paid' | 'declined' | 'frozen';

export interface OrderRecord {
  orderReference: string;
  /** The cart that opened it; the status endpoint answers only that cart's browser. */
  cartId: string | undefined;
  state: OrderState;
  /** The Merchant API status last seen by onPaymentUpdate. */
  paymentStatus: string | undefined;
  paymentId: string | undefined;
  updatedAt: number;
}

/** What `GET /demo/orders/:ref` answers. */
export interface OrderStatusView {
  orderReference: string;
  state: OrderState;
  paymentStatus: string | null;
}

const FINAL: ReadonlySet<OrderState> = new Set(['paid', 'declined']);

/** The shop's view of a Merchant API payment status. */
export function stateOf(paymentStatus: string): OrderState {
  switch (paymentStatus) {
    case 'ACCEPTED':
      return 'paid';
    case 'REJECTED':
      return 'declined';
    case 'FROZEN':
      return 'frozen';
    default:
      return 'waiting';
  }
}

export function isFinal(state: OrderState): boolean {
  return FINAL.has(state);
}

/** Orders in memory, the oldest dropped past `maxOrders`. */
export class OrderBook {
  private readonly orders = new Map<string, OrderRecord>();

  constructor(private readonly maxOrders = 10_000) {}

  get(orderReference: string): OrderRecord | undefined {
    return this.orders.get(orderReference);
  }

  /** Notes that `cartId` is paying for `orderReference` (idempotent). */
  open(orderReference: string, cartId: string): OrderRecord {
    const known = this.orders.get(orderReference);
    if (known) {
      known.cartId ??= cartId;
      return known;
    }
    return this.put({ orderReference, cartId, state: 'waiting', paymentStatus: undefined, paymentId: undefined, updatedAt: Date.now() });
  }

  /** onPaymentUpdate: records the fetched status. A verdict (paid, declined) is not undone by a later non-final status. */
  record(event: PaymentUpdateEvent): OrderRecord {
    const state = stateOf(event.status);
    const known = this.orders.get(event.orderReference);
    if (!known) {
      return this.put({ orderReference: event.orderReference, cartId: undefined, state, paymentStatus: event.status, paymentId: event.paymentId, updatedAt: Date.now() });
    }
    if (!isFinal(known.state) || isFinal(state)) {
      known.state = state;
      known.paymentStatus = event.status;
    }
    known.paymentId = event.paymentId;
    known.updatedAt = Date.now();
    return known;
  }

  private put(record: OrderRecord): OrderRecord {
    this.orders.set(record.orderReference, record);
    while (this.orders.size > this.maxOrders) this.orders.delete(this.orders.keys().next().value as string);
    return record;
  }
}

export function statusView(record: OrderRecord): OrderStatusView {
  return { orderReference: record.orderReference, state: record.state, paymentStatus: record.paymentStatus ?? null };
}
