/**
 * The demo shop: an Express app that serves a small storefront and mounts the checkout router
 * with one `app.use()`, exactly as the README tells a merchant to. With `payments` it also takes
 * the payment: the order comes from the server-side cart (cart.ts), `onPaymentUpdate` records
 * each verified fact in the order book (orders.ts), and the confirmation page polls that book.
 */
import path from 'node:path';
import http from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Express, Request } from 'express';
import { createCheckoutRouter } from 'express-resurs-checkout';
import type { AuthOptions, CampaignRule, CheckoutRouterOptions, Logger, PaymentsOptions, PaymentUpdateEvent, ResursEnvironment } from 'express-resurs-checkout';
import { DEMO_CAMPAIGNS } from './campaigns';
import { CartStore, orderLinesOf, viewOf } from './cart';
import type { Cart } from './cart';
import { buildContentSecurityPolicy, originOf } from './csp';
import { OrderBook, isFinal, statusView } from './orders';

/** Store id the demo uses against the stand-in. */
export const DEMO_STORE_ID = 'demo-store';

const PUBLIC_DIR = path.join(__dirname, 'public');

/** Router options the demo passes through untouched (timeouts, retries, hooks, ...). */
export type ExtraRouterOptions = Omit<
  CheckoutRouterOptions,
  'storeId' | 'baseUrl' | 'merchantApiUrl' | 'environment' | 'auth' | 'campaigns' | 'logger' | 'allowedScriptOrigins' | 'payments'
>;

/** Where the shopper lands after Resurs (both pages poll the order's state). */
export const CONFIRMATION_PATH = '/order/confirmation';
export const DECLINED_PATH = '/order/declined';
/** The router's payment route (its default). */
const PAYMENT_PATH = '/checkout/payment';

/** Taking the payment (off when absent: the storefront then stops at the payment methods). */
export interface DemoPaymentsOptions {
  /**
   * The shop's own origin as the shopper's browser reaches it (e.g. `http://127.0.0.1:3000`):
   * Resurs sends the shopper back to `{publicUrl}/order/confirmation` or `/order/declined`.
   */
  publicUrl: string;
  /** Where Resurs reaches the router's callback routes. Default `publicUrl` (the router is mounted at `/`). */
  callbackBaseUrl?: string;
  /** Signs the callback URLs; at least 32 characters, random per start is fine. */
  callbackSecret: string;
  timeToLiveInMinutes?: number;
  /** Called after the order book has recorded a verified update (tests, logs). */
  onOrderUpdate?: (event: PaymentUpdateEvent) => void;
}

export interface DemoShopOptions {
  /** Resurs API base URL (the stand-in's `baseUrl`, or Resurs' own). */
  baseUrl: string;
  /** Resurs' Merchant API (the stand-in's `merchantApiUrl`, or Resurs' own); default from `environment`. */
  merchantApiUrl?: string;
  /** Resurs environment for every URL not given; the router's default is `test`. */
  environment?: ResursEnvironment;
  /** How the router gets its merchant JWT. */
  auth: AuthOptions;
  /** Default `DEMO_STORE_ID`. */
  storeId?: string;
  /** Default `DEMO_CAMPAIGNS` (time windows). */
  campaigns?: CampaignRule;
  /**
   * Origins `embed.src` may come from: allowed in the CSP's `script-src` and passed to the router
   * as `allowedScriptOrigins`, so the two always agree. Default: the origin of `baseUrl`.
   */
  scriptOrigins?: string[];
  /** Replace the Content-Security-Policy header (default: built by `buildContentSecurityPolicy`). */
  contentSecurityPolicy?: string;
  logger?: Logger;
  /** Further router options. */
  router?: ExtraRouterOptions;
  /** Take payments (POST /checkout/payment and Resurs' callbacks). */
  payments?: DemoPaymentsOptions;
}

/** What `GET /demo/config` answers: where the shop sends its checkout requests. */
export interface DemoConfig {
  baseUrl: string;
  scriptOrigins: string[];
  /** True when `baseUrl` is the local stand-in (a loopback host). */
  standIn: boolean;
  /** True when the shop takes payments (the page shows "Pay"). */
  payments: boolean;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Builds the demo shop's Express app (not listening). */
export function createDemoShop(options: DemoShopOptions): Express {
  const scriptOrigins = (options.scriptOrigins ?? [options.baseUrl]).map(originOf);
  const csp =
    options.contentSecurityPolicy ??
    buildContentSecurityPolicy({ scriptOrigins, connectOrigins: [options.baseUrl, ...scriptOrigins] });
  const config: DemoConfig = { baseUrl: options.baseUrl, scriptOrigins, standIn: isLoopback(options.baseUrl), payments: options.payments !== undefined };
  const carts = new CartStore({ secureCookie: options.payments ? new URL(options.payments.publicUrl).protocol === 'https:' : false });
  const orders = new OrderBook();

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });

  const payments = options.payments && paymentsFor(options.payments, carts, orders, options.logger);
  if (payments) {
    // The payment route's order hook needs this browser's cart: find it (or start one) first.
    app.post(PAYMENT_PATH, (req, res, next) => {
      cartOfRequest.set(req, carts.ensure(req, res));
      next();
    });
  }

  // The one line a merchant adds:
  app.use(
    createCheckoutRouter({
      storeId: options.storeId ?? DEMO_STORE_ID,
      baseUrl: options.baseUrl,
      ...(options.merchantApiUrl ? { merchantApiUrl: options.merchantApiUrl } : {}),
      ...(options.environment ? { environment: options.environment } : {}),
      auth: options.auth,
      campaigns: options.campaigns ?? DEMO_CAMPAIGNS,
      allowedScriptOrigins: scriptOrigins,
      ...(options.logger ? { logger: options.logger } : {}),
      ...options.router,
      ...(payments ? { payments } : {}),
    }),
  );

  app.get('/demo/config', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(config);
  });
  // The cart the page shows: the server's, so what the page shows is what Resurs is asked for.
  app.get('/demo/cart', (req, res) => {
    res.set('Cache-Control', 'no-store').json(viewOf(carts.ensure(req, res)));
  });
  // The order's state as onPaymentUpdate left it, for this browser's cart only.
  app.get('/demo/orders/:ref', (req, res) => {
    const record = orders.get(String(req.params.ref));
    const cart = carts.find(req);
    res.set('Cache-Control', 'no-store');
    if (!record || !cart || record.cartId !== cart.id) {
      res.status(404).json({ state: 'unknown' });
      return;
    }
    res.json(statusView(record));
  });
  // When Resurs answered create without sending the shopper anywhere: this cart's current order.
  app.get('/order/latest', (req, res) => {
    const cart = carts.find(req);
    res.set('Cache-Control', 'no-store').redirect(303, cart ? `${CONFIRMATION_PATH}?ref=${encodeURIComponent(cart.orderReference)}` : '/');
  });
  for (const page of [CONFIRMATION_PATH, DECLINED_PATH]) {
    app.get(page, (_req, res) => {
      res.set('Cache-Control', 'no-store').sendFile(path.join(PUBLIC_DIR, 'confirmation.html'));
    });
  }
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));
  return app;
}

/** The cart found for a payment request, handed from the shop's middleware to `payments.order`. */
const cartOfRequest = new WeakMap<Request, Cart>();

function paymentsFor(demo: DemoPaymentsOptions, carts: CartStore, orders: OrderBook, logger: Logger | undefined): PaymentsOptions {
  const publicUrl = demo.publicUrl.replace(/\/+$/, '');
  const back = (page: string) => (_req: Request, orderReference: string) => `${publicUrl}${page}?ref=${encodeURIComponent(orderReference)}`;
  return {
    order: (req) => {
      const cart = cartOfRequest.get(req);
      if (!cart) throw new Error('no cart for this request');
      // A decided attempt (paid, or declined so the shopper tries again) gets a new order reference.
      const current = orders.get(cart.orderReference);
      if (current && isFinal(current.state)) carts.renew(cart);
      orders.open(cart.orderReference, cart.id);
      return { orderReference: cart.orderReference, orderLines: orderLinesOf(cart) };
    },
    redirect: { successUrl: back(CONFIRMATION_PATH), failUrl: back(DECLINED_PATH) },
    callbackBaseUrl: demo.callbackBaseUrl ?? publicUrl,
    callbackSecret: demo.callbackSecret,
    ...(demo.timeToLiveInMinutes !== undefined ? { timeToLiveInMinutes: demo.timeToLiveInMinutes } : {}),
    onPaymentUpdate: (event) => {
      const record = orders.record(event);
      logger?.info({ orderReference: event.orderReference, paymentStatus: event.status, state: record.state }, 'Order updated.');
      demo.onOrderUpdate?.(event);
    },
  };
}

/** A listening demo shop. */
export interface RunningShop {
  /** `http://127.0.0.1:PORT` */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (default 127.0.0.1 and a random port). With `fallbackToRandomPort`, a
 * busy port is replaced by a free one instead of failing. `app` may be a function of the shop's
 * URL: it is called once the port is bound (the payment options need the shop's own URL).
 */
export async function listenShop(
  app: Express | ((url: string) => Express),
  { host = '127.0.0.1', port = 0, fallbackToRandomPort = false }: { host?: string; port?: number; fallbackToRandomPort?: boolean } = {},
): Promise<RunningShop> {
  const server = await new Promise<Server>((resolve, reject) => {
    const attempt = (p: number): void => {
      const candidate = http.createServer();
      candidate.once('listening', () => resolve(candidate));
      candidate.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE' && fallbackToRandomPort && p !== 0) attempt(0);
        else reject(error);
      });
      candidate.listen(p, host);
    };
    attempt(port);
  });
  const { port: actual } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${urlHost}:${actual}`;
  try {
    // Express apps are functions too: tell a factory (one argument) from an app (three).
    server.on('request', isFactory(app) ? app(url) : app);
  } catch (error) {
    server.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    url,
    server,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function isFactory(app: Express | ((url: string) => Express)): app is (url: string) => Express {
  return typeof (app as Partial<Express>).use !== 'function';
}
