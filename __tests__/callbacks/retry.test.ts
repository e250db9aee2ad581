/**
 * Retry on our failure: when onPaymentUpdate throws, the lookup at Resurs fails, or the store
 * cannot record the mark, the answer is 503 with Retry-After, nothing is marked handled, and
 * Resurs' next delivery is handled (once).
 */
import { MemorySessionStore } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { Fault, StandIn } from '../../demo-app/resurs-stand-in';
import { callbackPathOf, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';
import { expectProblem } from '../helpers/problem';
import { logText } from '../helpers/recording-logger';

/** A memory store whose add/delete can be made to fail or hang. */
class FlakyStore extends MemorySessionStore {
  addFails = false;
  addHangs = false;
  deleteFails = false;
  setFails = false;
  override async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.setFails && key.startsWith('callback:')) throw new Error('store down');
    return super.set(key, value, ttlMs);
  }
  override async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (key.startsWith('callback:')) {
      if (this.addFails) throw new Error('store down');
      if (this.addHangs) return new Promise<boolean>(() => undefined);
    }
    return super.add(key, value, ttlMs);
  }
  override async delete(key: string): Promise<void> {
    if (this.deleteFails && key.startsWith('callback:')) throw new Error('store down');
    return super.delete(key);
  }
}

let standIn: StandIn;
let shop: CallbacksShop;
let store: FlakyStore;

beforeAll(async () => {
  standIn = await startStandIn();
  store = new FlakyStore();
  // retries: 0, so a lookup fault is one failed attempt (and the breaker stays closed).
  shop = await startCallbacksShop({ standIn, router: { retries: 0, timeoutMs: 500 }, payments: { store } });
});
afterAll(async () => {
  await shop.close();
  await standIn.close();
});
beforeEach(() => {
  standIn.reset();
  standIn.merchant.setCallbackDelivery({ maxAttempts: 3, retryIntervalMs: 20 });
  Object.assign(store, { addFails: false, addHangs: false, deleteFails: false, setFails: false });
  shop.calls.length = 0;
  shop.handled.length = 0;
  shop.lines.length = 0;
  shop.onUpdate = () => undefined;
});

/** A payment approved without its callback going out; returns its id, signed path and a body. */
async function quietPayment(ref: string) {
  const { paymentId } = await shop.createPayment(ref);
  standIn.merchant.setCallbackMode({ mode: 'none' });
  await standIn.merchant.approve(paymentId);
  standIn.merchant.setCallbackMode(null);
  return { paymentId, path: callbackPathOf(standIn, paymentId, 'authorization'), body: { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() } };
}

const post = (path: string, body: unknown) => shop.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));

describe('onPaymentUpdate fails', () => {
  it('a throw answers 503 with Retry-After and releases the mark: the next delivery calls the hook again', async () => {
    const { path, body } = await quietPayment('RETRY-THROW');
    shop.onUpdate = () => {
      throw new Error('customer 19121212-1212 could not be saved');
    };
    const first = await post(path, body);
    expectProblem(first, 503, 'upstream_unavailable');
    expect(shop.calls).toHaveLength(1);
    const second = await post(path, body);
    expect(second.status).toBe(503);
    expect(shop.calls).toHaveLength(2);

    shop.onUpdate = () => undefined;
    expect((await post(path, body)).status).toBe(204);
    expect((await post(path, body)).status).toBe(204);
    expect(shop.calls).toHaveLength(3);
    expect(shop.handled).toHaveLength(1);
    // The hook's message may hold anything: only its name is logged.
    expect(logText(shop.lines)).not.toContain('19121212');
    expect(shop.lines.some((line) => line.fields.hook === 'onPaymentUpdate' && line.fields.errorName === 'Error')).toBe(true);
  });

  it("a rejection on the first try: the stand-in's retry (maxAttempts 3) is handled, exactly one successful handling", async () => {
    const { paymentId } = await shop.createPayment('RETRY-STANDIN');
    let tries = 0;
    shop.onUpdate = async () => {
      tries += 1;
      if (tries === 1) throw new Error('first try fails');
    };
    await standIn.merchant.approve(paymentId);
    await standIn.merchant.settled();
    const deliveries = standIn.merchant.callbacks();
    expect(deliveries.map((d) => [d.deliveryId, d.attempt, d.status])).toEqual([
      [1, 1, 503],
      [1, 2, 204],
    ]);
    expect(shop.calls).toHaveLength(2);
    expect(shop.handled).toHaveLength(1);
    expect(shop.handled[0]).toMatchObject({ paymentId, status: 'ACCEPTED' });
  });

  it('a hook that always fails: every attempt is 503 and the fact stays open for a later delivery', async () => {
    const { paymentId } = await shop.createPayment('RETRY-ALWAYS');
    shop.onUpdate = () => Promise.reject(new Error('down'));
    await standIn.merchant.approve(paymentId);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks().map((d) => d.status)).toEqual([503, 503, 503]);
    expect(shop.handled).toHaveLength(0);
    shop.onUpdate = () => undefined;
    const late = standIn.merchant.callbacks()[0]!;
    expect((await post(new URL(late.url).pathname + new URL(late.url).search, late.body)).status).toBe(204);
    expect(shop.handled).toHaveLength(1);
  });

  it("Resurs gives up waiting and retries while the hook still runs, then the hook fails: the retry is told to come back, and the fact is handled once", async () => {
    // Resurs' per-try timeout (200 ms) is shorter than the hook: its retry arrives mid-hook.
    standIn.merchant.setCallbackDelivery({ maxAttempts: 6, retryIntervalMs: 200, timeoutMs: 200 });
    const { paymentId } = await shop.createPayment('RETRY-MIDHOOK');
    let tries = 0;
    shop.onUpdate = async () => {
      tries += 1;
      if (tries === 1) {
        await new Promise((resolve) => setTimeout(resolve, 700));
        throw new Error('failed after a while');
      }
    };
    await standIn.merchant.approve(paymentId);
    await standIn.merchant.settled();
    const attempts = standIn.merchant.callbacks();
    expect(attempts[0]).toMatchObject({ attempt: 1, error: 'timeout' });
    // Never acknowledged before the fact was handled: no 204 while the first hook ran.
    expect(attempts.slice(1, -1).every((a) => a.status === 503)).toBe(true);
    expect(attempts.at(-1)!.status).toBe(204);
    expect(shop.handled).toHaveLength(1);
    expect(shop.calls).toHaveLength(2);
  });
});

describe('the lookup at Resurs fails', () => {
  it.each<[string, Fault]>([
    ['503', { kind: 'status', status: 503 }],
    ['500', { kind: 'status', status: 500 }],
    ['429', { kind: 'status', status: 429, headers: { 'Retry-After': '1' } }],
    ['a dropped connection', { kind: 'drop' }],
    ['a hang past timeoutMs', { kind: 'hang' }],
  ])('%s: 503 with Retry-After, hook not called; a redelivery after the fault clears calls it once', async (_name, fault) => {
    const { path, body } = await quietPayment(`RETRY-LOOKUP-${_name.replace(/\W+/g, '-')}`);
    standIn.merchant.setLookupFaults({ always: fault });
    const res = await post(path, body);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(shop.calls).toHaveLength(0);
    standIn.merchant.setLookupFaults(null);
    expect((await post(path, body)).status).toBe(204);
    expect((await post(path, body)).status).toBe(204);
    expect(shop.calls).toHaveLength(1);
  });

  it("Resurs' own retry after a lookup fault is handled once", async () => {
    const { paymentId } = await shop.createPayment('RETRY-LOOKUP-STANDIN');
    standIn.merchant.setLookupFaults({ queue: [{ kind: 'status', status: 503 }] });
    await standIn.merchant.approve(paymentId);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks().map((d) => d.status)).toEqual([503, 204]);
    expect(shop.calls).toHaveLength(1);
  });
});

describe('the store fails', () => {
  it('add fails: 503 with Retry-After, hook not called; handled once the store is back', async () => {
    const { path, body } = await quietPayment('RETRY-STORE-ADD');
    store.addFails = true;
    const res = await post(path, body);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(shop.calls).toHaveLength(0);
    store.addFails = false;
    expect((await post(path, body)).status).toBe(204);
    expect(shop.calls).toHaveLength(1);
  });

  it('add hangs: 503 within the store time limit, hook not called', async () => {
    const { path, body } = await quietPayment('RETRY-STORE-HANG');
    store.addHangs = true;
    const started = Date.now();
    const res = await post(path, body);
    expect(Date.now() - started).toBeLessThan(3000);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(shop.calls).toHaveLength(0);
  });

  it('the hook fails and the release fails too: still 503 (not 500), and never a crash', async () => {
    const { path, body } = await quietPayment('RETRY-STORE-RELEASE');
    store.deleteFails = true;
    shop.onUpdate = () => {
      throw new Error('down');
    };
    const res = await post(path, body);
    expectProblem(res, 503, 'upstream_unavailable');
    // The mark could not be released, so it is held: a redelivery now is told to come back, not
    // acknowledged (the fact is not lost; the hold expires and Resurs' next try is handled).
    const again = await post(path, body);
    expectProblem(again, 503, 'upstream_unavailable');
    expect(shop.handled).toHaveLength(0);
  });

  it('the hook succeeds but the store cannot record it: 204 all the same, with a warning', async () => {
    const { path, body } = await quietPayment('RETRY-STORE-CONFIRM');
    store.setFails = true;
    expect((await post(path, body)).status).toBe(204);
    expect(shop.handled).toHaveLength(1);
    expect(shop.lines.some((line) => line.level === 'warn' && line.fields.outcome === 'unconfirmed')).toBe(true);
  });
});
