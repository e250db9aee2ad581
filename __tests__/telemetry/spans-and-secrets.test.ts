/**
 * With a real SDK registered: a session, a payment (customer data, amounts), the authorization
 * callback (signed URL) and a client-credentials token fetch (client secret) produce the spans
 * and metrics the README lists, `traceparent` reaches the Resurs stand-in, and nothing secret or
 * personal is in any exported span or metric.
 */
import request from 'supertest';
import { SpanKind } from '@opentelemetry/api';
import type { Customer, OrderLine } from '../../src';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import { CALLBACK_SECRET, INVOICE, creates, until, usePaymentsHarness } from '../helpers/payments-app';
import { named, parentId, pointWith, registerTestSdk, serializeSpans } from '../helpers/otel';
import type { TestSdk } from '../helpers/otel';

const harness = usePaymentsHarness();
let sdk: TestSdk;
beforeAll(() => {
  sdk = registerTestSdk();
});
afterAll(() => sdk.shutdown());
beforeEach(() => sdk.reset());

// Amounts no port, id or duration would contain.
const LINES: OrderLine[] = [
  { description: 'Teapot', quantity: 2, quantityUnit: 'st', vatRate: 25, unitAmountIncludingVat: 617.28, totalAmountIncludingVat: 1234.56, totalVatAmount: 246.91 },
];
const CUSTOMER: Customer = {
  customerType: 'NATURAL',
  email: 'greta.garbo@example.se',
  governmentId: '190509051234',
  mobilePhone: '+46701234567',
  deliveryAddress: { fullName: 'Greta Lovisa Gustafsson', addressRow1: 'Blekingegatan 32', postalArea: 'Stockholm', postalCode: '11856', countryCode: 'SE' },
};

const traceparentOf = (headers: Record<string, string | string[] | undefined>) => headers.traceparent as string | undefined;

test('session, payment and callback: spans, parents, attributes, traceparent, metrics, and no secret anywhere', async () => {
  const { standIn } = harness;
  const shop = await harness.shop({
    auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: standIn.tokenUrl, scope: 'mock-merchant-api' },
  });
  const order = harness.freshCart(LINES);
  harness.customers.set('default', CUSTOMER);

  const session = await request(shop.url).post('/checkout/session').send({ campaign: 'SUMMER_SALE' }).expect(201);
  const payment = await request(shop.url).post('/checkout/payment').send({ paymentMethodId: INVOICE }).expect(201);
  const paymentId = payment.body.paymentId as string;
  await standIn.merchant.approve(paymentId);
  await standIn.merchant.settled();
  await until(() => harness.updates.length === 1, 3000, 'onPaymentUpdate');
  await until(() => named(sdk.spans(), 'resurs.callback.authorization').length === 1, 3000, 'the callback span');

  const spans = sdk.spans();
  const one = (name: string) => {
    const found = named(spans, name);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  // Session: route span → operation span → one CLIENT attempt, one trace.
  const sessionRoute = one('resurs.checkout.session');
  const createSession = one('resurs.create_session');
  expect(sessionRoute.attributes).toMatchObject({
    'resurs.route': 'session',
    'http.route': '/checkout/session',
    'http.request.method': 'POST',
    'http.response.status_code': 201,
    'resurs.campaign': 'SUMMER_SALE',
    'resurs.reused': false,
  });
  expect(parentId(createSession)).toBe(sessionRoute.spanContext().spanId);
  expect(createSession.attributes).toMatchObject({ 'resurs.operation': 'create session', 'server.address': '127.0.0.1', 'resurs.attempts': 1 });
  const sessionAttempt = spans.find((s) => parentId(s) === createSession.spanContext().spanId && s.kind === SpanKind.CLIENT)!;
  expect(sessionAttempt.kind).toBe(SpanKind.CLIENT);
  expect(sessionAttempt.name).toBe('POST');
  const standInPort = Number(new URL(standIn.url).port);
  expect(sessionAttempt.attributes).toEqual({
    'http.request.method': 'POST',
    'server.address': '127.0.0.1',
    'server.port': standInPort,
    'url.full': `${standIn.baseUrl}/stores/test-store/sessions`,
    'http.response.status_code': expect.any(Number),
  });
  expect(sessionAttempt.spanContext().traceId).toBe(sessionRoute.spanContext().traceId);
  // The attempt's own span is the parent Resurs sees.
  const sessionTraceparent = traceparentOf(standIn.sessionRequests[0]!.headers);
  expect(sessionTraceparent).toBe(`00-${sessionAttempt.spanContext().traceId}-${sessionAttempt.spanContext().spanId}-01`);

  // The token fetch the session needed: its own operation span under create_session, one CLIENT
  // POST to the token URL, and the traceparent sent to the token endpoint too.
  const fetchToken = one('resurs.fetch_token');
  expect(parentId(fetchToken)).toBe(createSession.spanContext().spanId);
  expect(fetchToken.attributes).toMatchObject({ 'resurs.operation': 'fetch token', 'resurs.attempts': 1 });
  const tokenAttempt = spans.find((s) => parentId(s) === fetchToken.spanContext().spanId)!;
  expect(tokenAttempt.kind).toBe(SpanKind.CLIENT);
  expect(tokenAttempt.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.full': standIn.tokenUrl, 'http.response.status_code': 200 });
  expect(standIn.tokenRequests).toHaveLength(1);
  expect(traceparentOf(standIn.tokenRequests[0]!.headers)).toBe(`00-${tokenAttempt.spanContext().traceId}-${tokenAttempt.spanContext().spanId}-01`);
  // Every route span names its store; so does the request metric.
  expect(sessionRoute.attributes['resurs.store_id']).toBe('test-store');

  // Payment: route span → create_payment (status of Resurs' answer) → POST; traceparent on create.
  const paymentRoute = one('resurs.checkout.payment');
  const createPayment = one('resurs.create_payment');
  expect(paymentRoute.attributes).toMatchObject({ 'resurs.route': 'payment', 'http.response.status_code': 201, 'resurs.store_id': 'test-store' });
  expect(parentId(createPayment)).toBe(paymentRoute.spanContext().spanId);
  expect(createPayment.attributes).toMatchObject({ 'resurs.operation': 'create payment', 'resurs.payment.status': 'TASK_REDIRECTION_REQUIRED' });
  const paymentAttempt = spans.find((s) => parentId(s) === createPayment.spanContext().spanId)!;
  expect(paymentAttempt.attributes['url.full']).toBe(`${standIn.merchantApiUrl}/v2/payments`);
  expect(traceparentOf(creates(standIn)[0]!.headers)).toBe(`00-${paymentAttempt.spanContext().traceId}-${paymentAttempt.spanContext().spanId}-01`);

  // Callback: route span (outcome) → get_payment → GET, whose url.full has no query.
  const callbackRoute = one('resurs.callback.authorization');
  const getPayment = one('resurs.get_payment');
  expect(callbackRoute.attributes).toMatchObject({
    'resurs.route': 'callback.authorization',
    'http.route': '/checkout/callbacks/authorization',
    'http.response.status_code': 204,
    'resurs.callback.outcome': 'handled',
    'resurs.store_id': 'test-store',
  });
  expect(parentId(getPayment)).toBe(callbackRoute.spanContext().spanId);
  const getAttempt = spans.find((s) => parentId(s) === getPayment.spanContext().spanId)!;
  expect(getAttempt.name).toBe('GET');
  expect(getAttempt.attributes['url.full']).toBe(`${standIn.merchantApiUrl}/v2/payments/${encodeURIComponent(paymentId)}`);
  const getRequest = standIn.merchant.requests().find((r) => r.route === 'get')!;
  expect(traceparentOf(getRequest.headers)).toBe(`00-${getAttempt.spanContext().traceId}-${getAttempt.spanContext().spanId}-01`);

  // Metrics.
  const duration = await sdk.points('resurs_checkout.request.duration');
  for (const route of ['session', 'payment', 'callback.authorization']) {
    expect(pointWith(duration, { route, code: 'ok', 'resurs.store_id': 'test-store' })).toBeDefined();
  }
  const upstream = await sdk.points('resurs_checkout.upstream.duration');
  expect(pointWith(upstream, { 'server.address': '127.0.0.1', 'resurs.operation': 'create payment', 'http.response.status_code': 201 })).toBeDefined();
  expect(pointWith(upstream, { 'server.address': '127.0.0.1', 'resurs.operation': 'fetch token', 'http.response.status_code': 200 })).toBeDefined();
  expect(pointWith(await sdk.points('resurs_checkout.sessions'), { reused: false })?.value).toBe(1);
  expect(pointWith(await sdk.points('resurs_checkout.payments'), { status: 'TASK_REDIRECTION_REQUIRED' })?.value).toBe(1);
  expect(pointWith(await sdk.points('resurs_checkout.callbacks'), { type: 'authorization', outcome: 'handled' })?.value).toBe(1);

  // Nothing secret or personal in any span or metric an exporter would send.
  const callbackUrl = standIn.merchant.paymentOptions(paymentId)!.authorizationCallbackUrl!;
  const sig = new URL(callbackUrl).searchParams.get('sig')!;
  const bearer = String(standIn.sessionRequests[0]!.headers.authorization).replace(/^Bearer /, '');
  const exported = serializeSpans(spans) + JSON.stringify(await sdk.collect());
  const forbidden = [
    DEMO_CLIENT_SECRET,
    bearer,
    sig,
    CALLBACK_SECRET,
    session.body.id as string, // a session id opens the shopper's payment methods
    order.orderReference,
    CUSTOMER.email!,
    CUSTOMER.governmentId!,
    CUSTOMER.mobilePhone!,
    'Greta',
    'Blekingegatan',
    '11856',
    '1234.56',
    '617.28',
    '246.91',
    'Teapot',
  ];
  expect(sig).toMatch(/^[0-9a-f]{64}$/);
  expect(bearer.length).toBeGreaterThan(20);
  for (const value of forbidden) expect({ value, found: exported.includes(value) }).toEqual({ value, found: false });
  expect(exported).not.toContain('?ref=');
  expect(exported).not.toContain('sig=');
});

test('a campaign refused, a bad media type: error.type is our code on the route span and in the request metric', async () => {
  const shop = await harness.shop({ campaigns: ['BLACK_FRIDAY'] });
  await request(shop.url).post('/checkout/session').send({ campaign: 'SUMMER_SALE' }).expect(422);
  await request(shop.url).post('/checkout/session').set('Content-Type', 'text/plain').send('hi').expect(415);

  const routes = named(sdk.spans(), 'resurs.checkout.session');
  expect(routes.map((s) => s.attributes['error.type']).sort()).toEqual(['campaign_not_allowed', 'unsupported_media_type']);
  expect(named(sdk.spans(), 'resurs.create_session')).toHaveLength(0);
  const duration = await sdk.points('resurs_checkout.request.duration');
  expect(pointWith(duration, { route: 'session', code: 'campaign_not_allowed', 'http.response.status_code': 422 })).toBeDefined();
  expect(pointWith(duration, { route: 'session', code: 'unsupported_media_type', 'http.response.status_code': 415 })).toBeDefined();
});
