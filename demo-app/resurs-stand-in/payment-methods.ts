/** `GET {baseUrl}/sessions/:sessionId/payment-method-groups`: the shopper's payment methods. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http-util';
import type { SessionRegistry } from './sessions';

/** Payment method types the stand-in offers. */
export type PaymentMethodType =
  | 'RESURS_INVOICE'
  | 'RESURS_PART_PAYMENT_SELECT_LATER'
  | 'RESURS_PART_PAYMENT_SELECT_NOW'
  | 'RESURS_CARD'
  | 'RESURS_REVOLVING_CREDIT'
  | 'SWISH'
  | 'TRUSTLY';

/** Customer types Resurs distinguishes. */
export type CustomerType = 'NATURAL' | 'LEGAL';

/** One group as the route answers it. */
export interface PaymentMethodGroup {
  id: string;
  methodIds: string[];
  type: PaymentMethodType;
  customerTypes: CustomerType[];
  title: string;
  subtitle: string;
}

interface CatalogEntry extends PaymentMethodGroup {
  /** The campaign offering this group; undefined for the everyday methods. */
  campaign?: string;
  /** Months to spread the amount over in the subtitle, for part payments. */
  months?: number;
}

const BOTH: CustomerType[] = ['NATURAL', 'LEGAL'];
const NATURAL: CustomerType[] = ['NATURAL'];

/** Everything the stand-in can offer; campaign groups are shown only for sessions of that campaign. */
export const PAYMENT_METHOD_CATALOG: readonly CatalogEntry[] = [
  { id: 'invoice', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a01'], type: 'RESURS_INVOICE', customerTypes: BOTH, title: 'Invoice', subtitle: 'Pay within 30 days' },
  { id: 'part-payment', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a02', '6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a03'], type: 'RESURS_PART_PAYMENT_SELECT_LATER', customerTypes: NATURAL, title: 'Part payment', subtitle: 'Choose your plan later', months: 12 },
  { id: 'card', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a04'], type: 'RESURS_CARD', customerTypes: BOTH, title: 'Card', subtitle: 'Visa or Mastercard' },
  { id: 'resurs-account', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a05'], type: 'RESURS_REVOLVING_CREDIT', customerTypes: NATURAL, title: 'Resurs account', subtitle: 'Flexible monthly payments' },
  { id: 'swish', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a06'], type: 'SWISH', customerTypes: NATURAL, title: 'Swish', subtitle: 'Pay with your phone' },
  { id: 'trustly', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a07'], type: 'TRUSTLY', customerTypes: BOTH, title: 'Trustly', subtitle: 'Pay directly from your bank' },
  { id: 'summer-sale-part-payment', campaign: 'SUMMER_SALE', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0b01'], type: 'RESURS_PART_PAYMENT_SELECT_NOW', customerTypes: NATURAL, title: 'Summer sale: 0% interest for 6 months', subtitle: 'Campaign part payment', months: 6 },
  { id: 'summer-sale-business-invoice', campaign: 'SUMMER_SALE', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0b02'], type: 'RESURS_INVOICE', customerTypes: ['LEGAL'], title: 'Summer sale: business invoice, 60 days', subtitle: 'Campaign invoice for companies' },
  { id: 'black-friday-invoice', campaign: 'BLACK_FRIDAY', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0c01'], type: 'RESURS_INVOICE', customerTypes: BOTH, title: 'Black Friday: pay in 3 months, no interest', subtitle: 'Campaign invoice' },
  { id: 'spring-2025-part-payment', campaign: 'SPRING_2025', methodIds: ['6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0d01'], type: 'RESURS_PART_PAYMENT_SELECT_NOW', customerTypes: NATURAL, title: 'Spring 2025: 12 months interest-free', subtitle: 'Campaign part payment', months: 12 },
];

const CORS = { 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' };

/** Headers that let a browser on any origin call the route and the script. */
export const CORS_PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, OPTIONS',
  'Access-Control-Max-Age': '600',
};

/** The groups a session of `campaign` shows a customer of `customerType`. */
export function groupsFor(campaign: string | undefined, customerType: CustomerType, amount?: number): PaymentMethodGroup[] {
  return PAYMENT_METHOD_CATALOG.filter((entry) => entry.campaign === campaign && entry.customerTypes.includes(customerType)).map(
    ({ id, methodIds, type, customerTypes, title, subtitle, months }) => ({
      id,
      methodIds: [...methodIds],
      type,
      customerTypes: [...customerTypes],
      title,
      subtitle: months !== undefined && amount !== undefined && amount > 0 ? `${subtitle}: from ${Math.ceil(amount / months)} per month` : subtitle,
    }),
  );
}

/** Answer one payment-method-groups request (or its CORS preflight). */
export function handlePaymentMethodGroups(req: IncomingMessage, res: ServerResponse, sessionId: string, query: URLSearchParams, registry: SessionRegistry): void {
  if (req.method === 'OPTIONS') {
    const asked = req.headers['access-control-request-headers'];
    res.writeHead(204, { ...CORS_PREFLIGHT_HEADERS, 'Access-Control-Allow-Headers': typeof asked === 'string' ? asked : 'Accept, Content-Type' });
    res.end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { message: 'Use GET' }, { ...CORS, Allow: 'GET, HEAD, OPTIONS' });
    return;
  }
  const customerType = query.get('customerType') ?? 'NATURAL';
  if (customerType !== 'NATURAL' && customerType !== 'LEGAL') {
    sendJson(res, 400, { message: 'customerType must be NATURAL or LEGAL' }, CORS);
    return;
  }
  const rawAmount = query.get('amount');
  const amount = rawAmount === null || rawAmount === '' ? undefined : Number(rawAmount);
  if (amount !== undefined && !(Number.isFinite(amount) && amount >= 0)) {
    sendJson(res, 400, { message: 'amount must be a non-negative number' }, CORS);
    return;
  }
  const session = registry.get(sessionId);
  if (!session) {
    sendJson(res, 404, { message: 'Payment session not found' }, CORS);
    return;
  }
  if (session.expiresAt <= Date.now()) {
    sendJson(res, 410, { message: 'Payment session has expired; please reload the page to start a new one' }, CORS);
    return;
  }
  sendJson(res, 200, { data: groupsFor(session.campaign, customerType, amount) }, CORS);
}
