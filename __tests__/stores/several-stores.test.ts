/**
 * Several Resurs stores in one app: `storeId` as a function of the request with a `stores`
 * allow-list. Sessions, reuse, payments and callbacks are kept per store, one token source serves
 * them all, and a store outside the list is the shop's bug (500, logged) that never reaches Resurs.
 * Against the real stand-in on 127.0.0.1.
 */
import { createHmac } from 'node:crypto';
import type { Request } from 'express';
import request from 'supertest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import { ConfigError, MemorySessionStore, createCheckoutRouter, createResursClient } from '../../src';
import type { CheckoutRouterOptions, SessionCreatedEvent } from '../../src';
import { CALLBACK_SECRET, INVOICE, creates, newOrder, usePaymentsHarness } from '../helpers/payments-app';
import type { PaymentsShop, ShopOverrides } from '../helpers/payments-app';
import { expectProblem } from '../helpers/problem';
import { logText } from '../helpers/recording-logger';

const SE = 'se-store';
const NO = 'no-store';
const BY_COUNTRY: Record<string, string> = { se: SE, no: NO };
/** The shop's rule: the store from the X-Country header (a domain or path works the same way). */
const byCountry = (req: Request) => BY_COUNTRY[String(req.headers['x-country'])];

const harness = usePaymentsHarness();

function severalStores(extra: ShopOverrides = {}): Promise<PaymentsShop> {
  return harness.shop({ storeId: byCountry, stores: [SE, NO], ...extra });
}

const sessionPaths = () => harness.standIn.sessionRequests.map((r) => r.path);

describe('options', () => {
  const base = { baseUrl: 'http://127.0.0.1:9', auth: { getToken: () => 'x' } };
  const problemsOf = (options: unknown): string[] => {
    try {
      createCheckoutRouter(options as CheckoutRouterOptions);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).problems;
    }
    throw new Error('no ConfigError');
  };

  it('a storeId function needs the stores allow-list', () => {
    expect(problemsOf({ ...base, storeId: byCountry })).toEqual([expect.stringContaining('`stores` is required when `storeId` is a function')]);
  });

  it('stores without a storeId function is refused, not silently ignored', () => {
    expect(problemsOf({ ...base, storeId: SE, stores: [SE, NO] })).toEqual([expect.stringContaining('`stores` goes with a `storeId` function')]);
  });

  it.each([
    ['empty', []],
    ['a duplicate', [SE, SE]],
    ['a path-climbing id', [SE, '..']],
    ['an empty id', [SE, '']],
    ['not strings', [SE, 7]],
  ])('stores with %s is refused', (_name, stores) => {
    expect(problemsOf({ ...base, storeId: byCountry, stores })).toEqual([expect.stringMatching(/^`stores(\.\d+)?` is invalid: `stores` must be a non-empty list of distinct Resurs store ids/)]);
  });

  it('createResursClient takes one store: stores is a router option there', () => {
    expect(() => createResursClient({ ...base, storeId: SE, stores: [SE] } as never)).toThrow(/`stores` is an option of createCheckoutRouter/);
  });
});

describe('sessions per store', () => {
  it("each request's store gets its own Create Session, and onSessionCreated names it", async () => {
    const events: SessionCreatedEvent[] = [];
    const shop = await severalStores({ onSessionCreated: (event) => events.push(event) });
    const se = await request(shop.url).post('/checkout/session').set('X-Country', 'se').send({});
    const no = await request(shop.url).post('/checkout/session').set('X-Country', 'no').send({});
    expect([se.status, no.status]).toEqual([201, 201]);
    expect(se.body.id).not.toBe(no.body.id);
    expect(sessionPaths()).toEqual([expect.stringMatching(/\/stores\/se-store\/sessions$/), expect.stringMatching(/\/stores\/no-store\/sessions$/)]);
    expect(events.map((e) => [e.session.id, e.storeId])).toEqual([
      [se.body.id, SE],
      [no.body.id, NO],
    ]);
  });

  it('one token source serves every store: client credentials are fetched once for both', async () => {
    const shop = await severalStores({ auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl } });
    const answers = await Promise.all(['se', 'no', 'se', 'no'].map((country) => request(shop.url).post('/checkout/session').set('X-Country', country).send({})));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201]);
    expect(harness.standIn.tokenRequests).toHaveLength(1);
    expect(sessionPaths().filter((p) => p.includes('/stores/se-store/'))).toHaveLength(2);
    expect(sessionPaths().filter((p) => p.includes('/stores/no-store/'))).toHaveLength(2);
  });

  it('reuse is per store: one cart id in two stores gets two sessions, and each store its own again', async () => {
    const shop = await severalStores({ reuse: { key: (req) => req.get('x-cart-id') } });
    const ask = (country: string) => request(shop.url).post('/checkout/session').set('X-Country', country).set('X-Cart-Id', 'cart-1').send({});
    const se1 = await ask('se');
    const no1 = await ask('no');
    const se2 = await ask('se');
    const no2 = await ask('no');
    expect(se1.body.id).not.toBe(no1.body.id);
    expect(se2.body.id).toBe(se1.body.id);
    expect(no2.body.id).toBe(no1.body.id);
    expect(harness.standIn.sessionRequests).toHaveLength(2);
  });

  it('two routers on one reuse store, one per store, never hand each other sessions', async () => {
    const store = new MemorySessionStore();
    const shop = await severalStores({ reuse: { key: () => 'same-key', store } });
    const seOnly = await harness.shop({ storeId: SE, reuse: { key: () => 'same-key', store } });
    const fromSe = await request(seOnly.url).post('/checkout/session').send({});
    const fromNo = await request(shop.url).post('/checkout/session').set('X-Country', 'no').send({});
    const fromSeAgain = await request(shop.url).post('/checkout/session').set('X-Country', 'se').send({});
    expect(fromNo.body.id).not.toBe(fromSe.body.id);
    // The single-store router and the several-stores router agree on what a store's session is.
    expect(fromSeAgain.body.id).toBe(fromSe.body.id);
  });
});

describe('a store outside the allow-list', () => {
  it.each([
    ['a store not in stores', () => 'dk-store', 'string'],
    ['undefined (an unknown country)', () => undefined, 'undefined'],
    ['a non-string', () => 42 as unknown as string, 'number'],
  ])('the function returning %s answers 500, logs it, and sends nothing to Resurs', async (_name, storeId, returned) => {
    const shop = await harness.shop({ storeId, stores: [SE, NO] });
    const session = await request(shop.url).post('/checkout/session').send({});
    expectProblem(session, 500, 'internal_error');
    harness.freshCart();
    const payment = await request(shop.url).post('/checkout/payment').send({ paymentMethodId: INVOICE });
    expectProblem(payment, 500, 'internal_error');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
    expect(harness.standIn.merchant.requests()).toHaveLength(0);
    const errors = harness.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(2);
    for (const line of errors) {
      expect(line.fields).toMatchObject({ hook: 'storeId', returned });
      expect(line.message).toMatch(/not in `stores`.*without calling Resurs/);
    }
    // The value may come from the request: it is never logged.
    expect(logText(harness.lines)).not.toContain('dk-store');
  });

  it('a function that throws answers 500 with the hook named, never its message', async () => {
    const shop = await harness.shop({
      storeId: () => {
        throw new Error('secret-host-table-miss');
      },
      stores: [SE],
    });
    const res = await request(shop.url).post('/checkout/session').send({});
    expectProblem(res, 500, 'internal_error', 'secret-host-table-miss');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
    expect(harness.lines.find((l) => l.level === 'error')?.fields).toMatchObject({ hook: 'storeId' });
    expect(logText(harness.lines)).not.toContain('secret-host-table-miss');
  });
});

describe('payments and callbacks per store', () => {
  const pay = (shop: PaymentsShop, country: string, cart: string) =>
    request(shop.url).post('/checkout/payment').set('X-Country', country).set('X-Cart', cart).send({ paymentMethodId: INVOICE });
  const signFor = (storeId: string, ref: string) => createHmac('sha256', CALLBACK_SECRET).update(`${storeId.length}:${storeId}\n${ref}`).digest('hex');

  it('the payment is created in the request’s store, and the order builder is told which', async () => {
    const seen: string[] = [];
    const order = newOrder();
    harness.carts.set('c', order);
    const shop = await severalStores({
      payments: {
        order: (_req, storeId) => {
          seen.push(storeId);
          return structuredClone(order);
        },
      },
    });
    const res = await pay(shop, 'no', 'c');
    expect(res.status).toBe(201);
    expect(seen).toEqual([NO]);
    expect(creates(harness.standIn).map((r) => (r.body as { storeId: string }).storeId)).toEqual([NO]);
    expect(harness.standIn.merchant.payment(res.body.paymentId)?.storeId).toBe(NO);
  });

  it('one order reference in two stores is two orders: two payments, neither answered as the other', async () => {
    const shop = await severalStores();
    const order = newOrder();
    harness.carts.set('c', order);
    const [se, no] = await Promise.all([pay(shop, 'se', 'c'), pay(shop, 'no', 'c')]);
    expect([se.status, no.status]).toEqual([201, 201]);
    expect(se.body.paymentId).not.toBe(no.body.paymentId);
    expect(creates(harness.standIn)).toHaveLength(2);
    // And within one store, still one payment per order.
    const seAgain = await pay(shop, 'se', 'c');
    expect(seAgain.body.paymentId).toBe(se.body.paymentId);
    expect(creates(harness.standIn)).toHaveLength(2);
  });

  it('the signed callback URL names the store and its signature covers it; the approval reaches onPaymentUpdate once', async () => {
    const shop = await severalStores();
    const order = newOrder();
    harness.carts.set('c', order);
    const created = await pay(shop, 'no', 'c');
    const kept = harness.standIn.merchant.paymentOptions(created.body.paymentId)!;
    const url = new URL(kept.authorizationCallbackUrl!);
    expect(url.searchParams.get('store')).toBe(NO);
    expect(url.searchParams.get('ref')).toBe(order.orderReference);
    expect(url.searchParams.get('sig')).toBe(signFor(NO, order.orderReference));

    await harness.standIn.merchant.approve(created.body.paymentId);
    await harness.standIn.merchant.settled();
    expect(harness.updates).toHaveLength(1);
    expect(harness.updates[0]).toMatchObject({ type: 'authorization', paymentId: created.body.paymentId, orderReference: order.orderReference });
    expect(harness.updates[0]!.payment.storeId).toBe(NO);
  });

  it('a callback URL whose store was changed, dropped or unknown is refused before any lookup', async () => {
    const shop = await severalStores();
    const order = newOrder();
    harness.carts.set('c', order);
    const created = await pay(shop, 'se', 'c');
    const signed = new URL(harness.standIn.merchant.paymentOptions(created.body.paymentId)!.authorizationCallbackUrl!);
    const body = { paymentId: created.body.paymentId, status: 'AUTHORIZED', created: new Date().toISOString() };
    const lookupsBefore = harness.standIn.merchant.requests().filter((r) => r.route === 'get').length;
    const variants = [
      (q: URLSearchParams) => q.set('store', NO), // the SE signature with the NO store
      (q: URLSearchParams) => q.delete('store'),
      (q: URLSearchParams) => q.set('store', 'dk-store'),
      // A single-store signature (the reference alone) is not one of a several-stores router.
      (q: URLSearchParams) => q.set('sig', createHmac('sha256', CALLBACK_SECRET).update(order.orderReference).digest('hex')),
    ];
    for (const change of variants) {
      const query = new URLSearchParams(signed.search);
      change(query);
      const res = await request(shop.url).post(`${signed.pathname}?${query.toString()}`).send(body);
      expectProblem(res, 403, 'callback_refused', CALLBACK_SECRET);
    }
    expect(harness.standIn.merchant.requests().filter((r) => r.route === 'get').length).toBe(lookupsBefore);
    expect(harness.updates).toHaveLength(0);
  });

  it("a correctly signed callback for one store about another store's payment is refused after the lookup", async () => {
    const shop = await severalStores();
    const order = newOrder();
    harness.carts.set('c', order);
    const created = await pay(shop, 'se', 'c');
    // Someone holding the NO store's signature for the same order reference.
    const path = `/checkout/callbacks/authorization?store=${NO}&ref=${encodeURIComponent(order.orderReference)}&sig=${signFor(NO, order.orderReference)}`;
    const res = await request(shop.url).post(path).send({ paymentId: created.body.paymentId, status: 'AUTHORIZED', created: new Date().toISOString() });
    expectProblem(res, 403, 'callback_refused');
    expect(harness.updates).toHaveLength(0);
  });
});

describe('createResursClient(...).forStore', () => {
  it('calls another store on the same token source', async () => {
    const se = createResursClient({
      storeId: SE,
      baseUrl: harness.standIn.baseUrl,
      merchantApiUrl: harness.standIn.merchantApiUrl,
      auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl },
    });
    try {
      const no = se.forStore(NO);
      await se.createSession();
      await no.createSession();
      const order = newOrder();
      const payment = await no.payments.create({ paymentMethodId: INVOICE, order });
      expect(payment.storeId).toBe(NO);
      // search is per store: the SE view does not see the NO payment.
      expect(await se.payments.search({ orderReference: order.orderReference })).toEqual([]);
      expect((await no.payments.search({ orderReference: order.orderReference })).map((p) => p.id)).toEqual([payment.id]);
      expect(sessionPaths()).toEqual([expect.stringMatching(/\/stores\/se-store\/sessions$/), expect.stringMatching(/\/stores\/no-store\/sessions$/)]);
      expect(harness.standIn.tokenRequests).toHaveLength(1);
    } finally {
      se.close();
    }
  });

  it.each(['', '.', '..', 'x'.repeat(257)])('refuses the store id %j with a ConfigError', (storeId) => {
    const client = createResursClient({ storeId: SE, baseUrl: harness.standIn.baseUrl, auth: { token: harness.token } });
    expect(() => client.forStore(storeId)).toThrow(ConfigError);
  });
});
