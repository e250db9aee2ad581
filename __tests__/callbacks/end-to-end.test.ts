/**
 * Callbacks end to end: a payment created through the router, approved/declined at the stand-in
 * (which POSTs the authorization callback to the signed URL the router sent), and captured,
 * cancelled and refunded through createResursClient(...).payments (management callbacks).
 */
import { createResursClient } from '../../src';
import type { ResursClient } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { CALLBACK_SECRET, STORE_ID, signRef, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';
import { logText } from '../helpers/recording-logger';

let standIn: StandIn;
let shop: CallbacksShop;
let client: ResursClient;

beforeAll(async () => {
  standIn = await startStandIn();
  shop = await startCallbacksShop({ standIn });
  client = createResursClient({ storeId: STORE_ID, baseUrl: standIn.baseUrl, merchantApiUrl: standIn.merchantApiUrl, auth: { token: standIn.issueToken() } });
});
afterAll(async () => {
  client.close?.();
  await shop.close();
  await standIn.close();
});
beforeEach(() => {
  standIn.reset();
  shop.calls.length = 0;
  shop.handled.length = 0;
  shop.lines.length = 0;
  shop.onUpdate = () => undefined;
});

describe('authorization callbacks', () => {
  it('approve: the callback reaches the router, which looks the payment up and calls onPaymentUpdate once; Resurs is answered 204', async () => {
    const created = await shop.createPayment('E2E-APPROVE');
    expect(created.status).toBe('TASK_REDIRECTION_REQUIRED');
    // The URLs sent on create are signed: ?ref=<orderReference>&sig=<hex HMAC-SHA256(secret, ref)>.
    const kept = standIn.merchant.paymentOptions(created.paymentId)!;
    for (const [kind, sent] of [['authorization', kept.authorizationCallbackUrl], ['management', kept.managementCallbackUrl]] as const) {
      const url = new URL(sent!);
      expect(url.origin + url.pathname).toBe(`${shop.url}/checkout/callbacks/${kind}`);
      expect(url.searchParams.get('ref')).toBe('E2E-APPROVE');
      expect(url.searchParams.get('sig')).toBe(signRef('E2E-APPROVE'));
    }

    await standIn.merchant.approve(created.paymentId);
    await standIn.merchant.settled();

    expect(shop.calls).toHaveLength(1);
    const event = shop.calls[0]!;
    const fresh = standIn.merchant.payment(created.paymentId)!;
    expect(event).toEqual({
      type: 'authorization',
      paymentId: created.paymentId,
      orderReference: 'E2E-APPROVE',
      status: 'ACCEPTED', // the FETCHED status, not the callback's AUTHORIZED
      payment: fresh,
      requestId: expect.any(String),
    });
    expect(event).not.toHaveProperty('action');
    expect(event).not.toHaveProperty('actionId');

    const deliveries = standIn.merchant.callbacks();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ kind: 'authorization', status: 204, attempt: 1, body: { status: 'AUTHORIZED' } });
    // One fresh lookup, carrying the callback's request id.
    const gets = standIn.merchant.requests().filter((r) => r.route === 'get');
    expect(gets).toHaveLength(1);
    expect(gets[0]!.requestId).toBe(event.requestId);
    expect(shop.lines.some((line) => line.fields.requestId === event.requestId && /handled/i.test(line.message))).toBe(true);
    expect(logText(shop.lines)).not.toContain(CALLBACK_SECRET);
    expect(logText(shop.lines)).not.toContain(signRef('E2E-APPROVE'));
  });

  it('decline: onPaymentUpdate gets REJECTED once', async () => {
    const created = await shop.createPayment('E2E-DECLINE');
    await standIn.merchant.decline(created.paymentId);
    await standIn.merchant.settled();
    expect(shop.calls).toHaveLength(1);
    expect(shop.calls[0]).toMatchObject({ type: 'authorization', paymentId: created.paymentId, orderReference: 'E2E-DECLINE', status: 'REJECTED' });
    expect(shop.calls[0]!.payment.status).toBe('REJECTED');
    expect(standIn.merchant.callbacks().map((c) => c.status)).toEqual([204]);
  });

  it('an order reference with URL-special characters survives the signed URL', async () => {
    const ref = 'ÖRDER 1+2&x=y/%?#';
    const created = await shop.createPayment(ref);
    await standIn.merchant.approve(created.paymentId);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks().map((c) => c.status)).toEqual([204]);
    expect(shop.calls).toHaveLength(1);
    expect(shop.calls[0]!.orderReference).toBe(ref);
  });
});

describe('management callbacks', () => {
  it('capture then refund through createResursClient(...).payments: one hook call each, with action and actionId', async () => {
    const created = await shop.createPayment('E2E-CAPTURE');
    await standIn.merchant.approve(created.paymentId);
    await standIn.merchant.settled();
    shop.calls.length = 0;

    await client.payments.capture(created.paymentId);
    await standIn.merchant.settled();
    const captureId = standIn.merchant.payment(created.paymentId)!.paymentActions.find((a) => a.type === 'CAPTURE')!.actionId;
    expect(shop.calls).toHaveLength(1);
    expect(shop.calls[0]).toEqual({
      type: 'management',
      paymentId: created.paymentId,
      orderReference: 'E2E-CAPTURE',
      status: 'ACCEPTED',
      action: 'CAPTURE',
      actionId: captureId,
      payment: expect.objectContaining({ id: created.paymentId, order: expect.objectContaining({ capturedAmount: 200 }) }),
      requestId: expect.any(String),
    });

    await client.payments.refund(created.paymentId);
    await standIn.merchant.settled();
    const refundId = standIn.merchant.payment(created.paymentId)!.paymentActions.find((a) => a.type === 'REFUND')!.actionId;
    expect(shop.calls).toHaveLength(2);
    expect(shop.calls[1]).toMatchObject({ type: 'management', action: 'REFUND', actionId: refundId, payment: { order: { refundedAmount: 200 } } });
    expect(refundId).not.toBe(captureId);

    const management = standIn.merchant.callbacks().filter((c) => c.kind === 'management');
    expect(management.map((c) => [c.body, c.status])).toEqual([
      [expect.objectContaining({ action: 'CAPTURE', actionId: captureId }), 204],
      [expect.objectContaining({ action: 'REFUND', actionId: refundId }), 204],
    ]);
  });

  it('cancel: one hook call with action CANCEL', async () => {
    const created = await shop.createPayment('E2E-CANCEL');
    await standIn.merchant.approve(created.paymentId);
    await standIn.merchant.settled();
    shop.calls.length = 0;
    await client.payments.cancel(created.paymentId);
    await standIn.merchant.settled();
    expect(shop.calls).toHaveLength(1);
    expect(shop.calls[0]).toMatchObject({ type: 'management', action: 'CANCEL', orderReference: 'E2E-CANCEL', payment: { order: { canceledAmount: 200 } } });
    expect(shop.calls[0]!.actionId).toBe(standIn.merchant.payment(created.paymentId)!.paymentActions[0]!.actionId);
  });
});
