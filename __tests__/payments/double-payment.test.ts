/**
 * No double payments: Resurs has no idempotency key, so every ambiguous outcome is settled by
 * searching the order reference, a create is sent again only when it provably never left, and
 * concurrent or repeated clicks share one payment. Each case is proven from Resurs' own record.
 */
import http from 'node:http';
import net from 'node:net';
import request from 'supertest';
import { MemorySessionStore, createResursClient } from '../../src';
import type { SessionStore } from '../../src';
import { expectProblem } from '../helpers/problem';
import { CARD, INVOICE, STORE_ID, creates, searches, usePaymentsHarness } from '../helpers/payments-app';
import type { PaymentsShop } from '../helpers/payments-app';

const h = usePaymentsHarness();

const pay = (shop: PaymentsShop, paymentMethodId = INVOICE) =>
  request(shop.server).post('/checkout/payment').set('Content-Type', 'application/json').send(JSON.stringify({ paymentMethodId }));

const paymentsOf = (orderReference: string) => h.standIn.merchant.payments({ orderReference });

describe('an unknown create outcome is settled by a search', () => {
  test('a) record-then-drop: Resurs stored it, the connection was cut: 201 with that payment, create sent once', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    const res = await pay(shop);
    expect(res.status).toBe(201);
    const stored = paymentsOf(order.orderReference);
    expect(stored).toHaveLength(1);
    expect(res.body).toEqual({ paymentId: stored[0]!.id, status: stored[0]!.status, redirectUrl: stored[0]!.taskRedirectionUrls!.customerUrl });
    expect(creates(h.standIn)).toHaveLength(1);
    expect(searches(h.standIn)).toHaveLength(1);
    // The search came after the create and asked for this store and order.
    const requests = h.standIn.merchant.requests();
    expect(requests.map((r) => r.route)).toEqual(['create', 'search']);
    expect(requests[1]!.body).toEqual({ storeId: STORE_ID, orderReference: order.orderReference });
    expect(h.lines.some((l) => l.fields.settled === 'found')).toBe(true);
  });

  test('b) record-then-hang: the attempt times out after Resurs created it: 201 found by search', async () => {
    const shop = await h.shop({ timeoutMs: 200, deadlineMs: 500 });
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-hang' }] });
    const started = Date.now();
    const res = await pay(shop);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(res.status).toBe(201);
    const stored = paymentsOf(order.orderReference);
    expect(stored).toHaveLength(1);
    expect(res.body.paymentId).toBe(stored[0]!.id);
    expect(creates(h.standIn)).toHaveLength(1);
  });

  test.each([
    ['record-then-status 503', { kind: 'record-then-status', status: 503 }],
    ['record-then-status 500', { kind: 'record-then-status', status: 500 }],
    ['record-then-status 504', { kind: 'record-then-status', status: 504 }],
    ['reset-mid-answer', { kind: 'reset-mid-answer' }],
    ['oversized (announced)', { kind: 'oversized', bytes: 70_000, announceLength: true }],
    ['oversized (chunked)', { kind: 'oversized', bytes: 70_000, announceLength: false }],
    ['malformed-json', { kind: 'malformed-json' }],
    ['wrong-shape', { kind: 'wrong-shape' }],
  ] as const)('c) %s after Resurs recorded it: 201 via search, exactly one payment', async (_name, fault) => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [fault] });
    const res = await pay(shop);
    expect(res.status).toBe(201);
    const stored = paymentsOf(order.orderReference);
    expect(stored).toHaveLength(1);
    expect(res.body.paymentId).toBe(stored[0]!.id);
    expect(creates(h.standIn)).toHaveLength(1);
    // Asked again, the storefront gets the same payment without another create.
    expect((await pay(shop)).body.paymentId).toBe(stored[0]!.id);
    expect(creates(h.standIn)).toHaveLength(1);
  });

  test('c) a plain 503 (nothing recorded): 503 Retry-After, no payment, not retried; the storefront retries: exactly one', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'status', status: 503 }] });
    const res = await pay(shop);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(creates(h.standIn)).toHaveLength(1);
    expect(paymentsOf(order.orderReference)).toHaveLength(0);

    const retry = await pay(shop);
    expect(retry.status).toBe(201);
    expect(creates(h.standIn)).toHaveLength(2);
    const stored = paymentsOf(order.orderReference);
    expect(stored).toHaveLength(1);
    expect(retry.body.paymentId).toBe(stored[0]!.id);
  });

  test('c) a connection reset before anything was recorded (drop) is not retried: 503, then the retry pays once', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'drop' }] });
    expectProblem(await pay(shop), 503, 'upstream_unavailable');
    expect(creates(h.standIn)).toHaveLength(1);
    expect(paymentsOf(order.orderReference)).toHaveLength(0);
    expect((await pay(shop)).status).toBe(201);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
  });
});

describe('d) a connection refused before sending is retried', () => {
  /** A port nobody listens on. */
  async function closedPort(): Promise<number> {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return port;
  }

  /** An agent whose first `refusals` connections go to a closed port (ECONNREFUSED), the rest to the real host. */
  function refusingAgent(port: number, refusals: number): http.Agent & { attempts: number } {
    const agent = new http.Agent({ keepAlive: false }) as http.Agent & { attempts: number; createConnection: (...args: unknown[]) => net.Socket };
    agent.attempts = 0;
    const original = agent.createConnection.bind(agent);
    agent.createConnection = (options: unknown, callback: unknown) => {
      agent.attempts += 1;
      if (agent.attempts <= refusals) return net.createConnection({ host: '127.0.0.1', port });
      return original(options, callback);
    };
    return agent;
  }

  test('refused once, then sent: 201, Resurs saw exactly one create', async () => {
    const agent = refusingAgent(await closedPort(), 1);
    const shop = await h.shop({ httpAgent: agent });
    const order = h.freshCart();
    const res = await pay(shop);
    expect(res.status).toBe(201);
    expect(agent.attempts).toBe(2);
    expect(creates(h.standIn)).toHaveLength(1);
    expect(searches(h.standIn)).toHaveLength(0);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
    agent.destroy();
  });

  test('refused on every attempt: 503 after retries, nothing at Resurs', async () => {
    const agent = refusingAgent(await closedPort(), 100);
    const shop = await h.shop({ httpAgent: agent, retries: 2 });
    h.freshCart();
    expectProblem(await pay(shop), 503, 'upstream_unavailable');
    expect(agent.attempts).toBeGreaterThanOrEqual(3); // create attempts (and the settling search's, if any)
    expect(h.standIn.merchant.requests()).toHaveLength(0);
    agent.destroy();
  });
});

describe('e) concurrent and repeated clicks', () => {
  test('20 concurrent clicks for one cart: all 201 with the same paymentId, one create; a later click gets it back', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 150 }] });
    const answers = await Promise.all(Array.from({ length: 20 }, () => pay(shop)));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(201));
    const ids = new Set(answers.map((r) => r.body.paymentId));
    expect(ids.size).toBe(1);
    const stored = paymentsOf(order.orderReference);
    expect(stored).toHaveLength(1);
    expect([...ids][0]).toBe(stored[0]!.id);
    expect(creates(h.standIn)).toHaveLength(1);

    await new Promise((resolve) => setTimeout(resolve, 50));
    const later = await pay(shop);
    expect(later.status).toBe(201);
    expect(later.body).toEqual(answers[0]!.body);
    expect(creates(h.standIn)).toHaveLength(1);
    expect(h.standIn.merchant.requests()).toHaveLength(1); // no search either: the store answered
  });

  test('interleaved methods under concurrency: one payment, every other method 409', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 150 }] });
    const first = pay(shop, INVOICE).then((r) => r);
    for (let i = 0; i < 200 && creates(h.standIn).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const others = await Promise.all(Array.from({ length: 10 }, (_, i) => pay(shop, i % 2 ? CARD : INVOICE)));
    const done = await first;
    expect(done.status).toBe(201);
    for (const [i, res] of others.entries()) {
      if (i % 2) expectProblem(res, 409, 'payment_in_progress');
      else expect(res.body.paymentId).toBe(done.body.paymentId);
    }
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
    expect(creates(h.standIn)).toHaveLength(1);
  });
});

/** A store that can be made to hang or throw, per operation. */
class FaultyStore implements SessionStore {
  readonly inner = new MemorySessionStore();
  /** Operations that fail, and how; `keyPrefix` limits it to keys starting with it. */
  faults = new Map<string, { mode: 'hang' | 'throw' | 'slow'; keyPrefix?: string; times?: number; ms?: number }>();
  calls: string[] = [];

  private async run<T>(op: string, key: string, call: () => Promise<T>): Promise<T> {
    this.calls.push(`${op}:${key.split(':')[0]}`);
    const fault = this.faults.get(op);
    if (fault && (fault.keyPrefix === undefined || key.startsWith(fault.keyPrefix)) && (fault.times === undefined || fault.times > 0)) {
      if (fault.times !== undefined) fault.times -= 1;
      if (fault.mode === 'throw') throw new Error('store down');
      if (fault.mode === 'slow') {
        await new Promise((resolve) => setTimeout(resolve, fault.ms ?? 1500));
        return call();
      }
      return new Promise<T>(() => undefined);
    }
    return call();
  }
  get(key: string) {
    return this.run('get', key, () => this.inner.get(key));
  }
  set(key: string, value: string, ttlMs: number) {
    return this.run('set', key, () => this.inner.set(key, value, ttlMs));
  }
  delete(key: string) {
    return this.run('delete', key, () => this.inner.delete(key));
  }
  add(key: string, value: string, ttlMs: number) {
    return this.run('add', key, () => this.inner.add(key, value, ttlMs));
  }
  deleteIfEquals(key: string, value: string) {
    return this.run('deleteIfEquals', key, () => this.inner.deleteIfEquals(key, value));
  }
}

describe('g) the guard fails closed when the store cannot confirm the lock', () => {
  const client = () => createResursClient({ storeId: STORE_ID, baseUrl: h.standIn.baseUrl, merchantApiUrl: h.standIn.merchantApiUrl, auth: { token: h.token } });

  test.each([
    ['add hangs', 'add', 'hang'],
    ['add throws', 'add', 'throw'],
    ['get throws', 'get', 'throw'],
    ['get hangs', 'get', 'hang'],
  ] as const)('%s, Resurs has no payment: 503 Retry-After and NO create', async (_name, op, mode) => {
    const store = new FaultyStore();
    store.faults.set(op, { mode });
    const shop = await h.shop({ payments: { store } });
    const order = h.freshCart();
    const started = Date.now();
    const res = await pay(shop);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(creates(h.standIn)).toHaveLength(0);
    expect(searches(h.standIn)).toHaveLength(1);
    expect(paymentsOf(order.orderReference)).toHaveLength(0);
    expect(h.lines.some((l) => l.level === 'warn' && /store/i.test(l.message))).toBe(true);
  });

  test.each([
    ['add hangs', 'add', 'hang'],
    ['add throws', 'add', 'throw'],
  ] as const)('%s, Resurs has the payment: 201 with it, no create', async (_name, op, mode) => {
    const store = new FaultyStore();
    store.faults.set(op, { mode });
    const shop = await h.shop({ payments: { store } });
    const order = h.freshCart();
    const existing = await client().payments.create({ paymentMethodId: INVOICE, order });
    const before = creates(h.standIn).length;
    const res = await pay(shop);
    expect(res.status).toBe(201);
    expect(res.body.paymentId).toBe(existing.id);
    expect(creates(h.standIn)).toHaveLength(before);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
  });

  test('a slow store that takes the lock after the guard gave up: 503 now, and the order is not blocked afterwards', async () => {
    const store = new FaultyStore();
    store.faults.set('add', { mode: 'slow', ms: 1300, times: 1 });
    const shop = await h.shop({ payments: { store } });
    const order = h.freshCart();
    expectProblem(await pay(shop), 503, 'upstream_unavailable');
    expect(creates(h.standIn)).toHaveLength(0);
    // Once the late lock is in the store, the guard lets it go again.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const started = Date.now();
    const res = await pay(shop);
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
  });

  test('store down and Resurs has a payment with another method: 409, no create', async () => {
    const store = new FaultyStore();
    store.faults.set('add', { mode: 'throw' });
    const shop = await h.shop({ payments: { store } });
    const order = h.freshCart();
    await client().payments.create({ paymentMethodId: CARD, order });
    expectProblem(await pay(shop, INVOICE), 409, 'payment_in_progress');
    expect(creates(h.standIn)).toHaveLength(1);
  });

  test('store down and the search fails too: 503 Retry-After, no create', async () => {
    const store = new FaultyStore();
    store.faults.set('add', { mode: 'throw' });
    const shop = await h.shop({ payments: { store } });
    h.freshCart();
    h.standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 500 } });
    expectProblem(await pay(shop), 503, 'upstream_unavailable');
    expect(creates(h.standIn)).toHaveLength(0);
  });

  test('the store loses the record write after the create: the next try still finds the one payment', async () => {
    const store = new FaultyStore();
    // Every write of this attempt after the lock fails once (the record, and any marker written after the create).
    const shop = await h.shop({ payments: { store } });
    const order = h.freshCart();
    store.faults.set('set', { mode: 'throw', times: 1, keyPrefix: 'payment-record' });
    const first = await pay(shop);
    expect(first.status).toBe(201);
    // The store is back, but lost the record (and, being down, any "look it up" note written after the create).
    store.faults.set('set', { mode: 'throw', times: 0 });
    const second = await pay(shop);
    expect(second.status).toBe(201);
    expect(second.body.paymentId).toBe(first.body.paymentId);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
    expect(creates(h.standIn)).toHaveLength(1);
  });

  test('the store is down for every write once the create was sent: the next try still finds the one payment', async () => {
    const store = new FaultyStore();
    const shop = await h.shop({ payments: { store } });
    const order = h.freshCart();
    // Writes after the lock fail: keep the lock (add) working, fail set from the moment the create is at Resurs.
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 100 }] });
    const first = pay(shop).then((r) => r);
    for (let i = 0; i < 200 && creates(h.standIn).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    store.faults.set('set', { mode: 'throw' });
    expect((await first).status).toBe(201);
    store.faults.delete('set');
    const second = await pay(shop);
    expect(second.status).toBe(201);
    expect(second.body.paymentId).toBe((await first).body.paymentId);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
    expect(creates(h.standIn)).toHaveLength(1);
  });
});

describe('h) after an unsettled outcome the next try searches before creating', () => {
  test('create cut AND search failing: 503; the next try finds the payment: one payment, one create', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    h.standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 500 } });
    const first = await pay(shop);
    expectProblem(first, 503, 'upstream_unavailable');
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
    expect(h.lines.some((l) => l.fields.settled === 'unknown')).toBe(true);

    h.standIn.merchant.setLookupFaults(null);
    const seen = h.standIn.merchant.requests().length;
    const second = await pay(shop);
    expect(second.status).toBe(201);
    const stored = paymentsOf(order.orderReference);
    expect(stored).toHaveLength(1);
    expect(second.body.paymentId).toBe(stored[0]!.id);
    expect(h.standIn.merchant.requests().slice(seen).map((r) => r.route)).toEqual(['search']);
    expect(creates(h.standIn)).toHaveLength(1);
  });

  test('while the search keeps failing, every retry answers 503 and none creates', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    h.standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 500 } });
    for (let i = 0; i < 3; i++) {
      expectProblem(await pay(shop), 503, 'upstream_unavailable');
    }
    expect(creates(h.standIn)).toHaveLength(1);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
  });

  test('unsettled, and Resurs in fact has nothing: the next try searches, then creates once', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'drop' }] });
    h.standIn.merchant.setLookupFaults({ queue: [{ kind: 'status', status: 500 }] });
    expectProblem(await pay(shop), 503, 'upstream_unavailable');
    expect(paymentsOf(order.orderReference)).toHaveLength(0);
    const seen = h.standIn.merchant.requests().length;
    const res = await pay(shop);
    expect(res.status).toBe(201);
    expect(h.standIn.merchant.requests().slice(seen).map((r) => r.route)).toEqual(['search', 'create']);
    expect(paymentsOf(order.orderReference)).toHaveLength(1);
  });
});
