/**
 * `POST /checkout/payment` as a shop mounts it: the happy path (what Resurs receives, what the
 * storefront gets) and every row of the error table that applies to this route.
 */
import { createHmac } from 'node:crypto';
import http from 'node:http';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { expectProblem } from '../helpers/problem';
import { logText } from '../helpers/recording-logger';
import { CALLBACK_SECRET, CARD, INVOICE, STORE_ID, cartLines, creates, newOrder, searches, usePaymentsHarness } from '../helpers/payments-app';

const h = usePaymentsHarness();

const pay = (server: Parameters<typeof request>[0], body: unknown = { paymentMethodId: INVOICE }) =>
  request(server).post('/checkout/payment').set('Content-Type', 'application/json').send(JSON.stringify(body));

const sigOf = (ref: string) => createHmac('sha256', CALLBACK_SECRET).update(ref, 'utf8').digest('hex');

interface CreateBody {
  storeId: string;
  paymentMethodId: string;
  order: unknown;
  customer?: unknown;
  options: {
    initiatedOnCustomersDevice: boolean;
    handleFrozenPayments: boolean;
    redirectionUrls: { customer: { successUrl: string; failUrl: string } };
    callbacks: { authorization: { url: string }; management: { url: string } };
    timeToLiveInMinutes: number;
  };
}

describe('happy path', () => {
  test('201 {paymentId, status, redirectUrl}; Resurs got the server-side order, options and signed callback URLs', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    const res = await pay(shop.server).set('X-Request-Id', 'shop-req.42');

    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['x-request-id']).toBe('shop-req.42');
    expect(Object.keys(res.body).sort()).toEqual(['paymentId', 'redirectUrl', 'status']);

    const stored = h.standIn.merchant.payments({ orderReference: order.orderReference });
    expect(stored).toHaveLength(1);
    expect(res.body).toEqual({ paymentId: stored[0]!.id, status: 'TASK_REDIRECTION_REQUIRED', redirectUrl: stored[0]!.taskRedirectionUrls!.customerUrl });

    const sent = creates(h.standIn);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.requestId).toBe('shop-req.42');
    expect(sent[0]!.authorization).toBe(true);
    const body = sent[0]!.body as CreateBody;
    expect(Object.keys(body).sort()).toEqual(['options', 'order', 'paymentMethodId', 'storeId']); // no customer without the hook's
    expect(body.storeId).toBe(STORE_ID);
    expect(body.paymentMethodId).toBe(INVOICE);
    expect(body.order).toEqual(order);
    expect(body.options.initiatedOnCustomersDevice).toBe(true);
    expect(body.options.handleFrozenPayments).toBe(true);
    expect(body.options.timeToLiveInMinutes).toBe(120);
    expect(body.options.redirectionUrls).toEqual({ customer: { successUrl: `${shop.url}/thanks`, failUrl: `${shop.url}/cart` } });
    for (const kind of ['authorization', 'management'] as const) {
      const url = new URL(body.options.callbacks[kind].url);
      expect(`${url.origin}${url.pathname}`).toBe(`${shop.url}/checkout/callbacks/${kind}`);
      expect([...url.searchParams.keys()].sort()).toEqual(['ref', 'sig']);
      expect(url.searchParams.get('ref')).toBe(order.orderReference);
      expect(url.searchParams.get('sig')).toMatch(/^[0-9a-f]{64}$/);
      expect(url.searchParams.get('sig')).toBe(sigOf(order.orderReference));
    }
  });

  test('an order reference with URL-special characters round-trips in the signed callback URL', async () => {
    const shop = await h.shop();
    const order = { orderReference: `A&B=c+d e/å?#${Date.now()}`, orderLines: cartLines() };
    h.carts.set('default', order);
    const res = await pay(shop.server);
    expect(res.status).toBe(201);
    const body = creates(h.standIn)[0]!.body as CreateBody;
    const url = new URL(body.options.callbacks.authorization.url);
    expect(url.searchParams.get('ref')).toBe(order.orderReference);
    expect(url.searchParams.get('sig')).toBe(sigOf(order.orderReference));
  });

  test('customer is sent only when the hook gives one; redirect functions get the order reference; timeToLiveInMinutes is passed on', async () => {
    const shop = await h.shop({
      payments: {
        timeToLiveInMinutes: 30,
        redirect: { successUrl: (_req, ref) => `https://shop.example/thanks/${encodeURIComponent(ref)}`, failUrl: 'https://shop.example/cart' },
      },
    });
    const order = newOrder();
    h.carts.set('known', order);
    const customer = { customerType: 'NATURAL' as const, email: 'shopper@example.com', mobilePhone: '+46701234567' };
    h.customers.set('known', customer);
    const res = await pay(shop.server).set('X-Cart', 'known');
    expect(res.status).toBe(201);
    const body = creates(h.standIn)[0]!.body as CreateBody;
    expect(body.customer).toEqual(customer);
    expect(body.options.timeToLiveInMinutes).toBe(30);
    expect(body.options.redirectionUrls.customer.successUrl).toBe(`https://shop.example/thanks/${encodeURIComponent(order.orderReference)}`);
    expect(h.standIn.merchant.payments({ orderReference: order.orderReference })[0]!.customer).toEqual(customer);
  });

  test('a payment without taskRedirectionUrls answers without redirectUrl', async () => {
    // The stand-in answers TASK_REDIRECTION_REQUIRED with a URL; a create that Resurs settles at
    // once (e.g. ACCEPTED) has none. Seen through a settled search: the stored payment is ACCEPTED.
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    // The route's settling search waits a little, long enough to make the payment ACCEPTED (no redirect).
    h.standIn.merchant.setLookupFaults({ queue: [{ kind: 'latency', ms: 150 }] });
    const pending = pay(shop.server).then((r) => r);
    for (let i = 0; i < 100 && h.standIn.merchant.payments({ orderReference: order.orderReference }).length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const [stored] = h.standIn.merchant.payments({ orderReference: order.orderReference });
    h.standIn.merchant.setStatus(stored!.id, 'ACCEPTED');
    const res = await pending;
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ paymentId: stored!.id, status: 'ACCEPTED' });
  });
});

describe('request errors (nothing reaches Resurs)', () => {
  const cases: [string, unknown, string[]][] = [
    ['"amount" from the browser', { paymentMethodId: INVOICE, amount: 1 }, ['amount']],
    ['"orderLines" from the browser', { paymentMethodId: INVOICE, orderLines: [{ totalAmountIncludingVat: 1 }] }, ['orderLines']],
    ['"orderReference" from the browser', { paymentMethodId: INVOICE, orderReference: 'x' }, ['orderReference']],
    ['missing paymentMethodId', {}, ['paymentMethodId']],
    ['paymentMethodId a number', { paymentMethodId: 42 }, ['paymentMethodId']],
    ['paymentMethodId null', { paymentMethodId: null }, ['paymentMethodId']],
    ['paymentMethodId empty', { paymentMethodId: '' }, ['paymentMethodId']],
    ['paymentMethodId with a slash', { paymentMethodId: '../stores' }, ['paymentMethodId']],
    ['paymentMethodId too long', { paymentMethodId: 'a'.repeat(129) }, ['paymentMethodId']],
    ['an array body', [INVOICE], ['']],
    ['a string body', 'hello', ['']],
  ];
  test.each(cases)('400 invalid_request: %s', async (_name, body, paths) => {
    const shop = await h.shop();
    h.freshCart();
    const res = await pay(shop.server, body);
    const problem = expectProblem(res, 400, 'invalid_request');
    expect((problem.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(paths);
    expect(h.standIn.merchant.requests()).toHaveLength(0);
  });

  test('400 invalid_request: malformed JSON', async () => {
    const shop = await h.shop();
    h.freshCart();
    const res = await request(shop.server).post('/checkout/payment').set('Content-Type', 'application/json').send('{"paymentMethodId":');
    expectProblem(res, 400, 'invalid_request');
    expect(h.standIn.merchant.requests()).toHaveLength(0);
  });

  test('400 invalid_request: empty JSON body (no paymentMethodId)', async () => {
    const shop = await h.shop();
    h.freshCart();
    const res = await request(shop.server).post('/checkout/payment').set('Content-Type', 'application/json');
    expectProblem(res, 400, 'invalid_request');
    expect(h.standIn.merchant.requests()).toHaveLength(0);
  });

  test.each(['get', 'put', 'delete', 'patch'] as const)('405 method_not_allowed for %s, Allow: POST', async (method) => {
    const shop = await h.shop();
    const res = await request(shop.server)[method]('/checkout/payment');
    expectProblem(res, 405, 'method_not_allowed');
    expect(res.headers.allow).toBe('POST');
    expect(h.standIn.merchant.requests()).toHaveLength(0);
  });

  test('413 payload_too_large over 1 KiB, also chunked', async () => {
    const shop = await h.shop();
    h.freshCart();
    const big = JSON.stringify({ paymentMethodId: INVOICE, pad: 'x'.repeat(1100) });
    expectProblem(await request(shop.server).post('/checkout/payment').set('Content-Type', 'application/json').send(big), 413, 'payload_too_large');
    // Chunked (no Content-Length), written in small pieces.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${shop.url}/checkout/payment`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 100) req.write(big.slice(i, i + 100));
      req.end();
    });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ code: 'payload_too_large' });
    expect(h.standIn.merchant.requests()).toHaveLength(0);
  });

  test.each(['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16'])('415 unsupported_media_type for %s', async (type) => {
    const shop = await h.shop();
    h.freshCart();
    const res = await request(shop.server).post('/checkout/payment').set('Content-Type', type).send(JSON.stringify({ paymentMethodId: INVOICE }));
    expectProblem(res, 415, 'unsupported_media_type');
    expect(h.standIn.merchant.requests()).toHaveLength(0);
  });

  test('every answer carries X-Request-Id; a malformed incoming one is replaced', async () => {
    const shop = await h.shop();
    const res = await request(shop.server).get('/checkout/payment').set('X-Request-Id', 'bad id with spaces');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.requestId).toBe(res.headers['x-request-id']);
  });
});

describe('422 payment_refused', () => {
  test("an unknown payment method: Resurs' field names in errors, never its words or values", async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    const unknown = '00000000-dead-beef-0000-000000000000';
    const res = await pay(shop.server, { paymentMethodId: unknown });
    const problem = expectProblem(res, 422, 'payment_refused', 'unknown payment method', unknown);
    expect(problem.errors).toEqual([{ path: 'paymentMethodId', message: expect.any(String) }]);
    expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(0);
    expect(creates(h.standIn)).toHaveLength(1); // a 4xx is never retried

    // The refusal locks nothing: the shopper picks another method and pays.
    const again = await pay(shop.server, { paymentMethodId: CARD });
    expect(again.status).toBe(201);
    expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(1);
  });

  test.each([
    ['400 with parameters', 400, { code: 'VALIDATION_ERROR', message: 'bad', parameters: { 'order.orderLines[0].quantity': 'was 987654321', 'customer.email': 'bob@leak.example' } }, ['customer.email', 'order.orderLines[0].quantity']],
    ['422 with violations', 422, { violations: [{ field: 'customer.governmentId', message: '19121212-1212 is not valid' }] }, ['customer.governmentId']],
    ['403 without fields', 403, { code: 'FORBIDDEN', message: 'nope 55555' }, []],
  ])('%s', async (_name, status, body, paths) => {
    const shop = await h.shop();
    h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'status', status, body }] });
    const res = await pay(shop.server);
    const problem = expectProblem(res, 422, 'payment_refused', '987654321', 'bob@leak.example', '19121212-1212', '55555', 'VALIDATION_ERROR');
    expect(((problem.errors as { path: string }[] | undefined) ?? []).map((e) => e.path).sort()).toEqual(paths);
  });
});

describe('409 payment_in_progress', () => {
  test('same order, another method: while the first is in flight, and after it', async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 300 }] });
    const first = pay(shop.server, { paymentMethodId: INVOICE }).then((r) => r);
    // Wait until the first create is at Resurs.
    for (let i = 0; i < 200 && creates(h.standIn).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    const during = await pay(shop.server, { paymentMethodId: CARD });
    expectProblem(during, 409, 'payment_in_progress');
    const done = await first;
    expect(done.status).toBe(201);
    expectProblem(await pay(shop.server, { paymentMethodId: CARD }), 409, 'payment_in_progress');
    const same = await pay(shop.server, { paymentMethodId: INVOICE });
    expect(same.status).toBe(201);
    expect(same.body).toEqual(done.body);
    expect(creates(h.standIn)).toHaveLength(1);
    expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(1);
  });

  test('another order of the same shopper is not blocked', async () => {
    const shop = await h.shop();
    h.freshCart();
    expect((await pay(shop.server, { paymentMethodId: INVOICE })).status).toBe(201);
    h.freshCart();
    expect((await pay(shop.server, { paymentMethodId: CARD })).status).toBe(201);
    expect(creates(h.standIn)).toHaveLength(2);
  });
});

describe('502 upstream_error', () => {
  test.each(['http://evil.example/pay', 'javascript:alert(1)', 'https://user:pw@evil.example/x', 'data:text/html,hi', '/relative/path'])(
    'customerUrl %s is refused, and a retry does not create a second payment',
    async (url) => {
      const shop = await h.shop();
      const order = h.freshCart();
      h.standIn.merchant.setPaymentFaults({ always: { kind: 'customer-url', url } });
      const res = await pay(shop.server);
      expectProblem(res, 502, 'upstream_error', 'evil.example', 'javascript');
      expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(1);
      // The payment exists at Resurs: the next try looks it up instead of creating another.
      expectProblem(await pay(shop.server), 502, 'upstream_error', 'evil.example', 'javascript');
      expect(creates(h.standIn)).toHaveLength(1);
      expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(1);
    },
  );

  test('loopback http customerUrl is allowed against the loopback stand-in', async () => {
    const shop = await h.shop();
    h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'customer-url', url: 'http://127.0.0.1:9/approve?x=1' }] });
    const res = await pay(shop.server);
    expect(res.status).toBe(201);
    expect(res.body.redirectUrl).toBe('http://127.0.0.1:9/approve?x=1');
  });

  test('https customerUrl on another host is passed on', async () => {
    const shop = await h.shop();
    h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'customer-url', url: 'https://checkout.resurs.example/sign/abc' }] });
    const res = await pay(shop.server);
    expect(res.status).toBe(201);
    expect(res.body.redirectUrl).toBe('https://checkout.resurs.example/sign/abc');
  });

  test.each(['malformed-json', 'wrong-shape'] as const)(
    'an unreadable create answer (%s): the payment exists, so it is looked up, never created twice',
    async (kind) => {
      const shop = await h.shop();
      const order = h.freshCart();
      h.standIn.merchant.setPaymentFaults({ queue: [{ kind }] });
      const first = await pay(shop.server);
      const [stored] = h.standIn.merchant.payments({ orderReference: order.orderReference });
      expect(stored).toBeDefined();
      // Resurs acted (it answered 2xx): the route looks the order up and answers that payment.
      expect(first.status).toBe(201);
      expect(first.body.paymentId).toBe(stored!.id);
      expect(searches(h.standIn).length).toBeGreaterThanOrEqual(1);
      const retry = await pay(shop.server);
      expect(retry.status).toBe(201);
      expect(retry.body.paymentId).toBe(stored!.id);
      expect(creates(h.standIn)).toHaveLength(1);
      expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(1);
    },
  );

  test('a static token Resurs refuses (401): 502, logged, not retried as a create', async () => {
    const forged = jwt.sign({ scope: 'merchant-api' }, 'not-the-stand-in-secret', { expiresIn: 3600 });
    const shop = await h.shop({ auth: { token: forged } });
    h.freshCart();
    const res = await pay(shop.server);
    expectProblem(res, 502, 'upstream_error');
    expect(creates(h.standIn)).toHaveLength(1);
    expect(h.standIn.merchant.payments()).toHaveLength(0);
  });
});

describe('503 / 504', () => {
  test('503 upstream_unavailable with Retry-After when the Merchant API refuses connections', async () => {
    const shop = await h.shop({ merchantApiUrl: 'http://127.0.0.1:1/merchant-api', retries: 1 });
    h.freshCart();
    const res = await pay(shop.server);
    expectProblem(res, 503, 'upstream_unavailable');
  });

  test("503 from Resurs without a payment: Resurs' Retry-After is passed on; no payment", async () => {
    const shop = await h.shop();
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'status', status: 503, headers: { 'Retry-After': '7' } }] });
    const res = await pay(shop.server);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('7');
    expect(creates(h.standIn)).toHaveLength(1);
    expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(0);
  });

  test('504 upstream_timeout when Resurs never answers and the search finds nothing', async () => {
    const shop = await h.shop({ timeoutMs: 150, deadlineMs: 400 });
    const order = h.freshCart();
    h.standIn.merchant.setPaymentFaults({ queue: [{ kind: 'hang' }] });
    const started = Date.now();
    const res = await pay(shop.server);
    expectProblem(res, 504, 'upstream_timeout');
    expect(Date.now() - started).toBeLessThan(3000);
    expect(creates(h.standIn)).toHaveLength(1);
    expect(h.standIn.merchant.payments({ orderReference: order.orderReference })).toHaveLength(0);
  });
});

describe('500 internal_error: the merchant order is checked before anything is sent', () => {
  const SECRET_DESCRIPTION = 'Secret gadget XYZ';
  const customer = { email: 'shopper-secret@example.com', governmentId: '198001011234' };
  const line = { description: SECRET_DESCRIPTION, quantity: 3, quantityUnit: 'st', vatRate: 25, unitAmountIncludingVat: 1234.56, totalAmountIncludingVat: 3703.68 };

  const broken: [string, (ref: string) => unknown, RegExp][] = [
    ['lines that do not add up', (ref) => ({ orderReference: ref, orderLines: [{ ...line, totalAmountIncludingVat: 9999.99 }] }), /totalAmountIncludingVat must equal quantity/],
    ['three decimals', (ref) => ({ orderReference: ref, orderLines: [{ ...line, unitAmountIncludingVat: 1234.567, totalAmountIncludingVat: 3703.7 }] }), /unitAmountIncludingVat must be a finite amount/],
    ['an infinite amount', (ref) => ({ orderReference: ref, orderLines: [{ ...line, totalAmountIncludingVat: Infinity }] }), /totalAmountIncludingVat must be a finite amount/],
    ['NaN quantity', (ref) => ({ orderReference: ref, orderLines: [{ ...line, quantity: NaN }] }), /quantity must be a number above 0/],
    ['zero quantity', (ref) => ({ orderReference: ref, orderLines: [{ ...line, quantity: 0, totalAmountIncludingVat: 0 }] }), /quantity must be a number above 0/],
    ['a string amount', (ref) => ({ orderReference: ref, orderLines: [{ ...line, totalAmountIncludingVat: '3703.68' }] }), /totalAmountIncludingVat must be a finite amount/],
    ['no lines', (ref) => ({ orderReference: ref, orderLines: [] }), /orderLines must be a list of 1 to 1000/],
    ['1001 lines', (ref) => ({ orderReference: ref, orderLines: Array.from({ length: 1001 }, () => line) }), /orderLines must be a list of 1 to 1000/],
    ['an orderReference over 64 characters', () => ({ orderReference: 'r'.repeat(65), orderLines: [line] }), /orderReference must be a string of 1 to 64/],
    ['an empty orderReference', () => ({ orderReference: '', orderLines: [line] }), /orderReference must be a string of 1 to 64/],
    ['a description over 50 characters', (ref) => ({ orderReference: ref, orderLines: [{ ...line, description: `${SECRET_DESCRIPTION} ${'y'.repeat(40)}` }] }), /description must be a non-empty string of at most 50/],
    ['vatRate over 100', (ref) => ({ orderReference: ref, orderLines: [{ ...line, vatRate: 125 }] }), /vatRate must be a number from 0 to 100/],
    ['an unknown line type', (ref) => ({ orderReference: ref, orderLines: [{ ...line, type: 'FREEBIE' }] }), /type must be one of/],
    ['not an object', () => 'order-as-a-string', /the order is not an object/],
  ];

  test.each(broken)('%s: 500, the log names the rule, no amounts/descriptions/customer data, Resurs not called', async (_name, build, rule) => {
    const ref = newOrder().orderReference;
    const shop = await h.shop({ payments: { order: () => build(ref) as never, customer: () => customer } });
    const res = await pay(shop.server);
    expectProblem(res, 500, 'internal_error', SECRET_DESCRIPTION, '1234.56', '3703.68', customer.email);
    expect(h.standIn.merchant.requests()).toHaveLength(0);
    const text = logText(h.lines);
    const ruleLine = h.lines.find((l) => l.level === 'error' && rule.test(l.message));
    expect(ruleLine).toBeDefined();
    expect(ruleLine!.fields.hook).toBe('payments.order');
    for (const secret of [SECRET_DESCRIPTION, '1234.56', '1234.567', '3703.68', '9999.99', customer.email, customer.governmentId]) expect(text).not.toContain(secret);
  });

  test.each([
    ['order throws', { order: () => { throw new Error(`cart of ${customer.email} costs 3703.68`); } }, 'payments.order'],
    ['order rejects', { order: () => Promise.reject(new Error(`cart of ${customer.email}`)) }, 'payments.order'],
    ['customer throws', { customer: () => { throw new Error(customer.email); } }, 'payments.customer'],
    ['successUrl function throws', { redirect: { successUrl: (): never => { throw new Error(customer.email); }, failUrl: 'https://shop.example/f' } }, 'payments.redirect.successUrl'],
    ['successUrl function returns javascript:', { redirect: { successUrl: (): string => 'javascript:alert(1)', failUrl: 'https://shop.example/f' } }, 'payments.redirect.successUrl'],
  ] as const)('%s: 500 naming the hook, nothing sent to Resurs', async (_name, payments, hook) => {
    const shop = await h.shop({ payments: payments as never });
    h.freshCart();
    const res = await pay(shop.server);
    expectProblem(res, 500, 'internal_error', customer.email);
    expect(h.standIn.merchant.requests()).toHaveLength(0);
    expect(h.lines.some((l) => l.level === 'error' && l.fields.hook === hook)).toBe(true);
    const text = logText(h.lines);
    expect(text).not.toContain(customer.email);
    expect(text).not.toContain('3703.68');
    expect(text).not.toMatch(/"stack"/);
  });

  test('0.1 + 0.2 style floating point totals are accepted', async () => {
    const shop = await h.shop();
    h.carts.set('default', { orderReference: newOrder().orderReference, orderLines: [{ description: 'a', quantity: 3, quantityUnit: 'st', vatRate: 25, unitAmountIncludingVat: 0.1, totalAmountIncludingVat: 0.3 }] });
    expect((await pay(shop.server)).status).toBe(201);
  });
});
