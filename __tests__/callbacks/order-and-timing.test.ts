/**
 * Callbacks out of order, early, late: each is looked up at Resurs and handled on what Resurs
 * says now, never on what the router saw before (it may have seen nothing).
 */
import { createResursClient } from '../../src';
import type { ResursClient } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { METHOD_ID, STORE_ID, orderFor, signRef, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';

let standIn: StandIn;
let shop: CallbacksShop;
let client: ResursClient;

beforeAll(async () => {
  standIn = await startStandIn();
  shop = await startCallbacksShop({ standIn });
  client = createResursClient({ storeId: STORE_ID, baseUrl: standIn.baseUrl, merchantApiUrl: standIn.merchantApiUrl, auth: { token: standIn.issueToken() } });
});
afterAll(async () => {
  client.close();
  await shop.close();
  await standIn.close();
});
beforeEach(() => {
  standIn.reset();
  shop.calls.length = 0;
  shop.handled.length = 0;
  shop.onUpdate = () => undefined;
});

const resend = (url: string, body: unknown) => {
  const parsed = new URL(url);
  return shop.http().post(parsed.pathname + parsed.search).set('Content-Type', 'application/json').send(JSON.stringify(body));
};

it('the management callback before the authorization one: both handled once, each with the payment as fetched', async () => {
  const { paymentId } = await shop.createPayment('ORDER-OOO');
  standIn.merchant.setCallbackMode({ mode: 'out-of-order', holdMs: 10_000 });
  await standIn.merchant.approve(paymentId); // held
  await client.payments.capture(paymentId); // goes out first, then the held authorization
  await standIn.merchant.settled();

  const deliveries = standIn.merchant.callbacks();
  expect(deliveries.map((d) => [d.kind, d.status])).toEqual([
    ['management', 204],
    ['authorization', 204],
  ]);
  expect(shop.calls.map((c) => c.type)).toEqual(['management', 'authorization']);
  const [management, authorization] = shop.calls;
  expect(management).toMatchObject({ action: 'CAPTURE', status: 'ACCEPTED', payment: { order: { capturedAmount: 200 } } });
  // The late authorization is handed over with what Resurs says now (captured), not the old news.
  expect(authorization).toMatchObject({ status: 'ACCEPTED', payment: { order: { capturedAmount: 200 } } });
  expect(authorization).not.toHaveProperty('actionId');
});

it('before-redirect: the callback is handled before the shopper is back', async () => {
  const { paymentId } = await shop.createPayment('ORDER-EARLY');
  standIn.merchant.setCallbackMode({ mode: 'before-redirect' });
  const approval = await standIn.merchant.approve(paymentId);
  // The stand-in delivered (and we answered) before it answered the shopper's approval.
  expect(standIn.merchant.callbacks().map((d) => d.status)).toEqual([204]);
  expect(shop.calls).toHaveLength(1);
  expect(shop.calls[0]).toMatchObject({ paymentId, status: 'ACCEPTED' });
  expect(approval.location).toBe(`${shop.url}/thanks`);
});

it('a payment the router never saw created (the create answer lost, or made elsewhere) is looked up, not assumed', async () => {
  const ref = 'ORDER-UNSEEN';
  const query = `?ref=${encodeURIComponent(ref)}&sig=${signRef(ref)}`;
  const payment = await client.payments.create({
    paymentMethodId: METHOD_ID,
    order: orderFor(ref),
    options: {
      callbacks: {
        authorization: { url: `${shop.url}/checkout/callbacks/authorization${query}` },
        management: { url: `${shop.url}/checkout/callbacks/management${query}` },
      },
    },
  });
  await standIn.merchant.approve(payment.id, { outcome: 'CAPTURED' });
  await standIn.merchant.settled();
  expect(standIn.merchant.callbacks().map((d) => [d.body, d.status])).toEqual([[expect.objectContaining({ status: 'CAPTURED' }), 204]]);
  expect(shop.calls).toHaveLength(1);
  expect(shop.calls[0]).toMatchObject({ paymentId: payment.id, orderReference: ref, status: 'ACCEPTED', payment: { order: { capturedAmount: 200 } } });
});

it('the hook gets the fetched status even when it contradicts the body', async () => {
  const { paymentId } = await shop.createPayment('ORDER-CONTRADICT');
  standIn.merchant.setCallbackMode({ mode: 'none' });
  await standIn.merchant.decline(paymentId);
  const url = standIn.merchant.paymentOptions(paymentId)!.authorizationCallbackUrl!;
  // A delivery claiming AUTHORIZED for a payment Resurs reports REJECTED.
  expect((await resend(url, { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() })).status).toBe(204);
  expect(shop.calls.map((c) => c.status)).toEqual(['REJECTED']);
});

it('a decision the payment does not show yet answers 503, so Resurs delivers again once it does', async () => {
  const { paymentId } = await shop.createPayment('ORDER-LAGGING');
  const url = standIn.merchant.paymentOptions(paymentId)!.authorizationCallbackUrl!;
  // Resurs' callback arrives while its own payment still waits for the shopper.
  const early = await resend(url, { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() });
  expect(early.status).toBe(503);
  expect(early.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(shop.calls).toHaveLength(0);
  standIn.merchant.setStatus(paymentId, 'ACCEPTED');
  expect((await resend(url, { paymentId, status: 'AUTHORIZED', created: new Date().toISOString() })).status).toBe(204);
  expect(shop.calls.map((c) => c.status)).toEqual(['ACCEPTED']);
});

it('delay: the shopper is back first, the callback comes later and is handled once', async () => {
  const { paymentId } = await shop.createPayment('ORDER-LATE');
  standIn.merchant.setCallbackMode({ mode: 'delay', ms: 200 });
  await standIn.merchant.approve(paymentId);
  expect(shop.calls).toHaveLength(0);
  await standIn.merchant.settled();
  expect(shop.calls).toHaveLength(1);
});

it('a late duplicate, long after it was handled, answers 204 without calling the hook (authorization and management)', async () => {
  const { paymentId } = await shop.createPayment('ORDER-REPLAY');
  await standIn.merchant.approve(paymentId);
  await client.payments.capture(paymentId);
  await standIn.merchant.settled();
  expect(shop.calls).toHaveLength(2);
  const deliveries = standIn.merchant.callbacks();
  expect(deliveries).toHaveLength(2);
  for (const delivery of deliveries) {
    for (let i = 0; i < 3; i++) expect((await resend(delivery.url, delivery.body)).status).toBe(204);
  }
  expect(shop.calls).toHaveLength(2);
});
