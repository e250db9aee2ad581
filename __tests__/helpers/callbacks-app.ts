/**
 * A shop built the way the README tells a merchant to take payments: an Express app with the
 * checkout router (`payments` on) mounted by one app.use(), listening on 127.0.0.1 on a random
 * port, so the Resurs stand-in can POST its callbacks to it. `callbackBaseUrl` is that origin.
 *
 * The order builder reads the order reference from the `X-Test-Order` header (URI-encoded): a test shortcut
 * standing in for the merchant's server-side cart.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Express } from 'express';
import request from 'supertest';
import { createCheckoutRouter } from '../../src';
import type { CheckoutRouter, CheckoutRouterOptions, Order, PaymentsOptions, PaymentUpdateEvent } from '../../src';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { recordingLogger } from './recording-logger';
import type { LogLine } from './recording-logger';

export const CALLBACK_SECRET = 'callbacks-test-secret-0123456789abcdef-XYZ';
export const STORE_ID = 'test-store';
/** A `methodIds` entry of the stand-in's catalogue (invoice). */
export const METHOD_ID = '6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a01';

export function orderFor(orderReference: string): Order {
  return {
    orderReference,
    orderLines: [
      { description: 'Socks', quantity: 2, quantityUnit: 'st', vatRate: 25, unitAmountIncludingVat: 100, totalAmountIncludingVat: 200, totalVatAmount: 40 },
    ],
  };
}

/** `hex HMAC-SHA256(secret, orderReference)`, computed here independently of the package. */
export function signRef(orderReference: string, secret = CALLBACK_SECRET): string {
  return createHmac('sha256', secret).update(orderReference, 'utf8').digest('hex');
}

export interface CallbacksShopOptions {
  standIn: StandIn;
  /** Merchant JWT; default a stand-in token valid for every store. */
  token?: string;
  /** Router options over the defaults (storeId, baseUrl, merchantApiUrl, auth, logger). */
  router?: Partial<CheckoutRouterOptions>;
  /** `payments` options over the defaults. */
  payments?: Partial<PaymentsOptions>;
  /** Mount a shop-wide `express.json()` before the router. */
  shopJsonParser?: boolean;
}

export interface CallbacksShop {
  /** `http://127.0.0.1:PORT` (= callbackBaseUrl). */
  url: string;
  app: Express;
  router: CheckoutRouter;
  /** Every onPaymentUpdate call, in order (failed ones too). */
  calls: PaymentUpdateEvent[];
  /** The calls that resolved. */
  handled: PaymentUpdateEvent[];
  /** What onPaymentUpdate does after recording the call; replace freely. Default: nothing. */
  onUpdate: (event: PaymentUpdateEvent) => void | Promise<void>;
  lines: LogLine[];
  /** POST {paymentPath} for `orderReference`; resolves to the 201 body. */
  createPayment(orderReference: string, paymentMethodId?: string): Promise<{ paymentId: string; status: string; redirectUrl?: string }>;
  /** A supertest agent on the listening origin. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

export async function startCallbacksShop(options: CallbacksShopOptions): Promise<CallbacksShop> {
  const { standIn } = options;
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { logger, lines } = recordingLogger();
  const calls: PaymentUpdateEvent[] = [];
  const handled: PaymentUpdateEvent[] = [];
  const app = express();
  const shop = {} as CallbacksShop;
  const router = createCheckoutRouter({
    storeId: STORE_ID,
    baseUrl: standIn.baseUrl,
    merchantApiUrl: standIn.merchantApiUrl,
    auth: { token: options.token ?? standIn.issueToken() },
    logger,
    ...options.router,
    payments: {
      order: (req) => orderFor(decodeURIComponent(req.get('x-test-order') ?? 'ORDER-1')),
      redirect: { successUrl: `${url}/thanks`, failUrl: `${url}/sorry` },
      callbackBaseUrl: url,
      callbackSecret: CALLBACK_SECRET,
      onPaymentUpdate: async (event) => {
        calls.push(event);
        await shop.onUpdate(event);
        handled.push(event);
      },
      ...options.payments,
    },
  } as CheckoutRouterOptions);
  if (options.shopJsonParser) app.use(express.json());
  app.use(router);
  server.on('request', app);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  Object.assign(shop, {
    url,
    app,
    router,
    calls,
    handled,
    onUpdate: () => undefined,
    lines,
    http: () => request(url),
    async createPayment(orderReference: string, paymentMethodId = METHOD_ID) {
      const res = await request(url)
        .post('/checkout/payment')
        .set('X-Test-Order', encodeURIComponent(orderReference))
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ paymentMethodId }));
      if (res.status !== 201) throw new Error(`create payment answered ${res.status}: ${res.text}`);
      return res.body as { paymentId: string; status: string; redirectUrl?: string };
    },
    async close() {
      router.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  } satisfies Partial<CallbacksShop>);
  return shop;
}

/** The path + query of a callback URL the router sent on create (as the stand-in keeps it). */
export function callbackPathOf(standIn: StandIn, paymentId: string, kind: 'authorization' | 'management'): string {
  const kept = standIn.merchant.paymentOptions(paymentId);
  const full = kind === 'authorization' ? kept?.authorizationCallbackUrl : kept?.managementCallbackUrl;
  if (!full) throw new Error(`no ${kind} callback URL kept for ${paymentId}`);
  const parsed = new URL(full);
  return parsed.pathname + parsed.search;
}

/** Merchant API requests of one route since the last reset. */
export function merchantRequests(standIn: StandIn, route: 'get' | 'create' | 'search' | 'capture' | 'cancel' | 'refund'): number {
  return standIn.merchant.requests().filter((r) => r.route === route).length;
}
