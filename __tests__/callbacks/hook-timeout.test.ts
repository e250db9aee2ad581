/**
 * onPaymentUpdate that takes too long: 503 with Retry-After, the mark released, Resurs' retry
 * handled. The router has no option for the 10 s limit, so this file injects a short
 * `hookTimeoutMs` into the real router's callback handlers (every other stage is the real one).
 */
import { MemorySessionStore } from '../../src';
import { HOOK_TIMEOUT_MS } from '../../src/routes/callback-route';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { callbackPathOf, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';
import { expectProblem } from '../helpers/problem';

jest.mock('../../src/routes/callback-route', () => {
  const actual = jest.requireActual<typeof import('../../src/routes/callback-route')>('../../src/routes/callback-route');
  return {
    ...actual,
    createCallbackHandler: (deps: Parameters<typeof actual.createCallbackHandler>[0]) => actual.createCallbackHandler({ hookTimeoutMs: 200, ...deps }),
  };
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let standIn: StandIn;
let shop: CallbacksShop;

beforeAll(async () => {
  standIn = await startStandIn();
  shop = await startCallbacksShop({ standIn });
});
afterAll(async () => {
  await shop.close();
  await standIn.close();
});
beforeEach(() => {
  standIn.reset();
  standIn.merchant.setCallbackDelivery({ maxAttempts: 3, retryIntervalMs: 20 });
  shop.calls.length = 0;
  shop.handled.length = 0;
  shop.lines.length = 0;
});

it('the contract limit is 10 s', () => {
  expect(HOOK_TIMEOUT_MS).toBe(10_000);
});

it('a hook slower than the limit answers 503 with Retry-After at the limit, and the next delivery calls it again', async () => {
  const { paymentId } = await shop.createPayment('TIMEOUT-1');
  standIn.merchant.setCallbackMode({ mode: 'none' });
  await standIn.merchant.approve(paymentId);
  const path = callbackPathOf(standIn, paymentId, 'authorization');
  const body = { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() };
  let slow: Promise<unknown> = Promise.resolve();
  shop.onUpdate = () => (slow = sleep(1500));
  const started = Date.now();
  const res = await shop.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
  const took = Date.now() - started;
  expectProblem(res, 503, 'upstream_unavailable');
  expect(took).toBeGreaterThanOrEqual(190);
  expect(took).toBeLessThan(1200);
  expect(shop.lines.some((line) => line.fields.hook === 'onPaymentUpdate' && line.level === 'error')).toBe(true);

  shop.onUpdate = () => undefined;
  const again = await shop.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
  expect(again.status).toBe(204);
  expect(shop.calls).toHaveLength(2);
  await slow; // nothing outlives the test
});

it("with the stand-in: the first attempt times out, Resurs' retry is handled", async () => {
  const { paymentId } = await shop.createPayment('TIMEOUT-2');
  let tries = 0;
  shop.onUpdate = async () => {
    tries += 1;
    if (tries === 1) await sleep(1000);
  };
  await standIn.merchant.approve(paymentId);
  await standIn.merchant.settled();
  expect(standIn.merchant.callbacks().map((d) => d.status)).toEqual([503, 204]);
  expect(shop.calls).toHaveLength(2);
  await sleep(900); // let the slow first call end, so nothing outlives the test
});

it('a hook just under the limit is handled (204)', async () => {
  const { paymentId } = await shop.createPayment('TIMEOUT-3');
  shop.onUpdate = () => sleep(50);
  await standIn.merchant.approve(paymentId);
  await standIn.merchant.settled();
  expect(standIn.merchant.callbacks().map((d) => d.status)).toEqual([204]);
  expect(shop.handled).toHaveLength(1);
});

it('a mark that could not be released (or whose holder died mid-hook) expires after its hold: the fact is handled then', async () => {
  // hold = 2 × hookTimeoutMs + the store's 1 s limit = 1.4 s here (21 s with the real 10 s limit).
  class NoDelete extends MemorySessionStore {
    override async delete(): Promise<void> {
      throw new Error('store down');
    }
    override async deleteIfEquals(): Promise<boolean> {
      throw new Error('store down');
    }
  }
  const stuck = await startCallbacksShop({ standIn, payments: { store: new NoDelete() } });
  try {
    const { paymentId } = await stuck.createPayment('TIMEOUT-HOLD');
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    const path = callbackPathOf(standIn, paymentId, 'authorization');
    const send = () => stuck.http().post(path).set('Content-Type', 'application/json').send(JSON.stringify({ paymentId, status: 'AUTHORIZED' }));
    stuck.onUpdate = () => {
      throw new Error('down');
    };
    expect((await send()).status).toBe(503);
    stuck.onUpdate = () => undefined;
    const early = await send();
    expectProblem(early, 503, 'upstream_unavailable'); // held: come back, not acknowledged
    expect(Number(early.headers['retry-after'])).toBe(2);
    await sleep(1500);
    expect((await send()).status).toBe(204);
    expect((await send()).status).toBe(204);
    expect(stuck.handled).toHaveLength(1);
  } finally {
    await stuck.close();
  }
});
