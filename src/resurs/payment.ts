/**
 * Resurs' payment (Merchant API v2), as this package reads it: the fields it relies on are
 * checked, everything else Resurs sends is passed on to the merchant untouched. Pure.
 */
import { URL_SAFE_ID, checkBrowserUrl } from '../rules/browser-url';

/** A payment's status on Resurs' Merchant API. */
export type PaymentStatus =
  | 'TASK_REDIRECTION_REQUIRED'
  | 'INSPECTION'
  | 'SUPPLEMENTING_REQUIRED'
  | 'FROZEN'
  | 'ACCEPTED'
  | 'REJECTED';

/** Order line kinds Resurs knows (ecom2's OrderLineType). */
export type OrderLineType = 'NORMAL' | 'PHYSICAL_GOODS' | 'DIGITAL_GOODS' | 'DISCOUNT' | 'SHIPPING' | 'FEE' | 'GIFT_CARD' | 'OTHER_PAYMENT';

/** One line of an order, amounts in the store's currency, VAT included. */
export interface OrderLine {
  /** What was bought, at most 50 characters. */
  description: string;
  /** Your article number, at most 50 characters. */
  reference?: string;
  /** How many; more than 0, at most two decimals. */
  quantity: number;
  /** E.g. `st`, `pcs`, `kg`; at most 50 characters. */
  quantityUnit: string;
  /** VAT in percent, 0 to 100. */
  vatRate: number;
  /** Price of one unit, VAT included; at most two decimals. */
  unitAmountIncludingVat: number;
  /** quantity × unitAmountIncludingVat (within 0.01), VAT included; at most two decimals. */
  totalAmountIncludingVat: number;
  /** The VAT part of the total; at most two decimals. */
  totalVatAmount?: number;
  /** Default `NORMAL`. */
  type?: OrderLineType;
}

/** The order a payment is for, built from YOUR server-side cart, never from the browser. */
export interface Order {
  /** Your order number: 1 to 64 characters, unique per order (one payment per order reference). */
  orderReference: string;
  /** 1 to 1000 lines. */
  orderLines: OrderLine[];
}

/** The shopper, when you know them (Resurs may ask for what is missing on its own page). */
export interface Customer {
  customerType?: 'NATURAL' | 'LEGAL';
  email?: string;
  governmentId?: string;
  mobilePhone?: string;
  deliveryAddress?: {
    fullName?: string;
    firstName?: string;
    lastName?: string;
    addressRow1?: string;
    addressRow2?: string;
    postalArea?: string;
    postalCode?: string;
    countryCode?: string;
  };
  [field: string]: unknown;
}

/** A payment as Resurs reports it. Fields this package does not read are passed on as Resurs sent them. */
export interface Payment {
  /** Resurs' payment id. */
  id: string;
  /** One of {@link PaymentStatus}; a status Resurs adds later is passed on as its string. */
  status: PaymentStatus | (string & {});
  storeId?: string;
  created?: string;
  paymentMethodId?: string;
  order?: { orderReference?: string; orderLines?: unknown[]; [field: string]: unknown };
  /** Present when the shopper must go to Resurs (sign, identify, approve). */
  taskRedirectionUrls?: { customerUrl?: string; [field: string]: unknown };
  paymentActions?: unknown[];
  [field: string]: unknown;
}

const STATUS = /^[A-Z][A-Z_]{0,63}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks one payment; returns it, or why it was refused (our words, never its content). */
export function checkPayment(body: unknown): Payment | string {
  if (!isObject(body)) return 'the payment is not a JSON object';
  if (typeof body.id !== 'string' || !URL_SAFE_ID.test(body.id)) return '`id` is not 1 to 128 URL-safe characters';
  if (typeof body.status !== 'string' || !STATUS.test(body.status)) return '`status` is not a payment status';
  if (body.order !== undefined && !isObject(body.order)) return '`order` is not an object';
  if (body.taskRedirectionUrls !== undefined && body.taskRedirectionUrls !== null && !isObject(body.taskRedirectionUrls)) {
    return '`taskRedirectionUrls` is not an object';
  }
  return body as Payment;
}

/** Checks a search answer `{content: [payment...]}`. */
export function checkPaymentList(body: unknown): Payment[] | string {
  if (!isObject(body) || !Array.isArray(body.content)) return 'the answer has no `content` list';
  const payments: Payment[] = [];
  for (const item of body.content) {
    const payment = checkPayment(item);
    if (typeof payment === 'string') return `a payment in \`content\`: ${payment}`;
    payments.push(payment);
  }
  return payments;
}

/**
 * Where to send the shopper: Resurs' `taskRedirectionUrls.customerUrl` when it is an absolute
 * `https:` URL (loopback `http:` only against a loopback Merchant API). `undefined` when Resurs
 * sent none; a string reason when it sent one we refuse.
 */
export function redirectUrlOf(payment: Payment, merchantApiIsLoopback: boolean): { url?: string } | string {
  const raw = payment.taskRedirectionUrls?.customerUrl;
  if (raw === undefined || raw === null) return {};
  const url = checkBrowserUrl(raw, 'customerUrl', merchantApiIsLoopback);
  return typeof url === 'string' ? url : { url: url.href };
}
