/**
 * A shop that takes payments the way the README tells a merchant to: an Express app with
 * `app.use(createCheckoutRouter({..., payments: {...}}))`, listening on 127.0.0.1 (so the signed
 * callback URLs point at it), talking to a real Resurs stand-in on 127.0.0.1. The order comes
 * from a server-side cart (picked by the `X-Cart` header, like a session cookie), never from
 * the browser.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Request } from 'express';
import { createCheckoutRouter } from '../../src';
import type { CheckoutRouter, CheckoutRouterOptions, Customer, Order, OrderLine, PaymentsOptions, PaymentUpdateEvent } from '../../src';
import { PAYMENT_METHOD_CATALOG, startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn, StandInOptions } from '../../demo-app/resurs-stand-in';
import { recordingLogger } from './recording-logger';
import type { LogLine } from './recording-logger';

/** Payment method ids the stand-in knows. */
export const INVOICE = PAYMENT_METHOD_CATALOG[0]!.methodIds[0]!;
export const PART_PAYMENT = PAYMENT_METHOD_CATALOG[1]!.methodIds[0]!;
export const CARD = PAYMENT_METHOD_CATALOG[2]!.methodIds[0]!;

export const CALLBACK_SECRET = 'x'.repeat(32);
export const STORE_ID = 'test-store';

/** Lines that add up (2 × 99.50 + shipping). */
export function cartLines(): OrderLine[] {
  return [
    { description: 'Blue mug', reference: 'MUG-1', quantity: 2, quantityUnit: 'st', vatRate: 25, unitAmountIncludingVat: 99.5, totalAmountIncludingVat: 199, totalVatAmount: 39.8 },
    { description: 'Shipping', quantity: 1, quantityUnit: 'st', vatRate: 25, unitAmountIncludingVat: 49, totalAmountIncludingVat: 49, totalVatAmount: 9.8, type: 'SHIPPING' },
  ];
}

let orderCounter = 0;

/** A fresh order with its own reference. */
export function newOrder(lines: OrderLine[] = cartLines()): Order {
  orderCounter += 1;
  return { orderReference: `order-${process.pid}-${orderCounter}-${Math.random().toString(36).slice(2, 8)}`, orderLines: lines };
}

/** One running shop. */
export interface PaymentsShop {
  server: http.Server;
  /** `http://127.0.0.1:<port>` */
  url: string;
  router: CheckoutRouter;
  /** The options the router was made with. */
  options: CheckoutRouterOptions;
  close(): Promise<void>;
}

/** What a shop is made with on top of the defaults. */
export interface ShopOverrides extends Partial<Omit<CheckoutRouterOptions, 'payments'>> {
  payments?: Partial<PaymentsOptions>;
}

export interface PaymentsHarness {
  standIn: StandIn;
  token: string;
  /** Every line logged by shops built here. */
  lines: LogLine[];
  /** Server-side carts by `X-Cart` header; `default` without one. */
  carts: Map<string, Order>;
  /** The customer the `customer` hook gives, per cart (none when absent). */
  customers: Map<string, Customer>;
  /** Every onPaymentUpdate event. */
  updates: PaymentUpdateEvent[];
  /** Sets the default cart to a fresh order and returns it. */
  freshCart(lines?: OrderLine[]): Order;
  /** Starts a shop (closed by `closeShops`, and by `close`). */
  shop(overrides?: ShopOverrides): Promise<PaymentsShop>;
  closeShops(): Promise<void>;
  close(): Promise<void>;
}

function cartKey(req: Request): string {
  const header = req.headers['x-cart'];
  return typeof header === 'string' ? header : 'default';
}

export async function startPaymentsHarness(standInOptions: StandInOptions = {}): Promise<PaymentsHarness> {
  const standIn = await startStandIn(standInOptions);
  const token = standIn.issueToken();
  const { logger, lines } = recordingLogger();
  const carts = new Map<string, Order>();
  const customers = new Map<string, Customer>();
  const updates: PaymentUpdateEvent[] = [];
  const shops = new Set<PaymentsShop>();

  const harness: PaymentsHarness = {
    standIn,
    token,
    lines,
    carts,
    customers,
    updates,
    freshCart(orderLines) {
      const order = newOrder(orderLines);
      carts.set('default', order);
      return order;
    },
    async shop(overrides = {}) {
      const app = express();
      const server = http.createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { payments: paymentOverrides, ...routerOverrides } = overrides;
      const options: CheckoutRouterOptions = {
        storeId: STORE_ID,
        baseUrl: standIn.baseUrl,
        merchantApiUrl: standIn.merchantApiUrl,
        auth: { token },
        logger,
        ...routerOverrides,
        payments: {
          order: (req) => {
            const order = carts.get(cartKey(req));
            if (!order) throw new Error('no cart');
            return structuredClone(order);
          },
          customer: (req) => customers.get(cartKey(req)),
          redirect: { successUrl: `${url}/thanks`, failUrl: `${url}/cart` },
          callbackBaseUrl: url,
          callbackSecret: CALLBACK_SECRET,
          onPaymentUpdate: (event) => {
            updates.push(event);
          },
          ...paymentOverrides,
        },
      };
      const router = createCheckoutRouter(options);
      app.use(router);
      const shop: PaymentsShop = {
        server,
        url,
        router,
        options,
        close: async () => {
          shops.delete(shop);
          router.close();
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        },
      };
      shops.add(shop);
      return shop;
    },
    async closeShops() {
      await Promise.all([...shops].map((shop) => shop.close()));
    },
    async close() {
      await harness.closeShops();
      await standIn.close();
    },
  };
  return harness;
}

/**
 * The usual hooks: one harness per file, the stand-in, carts, log and events reset before each
 * test, shops closed after each test. Filled in by `beforeAll`.
 */
export function usePaymentsHarness(standInOptions: StandInOptions = {}): PaymentsHarness {
  const harness = {} as PaymentsHarness;
  beforeAll(async () => {
    Object.assign(harness, await startPaymentsHarness(standInOptions));
  });
  afterAll(() => harness.close());
  beforeEach(() => {
    harness.standIn.reset();
    harness.lines.length = 0;
    harness.carts.clear();
    harness.customers.clear();
    harness.updates.length = 0;
  });
  afterEach(() => harness.closeShops());
  return harness;
}

/** The create requests Resurs received. */
export function creates(standIn: StandIn) {
  return standIn.merchant.requests().filter((r) => r.route === 'create');
}

/** The search requests Resurs received. */
export function searches(standIn: StandIn) {
  return standIn.merchant.requests().filter((r) => r.route === 'search');
}

/** Waits (bounded) until `check` holds. */
export async function until(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
