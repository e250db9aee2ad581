/**
 * The stand-in's Merchant API v2: payments, the approval page, callbacks (modes, retries) and
 * faults, all over real HTTP on 127.0.0.1, with a small node:http server receiving callbacks.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  APPROVAL_PAGE_PATH,
  MERCHANT_API_PATH,
  PAYMENT_METHOD_CATALOG,
  startStandIn,
  type CallbackRecord,
  type MerchantErrorBody,
  type MerchantPayment,
  type StandIn,
} from '../../demo-app/resurs-stand-in';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const METHOD_ID = PAYMENT_METHOD_CATALOG[0].methodIds[0];
const SIG = 'ab'.repeat(32);
const STORE = 'store-1';

let standIn: StandIn;
let token: string;
let receiver: Receiver;

// ---------------------------------------------------------------------------------------------
// A callback receiver on 127.0.0.1

interface Hit {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

interface Receiver {
  url: string;
  hits: Hit[];
  /** Status to answer each hit with (default 204); may wait first. */
  respond: (hit: Hit) => number | Promise<number>;
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const hits: Hit[] = [];
  const receiverState: Receiver = {
    url: '',
    hits,
    respond: () => 204,
    async waitFor(count, timeoutMs = 3000) {
      const until = Date.now() + timeoutMs;
      while (hits.length < count) {
        if (Date.now() > until) throw new Error(`receiver got ${hits.length} callbacks, expected ${count}`);
        await sleep(5);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const hit: Hit = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
      hits.push(hit);
      Promise.resolve(receiverState.respond(hit)).then(
        (status) => {
          if (!res.destroyed) res.writeHead(status).end();
        },
        () => res.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverState.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return receiverState;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Requests

function callbackUrl(kind: 'authorization' | 'management', ref: string): string {
  return `${receiver.url}/checkout/callbacks/${kind}?ref=${encodeURIComponent(ref)}&sig=${SIG}`;
}

function paymentBody(orderReference: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    storeId: STORE,
    paymentMethodId: METHOD_ID,
    order: {
      orderReference,
      orderLines: [
        { description: 'Book', quantity: 2, quantityUnit: 'pcs', vatRate: 25, unitAmountIncludingVat: 100, totalAmountIncludingVat: 200 },
        { description: 'Shipping', quantity: 1, quantityUnit: 'pcs', vatRate: 25, totalAmountIncludingVat: 49, type: 'SHIPPING' },
      ],
    },
    customer: { customerType: 'NATURAL', email: 'shopper@example.com' },
    options: {
      initiatedOnCustomersDevice: true,
      handleFrozenPayments: true,
      redirectionUrls: { customer: { successUrl: `https://shop.example/thanks?ref=${orderReference}`, failUrl: `https://shop.example/sorry?ref=${orderReference}` } },
      callbacks: { authorization: { url: callbackUrl('authorization', orderReference) }, management: { url: callbackUrl('management', orderReference) } },
      timeToLiveInMinutes: 120,
    },
    ...extra,
  };
}

interface JsonAnswer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

async function api<T = MerchantPayment>(method: string, path: string, body?: unknown, options: { bearer?: string | null; headers?: Record<string, string>; raw?: string } = {}): Promise<JsonAnswer<T>> {
  const { bearer = token } = options;
  const headers: Record<string, string> = { ...(bearer === null ? {} : { Authorization: `Bearer ${bearer}` }), ...options.headers };
  let payload: string | undefined = options.raw;
  if (payload === undefined && body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] ??= 'application/json';
  }
  const res = await fetch(`${standIn.merchantApiUrl}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

async function create(orderReference: string, extra: Record<string, unknown> = {}): Promise<MerchantPayment> {
  const res = await api('POST', '/v2/payments', paymentBody(orderReference, extra));
  expect(res.status).toBe(201);
  return res.body;
}

function search(orderReference: string): Promise<JsonAnswer<{ content: MerchantPayment[]; page: Record<string, number> }>> {
  return api('POST', '/v2/payments/search', { storeId: STORE, orderReference });
}

/** Submit one of the approval page's forms, not following the redirect. */
async function submit(payment: MerchantPayment, step: 'approve' | 'decline', outcome?: string): Promise<Response> {
  const form = new URLSearchParams(outcome ? { outcome } : {});
  return fetch(`${payment.taskRedirectionUrls?.customerUrl ?? ''}/${step}`, { method: 'POST', body: form, redirect: 'manual' });
}

interface RawResult {
  status?: number;
  body: string;
  error?: string;
  timedOut?: boolean;
}

/** A bare node:http request on its own connection, keeping whatever arrives before an error. */
function raw(path: string, body: unknown, timeoutMs = 2000): Promise<RawResult> {
  return new Promise((resolve) => {
    let settled = false;
    let response: IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    const done = (extra: Partial<RawResult>): void => {
      if (settled) return;
      settled = true;
      resolve({ status: response?.statusCode, body: Buffer.concat(chunks).toString(), ...extra });
    };
    const req = http.request(
      `${standIn.merchantApiUrl}${path}`,
      { method: 'POST', agent: false, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } },
      (res) => {
        response = res;
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({}));
        res.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => done({ error: error.code ?? error.message }));
    req.setTimeout(timeoutMs, () => {
      done({ timedOut: true });
      req.destroy();
    });
    req.end(JSON.stringify(body));
  });
}

function bodies(): Record<string, unknown>[] {
  return receiver.hits.map((hit) => JSON.parse(hit.body) as Record<string, unknown>);
}

beforeAll(async () => {
  standIn = await startStandIn();
  token = standIn.issueToken();
  receiver = await startReceiver();
});

afterAll(async () => {
  await standIn.close();
  await receiver.close();
});

beforeEach(() => {
  standIn.reset();
  receiver.hits.length = 0;
  receiver.respond = () => 204;
});

// ---------------------------------------------------------------------------------------------

describe('payments: create, get, search', () => {
  it('create answers 201 with a TASK_REDIRECTION_REQUIRED payment and a customerUrl on the stand-in', async () => {
    expect(standIn.merchantApiUrl).toBe(`${standIn.url}${MERCHANT_API_PATH}`);
    expect(standIn.merchantApiUrl).not.toBe(standIn.baseUrl);
    const before = Date.now();
    const res = await api('POST', '/v2/payments', paymentBody('order-1'), { headers: { 'X-Request-Id': 'req-42' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const payment = res.body;
    expect(payment.id).toMatch(UUID);
    expect(Date.parse(payment.created)).toBeGreaterThanOrEqual(before - 1000);
    expect(payment).toMatchObject({
      storeId: STORE,
      paymentMethodId: METHOD_ID,
      paymentMethod: { name: PAYMENT_METHOD_CATALOG[0].title, type: 'RESURS_INVOICE' },
      customer: { customerType: 'NATURAL', email: 'shopper@example.com' },
      status: 'TASK_REDIRECTION_REQUIRED',
      paymentActions: [],
      order: {
        orderReference: 'order-1',
        totalAmountIncludingVat: 249,
        totalOrderAmount: 249,
        authorizedAmount: 0,
        capturedAmount: 0,
        canceledAmount: 0,
        refundedAmount: 0,
        possibleActions: [],
      },
      application: { requestedCreditLimit: 249 },
      taskRedirectionUrls: { customerUrl: `${standIn.url}${APPROVAL_PAGE_PATH}/${payment.id}` },
    });
    expect(payment.order.orderLines).toHaveLength(2);
    expect(payment.order.actionLog).toEqual([expect.objectContaining({ type: 'CREATE', actionId: expect.stringMatching(UUID), amount: 249 })]);
    expect(standIn.merchant.paymentOptions(payment.id)).toMatchObject({
      successUrl: 'https://shop.example/thanks?ref=order-1',
      failUrl: 'https://shop.example/sorry?ref=order-1',
      authorizationCallbackUrl: callbackUrl('authorization', 'order-1'),
      managementCallbackUrl: callbackUrl('management', 'order-1'),
      timeToLiveInMinutes: 120,
    });
    const [recorded] = standIn.merchant.requests();
    expect(recorded).toMatchObject({ method: 'POST', path: '/v2/payments', route: 'create', authorization: true, requestId: 'req-42' });
    expect(recorded.body).toEqual(paymentBody('order-1'));
  });

  it('get answers the payment, 404 when unknown; search finds by storeId and orderReference', async () => {
    const first = await create('order-a');
    await create('order-b');
    const again = await create('order-a');
    const got = await api('GET', `/v2/payments/${first.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(first);
    const missing = await api<MerchantErrorBody>('GET', '/v2/payments/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'NOT_FOUND', traceId: expect.stringMatching(UUID), timestamp: expect.any(String), message: expect.any(String) });

    const found = await search('order-a');
    expect(found.status).toBe(200);
    expect(found.body.content.map((p) => p.id)).toEqual([first.id, again.id]);
    expect(found.body.page).toMatchObject({ number: 0, totalElements: 2, totalPages: 1 });
    expect((await search('order-none')).body.content).toEqual([]);
    const otherStore = await api<{ content: unknown[] }>('POST', '/v2/payments/search', { storeId: 'store-2', orderReference: 'order-a' });
    expect(otherStore.body.content).toEqual([]);
    expect(standIn.merchant.payments({ orderReference: 'order-a' })).toHaveLength(2);
    expect(standIn.merchant.payments()).toHaveLength(3);
    expect(standIn.merchant.requests().map((r) => r.route)).toEqual(['create', 'create', 'create', 'get', 'get', 'search', 'search', 'search']);
  });

  it('keeps at most maxPayments, dropping the oldest', async () => {
    const small = await startStandIn({ maxPayments: 2 });
    try {
      const post = (ref: string): Promise<Response> =>
        fetch(`${small.merchantApiUrl}/v2/payments`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${small.issueToken()}`, 'Content-Type': 'application/json' },
          body: JSON.stringify(paymentBody(ref)),
        });
      for (const ref of ['r1', 'r2', 'r3']) expect((await post(ref)).status).toBe(201);
      expect(small.merchant.payments().map((p) => p.order.orderReference)).toEqual(['r2', 'r3']);
    } finally {
      await small.close();
    }
  });
});

describe('auth and validation', () => {
  it('every route needs a valid Bearer token (401), recorded with authorization: false', async () => {
    const payment = await create('order-auth');
    const expired = standIn.issueToken({ expiresInSeconds: -60 });
    const calls: [string, string, unknown][] = [
      ['POST', '/v2/payments', paymentBody('x')],
      ['GET', `/v2/payments/${payment.id}`, undefined],
      ['POST', '/v2/payments/search', { storeId: STORE }],
      ['POST', `/v2/payments/${payment.id}/capture`, {}],
      ['POST', `/v2/payments/${payment.id}/cancel`, {}],
      ['POST', `/v2/payments/${payment.id}/refund`, {}],
    ];
    for (const [method, path, body] of calls) {
      const none = await api<MerchantErrorBody>(method, path, body, { bearer: null });
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(none.body.code).toBe('UNAUTHORIZED');
      expect((await api(method, path, body, { bearer: expired })).status).toBe(401);
      expect((await api(method, path, body, { bearer: 'not.a.jwt' })).status).toBe(401);
    }
    expect(standIn.merchant.requests().filter((r) => !r.authorization)).toHaveLength(calls.length);
    expect(standIn.merchant.payments()).toHaveLength(1);
  });

  it('a token scoped to another store is refused (403)', async () => {
    const scoped = standIn.issueToken({ storeId: 'store-2' });
    const res = await api<MerchantErrorBody>('POST', '/v2/payments', paymentBody('order-x'), { bearer: scoped });
    expect(res.status).toBe(403);
    expect(standIn.merchant.payments()).toHaveLength(0);
  });

  it('400 VALIDATION_ERROR with the field paths for bad bodies and unknown payment methods', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ storeId: '' }, 'storeId'],
      [{ paymentMethodId: '' }, 'paymentMethodId'],
      [{ paymentMethodId: '00000000-0000-4000-8000-000000000000' }, 'paymentMethodId'],
      [{ order: { orderReference: '', orderLines: [{ quantity: 1, vatRate: 25, totalAmountIncludingVat: 1 }] } }, 'order.orderReference'],
      [{ order: { orderReference: 'x'.repeat(65), orderLines: [{ quantity: 1, vatRate: 25, totalAmountIncludingVat: 1 }] } }, 'order.orderReference'],
      [{ order: { orderReference: 'ok', orderLines: [] } }, 'order.orderLines'],
      [{ order: { orderReference: 'ok', orderLines: Array.from({ length: 1001 }, () => ({ quantity: 1, vatRate: 0, totalAmountIncludingVat: 1 })) } }, 'order.orderLines'],
      [{ order: { orderReference: 'ok', orderLines: [{ quantity: 0, vatRate: 25, totalAmountIncludingVat: 1 }] } }, 'order.orderLines[0].quantity'],
      [{ order: { orderReference: 'ok' } }, 'order.orderLines'],
      [{ options: { callbacks: { authorization: { url: 'not a url' } } } }, 'options.callbacks.authorization.url'],
      [{ options: { timeToLiveInMinutes: 0 } }, 'options.timeToLiveInMinutes'],
    ];
    for (const [override, field] of cases) {
      const res = await api<MerchantErrorBody>('POST', '/v2/payments', { ...paymentBody('order-v'), ...override });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'VALIDATION_ERROR', traceId: expect.stringMatching(UUID), message: expect.any(String) });
      expect(Object.keys(res.body.parameters ?? {})).toContain(field);
    }
    const blank = await api<MerchantErrorBody>('POST', '/v2/payments', { ...paymentBody('x'), order: { orderReference: '   ', orderLines: [{ quantity: 1, vatRate: 0, totalAmountIncludingVat: 1 }] } });
    expect(blank.body.parameters).toEqual({ 'order.orderReference': 'must not be blank' });
    expect((await api('POST', '/v2/payments', undefined, { raw: '{oops', headers: { 'Content-Type': 'application/json' } })).status).toBe(400);
    expect((await api('POST', '/v2/payments', undefined, { raw: '{}', headers: { 'Content-Type': 'text/plain' } })).status).toBe(415);
    expect((await api('POST', '/v2/payments/search', {})).status).toBe(400);
    expect(standIn.merchant.payments()).toHaveLength(0);
  });

  it('405 for a wrong method, 404 for an unknown route', async () => {
    const wrong = await api('GET', '/v2/payments');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await api('DELETE', '/v2/payments/abc')).status).toBe(405);
    expect((await api('POST', '/v2/nothing', {})).status).toBe(404);
    expect((await api('POST', '/v2/payments/abc/teleport', {})).status).toBe(404);
  });
});

describe('the approval page', () => {
  it('is plain HTML with #approve and #decline forms, no scripts, a strict CSP', async () => {
    const payment = await create('order-page');
    const res = await fetch(payment.taskRedirectionUrls?.customerUrl ?? '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    const html = await res.text();
    expect(html).not.toMatch(/<script|\son\w+=/i);
    expect(html).toMatch(/<button type="submit" id="approve"[^>]*>Approve<\/button>/);
    expect(html).toMatch(/<button type="submit" id="decline">Decline<\/button>/);
    expect(html).toContain(`action="${APPROVAL_PAGE_PATH}/${payment.id}/approve"`);
    expect(html).toContain('order-page');
    expect((await fetch(`${standIn.url}${APPROVAL_PAGE_PATH}/no-such-payment`)).status).toBe(404);
  });

  it('Approve: ACCEPTED, 303 to successUrl, then the AUTHORIZED callback to the exact signed URL', async () => {
    const payment = await create('order-ok');
    const res = await submit(payment, 'approve');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://shop.example/thanks?ref=order-ok');
    const accepted = (await api('GET', `/v2/payments/${payment.id}`)).body;
    expect(accepted.status).toBe('ACCEPTED');
    expect(accepted.taskRedirectionUrls).toBeUndefined();
    expect(accepted.order.authorizedAmount).toBe(249);
    expect(accepted.order.possibleActions.map((a) => a.action)).toEqual(['CAPTURE', 'PARTIAL_CAPTURE', 'CANCEL', 'PARTIAL_CANCEL']);
    await receiver.waitFor(1);
    const [hit] = receiver.hits;
    expect(`${receiver.url}${hit.url}`).toBe(callbackUrl('authorization', 'order-ok'));
    expect(hit.headers['content-type']).toBe('application/json');
    const body = JSON.parse(hit.body) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(['created', 'paymentId', 'status']);
    expect(body).toMatchObject({ paymentId: payment.id, status: 'AUTHORIZED' });
    expect(Number.isNaN(Date.parse(body.created))).toBe(false);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks()).toEqual([
      expect.objectContaining({ kind: 'authorization', url: callbackUrl('authorization', 'order-ok'), status: 204, attempt: 1, body }),
    ]);

    const twice = await submit(payment, 'approve');
    expect(twice.status).toBe(409);
    expect(receiver.hits).toHaveLength(1);
  });

  it('Decline: REJECTED, 303 to failUrl, REJECTED callback', async () => {
    const payment = await create('order-no');
    const res = await submit(payment, 'decline');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('https://shop.example/sorry?ref=order-no');
    expect(standIn.merchant.payment(payment.id)?.status).toBe('REJECTED');
    await receiver.waitFor(1);
    expect(bodies()).toEqual([{ paymentId: payment.id, status: 'REJECTED', created: expect.any(String) }]);
    const page = await (await fetch(`${standIn.url}${APPROVAL_PAGE_PATH}/${payment.id}`)).text();
    expect(page).not.toContain('id="approve"');
  });

  it('other outcomes: frozen (then released or rejected later) and captured at once', async () => {
    const frozen = await create('order-frozen');
    expect((await submit(frozen, 'approve', 'FROZEN')).headers.get('location')).toBe('https://shop.example/thanks?ref=order-frozen');
    expect(standIn.merchant.payment(frozen.id)?.status).toBe('FROZEN');
    const released = await standIn.merchant.approve(frozen.id);
    expect(released.payment.status).toBe('ACCEPTED');
    expect(released.location).toBeUndefined();

    const captured = await create('order-captured');
    await submit(captured, 'approve', 'CAPTURED');
    const after = standIn.merchant.payment(captured.id);
    expect(after?.order.capturedAmount).toBe(249);
    expect(after?.order.possibleActions.map((a) => a.action)).toEqual(['REFUND', 'PARTIAL_REFUND']);
    await receiver.waitFor(3);
    await standIn.merchant.settled();
    expect(bodies().map((b) => [b.paymentId, b.status])).toEqual([
      [frozen.id, 'FROZEN'],
      [frozen.id, 'AUTHORIZED'],
      [captured.id, 'CAPTURED'],
    ]);
    expect((await submit(captured, 'approve', 'TELEPORT')).status).toBe(400);
  });

  it('merchant.approve()/decline() do the same without a browser, and reject when not allowed', async () => {
    const payment = await create('order-prog');
    const result = await standIn.merchant.approve(payment.id);
    expect(result.location).toBe('https://shop.example/thanks?ref=order-prog');
    expect(result.payment.status).toBe('ACCEPTED');
    await expect(standIn.merchant.decline(payment.id)).rejects.toThrow(/already ACCEPTED/);
    await expect(standIn.merchant.approve('nope')).rejects.toThrow(/not found/i);
    const other = await create('order-prog-2');
    expect((await standIn.merchant.decline(other.id)).location).toBe('https://shop.example/sorry?ref=order-prog-2');
    await receiver.waitFor(2);
  });

  it('a payment past its time to live cannot be approved (410)', async () => {
    const payment = await create('order-ttl', {});
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'nextTick', 'queueMicrotask'] });
    try {
      jest.setSystemTime(Date.now() + 121 * 60_000);
      expect((await submit(payment, 'approve')).status).toBe(410);
    } finally {
      jest.useRealTimers();
    }
    expect(standIn.merchant.payment(payment.id)?.status).toBe('TASK_REDIRECTION_REQUIRED');
  });
});

describe('capture, cancel, refund', () => {
  it('follow the payment-management rules, log actions and send management callbacks', async () => {
    const payment = await create('order-m');
    const early = await api<MerchantErrorBody>('POST', `/v2/payments/${payment.id}/capture`, {});
    expect(early.status).toBe(409);
    expect(early.body.code).toBe('NOT_ALLOWED');
    expect((await api('POST', `/v2/payments/${payment.id}/refund`, {})).status).toBe(409);
    await standIn.merchant.approve(payment.id);

    const partial = await api('POST', `/v2/payments/${payment.id}/capture`, {
      orderLines: [{ description: 'Book', quantity: 2, quantityUnit: 'pcs', vatRate: 25, totalAmountIncludingVat: 200 }],
    });
    expect(partial.status).toBe(200);
    expect(partial.body.status).toBe('ACCEPTED');
    expect(partial.body.order).toMatchObject({ authorizedAmount: 249, capturedAmount: 200 });
    expect(partial.body.paymentActions).toEqual([expect.objectContaining({ type: 'CAPTURE', actionId: expect.stringMatching(UUID), amount: 200 })]);
    const tooMuch = await api('POST', `/v2/payments/${payment.id}/capture`, { orderLines: [{ quantity: 1, vatRate: 0, totalAmountIncludingVat: 100 }] });
    expect(tooMuch.status).toBe(409);

    const cancel = await api('POST', `/v2/payments/${payment.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.order).toMatchObject({ capturedAmount: 200, canceledAmount: 49 });
    expect((await api('POST', `/v2/payments/${payment.id}/cancel`, {})).status).toBe(409);
    expect((await api('POST', `/v2/payments/${payment.id}/capture`, {})).status).toBe(409);

    const refund = await api('POST', `/v2/payments/${payment.id}/refund`, {});
    expect(refund.status).toBe(200);
    expect(refund.body.order).toMatchObject({ refundedAmount: 200, possibleActions: [] });
    expect(refund.body.paymentActions.map((a) => a.type)).toEqual(['CAPTURE', 'CANCEL', 'REFUND']);
    expect(refund.body.order.actionLog.map((a) => a.type)).toEqual(['CREATE', 'CAPTURE', 'CANCEL', 'REFUND']);
    expect((await api('POST', `/v2/payments/${payment.id}/refund`, {})).status).toBe(409);
    expect((await api('POST', '/v2/payments/unknown/capture', {})).status).toBe(404);
    expect((await api<MerchantErrorBody>('POST', `/v2/payments/${payment.id}/capture`, { orderLines: [] })).body.parameters).toHaveProperty('orderLines');

    await receiver.waitFor(4);
    await standIn.merchant.settled();
    const management = receiver.hits.filter((hit) => hit.url.startsWith('/checkout/callbacks/management'));
    expect(management.map((hit) => `${receiver.url}${hit.url}`)).toEqual(Array(3).fill(callbackUrl('management', 'order-m')));
    expect(management.map((hit) => JSON.parse(hit.body) as Record<string, string>)).toEqual(
      refund.body.paymentActions.map((a) => ({ paymentId: payment.id, action: a.type, actionId: a.actionId, created: a.created })),
    );
  });
});

describe('callback modes', () => {
  it('delay: the callback comes the given time after the redirect', async () => {
    standIn.merchant.setCallbackMode({ mode: 'delay', ms: 150 });
    const payment = await create('order-delay');
    const started = Date.now();
    expect((await submit(payment, 'approve')).status).toBe(303);
    await sleep(50);
    expect(receiver.hits).toHaveLength(0);
    await receiver.waitFor(1);
    expect(receiver.hits[0].at - started).toBeGreaterThanOrEqual(140);
  });

  it('normal answers the redirect before the callback is done; before-redirect waits for it', async () => {
    receiver.respond = () => sleep(100).then(() => 204);
    const first = await create('order-normal');
    expect((await submit(first, 'approve')).status).toBe(303);
    expect(standIn.merchant.callbacks()).toHaveLength(0);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks()).toHaveLength(1);

    standIn.merchant.setCallbackMode({ mode: 'before-redirect' });
    const second = await create('order-before');
    const res = await submit(second, 'approve');
    expect(res.status).toBe(303);
    expect(standIn.merchant.callbacks().map((c) => [c.body.paymentId, c.status])).toEqual([
      [first.id, 204],
      [second.id, 204],
    ]);
  });

  it('duplicate: the same callback n times, one after another or at once', async () => {
    standIn.merchant.setCallbackMode({ mode: 'duplicate', times: 3, concurrent: true });
    const payment = await create('order-dup');
    await submit(payment, 'approve');
    await receiver.waitFor(3);
    expect(new Set(receiver.hits.map((hit) => hit.body)).size).toBe(1);
    expect(new Set(receiver.hits.map((hit) => hit.url))).toEqual(new Set([callbackUrl('authorization', 'order-dup').slice(receiver.url.length)]));

    standIn.merchant.setCallbackMode({ mode: 'duplicate', times: 2 });
    await api('POST', `/v2/payments/${payment.id}/capture`, {});
    await receiver.waitFor(5);
    await standIn.merchant.settled();
    const records = standIn.merchant.callbacks();
    expect(records.filter((c) => c.kind === 'management')).toHaveLength(2);
    expect(new Set(records.map((c) => c.deliveryId)).size).toBe(5);
  });

  it('out-of-order: the management callback arrives before the authorization, a refund before its capture', async () => {
    standIn.merchant.setCallbackMode({ mode: 'out-of-order' });
    const payment = await create('order-ooo');
    await standIn.merchant.approve(payment.id);
    await sleep(30);
    expect(receiver.hits).toHaveLength(0);
    await api('POST', `/v2/payments/${payment.id}/capture`, {});
    await receiver.waitFor(2);
    expect(bodies().map((b) => b.action ?? b.status)).toEqual(['CAPTURE', 'AUTHORIZED']);

    await api('POST', `/v2/payments/${payment.id}/refund`, {});
    await sleep(30);
    expect(receiver.hits).toHaveLength(2);
    await standIn.merchant.flushCallbacks();
    expect(bodies().map((b) => b.action ?? b.status)).toEqual(['CAPTURE', 'AUTHORIZED', 'REFUND']);

    standIn.merchant.setCallbackMode({ mode: 'out-of-order', holdMs: 40 });
    const lonely = await create('order-ooo-2');
    await standIn.merchant.approve(lonely.id);
    await receiver.waitFor(4);
    expect(bodies()[3]).toMatchObject({ paymentId: lonely.id, status: 'AUTHORIZED' });
  });

  it('forged: a callback with an altered sig and one on another order, before the genuine one; never retried', async () => {
    receiver.respond = (hit) => (hit.url.includes(`sig=${SIG}`) && !hit.url.includes('-forged') ? 204 : 403);
    const other = await create('order-victim');
    const payment = await create('order-spoof');
    standIn.merchant.setCallbackMode({ mode: 'forged' });
    await standIn.merchant.approve(payment.id);
    await receiver.waitFor(3);
    await standIn.merchant.settled();
    const records = standIn.merchant.callbacks();
    expect(records.map((c) => [c.forged, c.status])).toEqual([
      ['bad-sig', 403],
      ['other-ref', 204],
      [undefined, 204],
    ]);
    const genuine = callbackUrl('authorization', 'order-spoof');
    expect(records[0].url).not.toBe(genuine);
    expect(records[0].url.replace(/sig=[0-9a-f]+/, '')).toBe(genuine.replace(/sig=[0-9a-f]+/, ''));
    expect(records[1].url).toBe(callbackUrl('authorization', other.order.orderReference));
    expect(records[2].url).toBe(genuine);
    expect(records.every((c) => c.body.paymentId === payment.id)).toBe(true);

    // With no other order around, other-ref alters the ref (keeping the sig).
    standIn.reset();
    receiver.hits.length = 0;
    const alone = await create('order-alone');
    standIn.merchant.setCallbackMode({ mode: 'forged', variant: 'other-ref', genuine: false });
    await standIn.merchant.decline(alone.id);
    await receiver.waitFor(1);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks()).toEqual([expect.objectContaining({ forged: 'other-ref', status: 403, url: expect.stringContaining('ref=order-alone-forged&sig=') })]);
  });

  it('none: nothing is sent; `only` limits a mode to one kind of callback', async () => {
    standIn.merchant.setCallbackMode({ mode: 'none' });
    const payment = await create('order-none');
    await submit(payment, 'approve');
    await standIn.merchant.settled();
    await sleep(20);
    expect(receiver.hits).toHaveLength(0);

    standIn.merchant.setCallbackMode({ mode: 'none', only: 'authorization' });
    await api('POST', `/v2/payments/${payment.id}/capture`, {});
    await receiver.waitFor(1);
    expect(bodies()[0]).toMatchObject({ action: 'CAPTURE' });
    expect(() => standIn.merchant.setCallbackMode({ mode: 'teleport' } as never)).toThrow(TypeError);
    expect(() => standIn.merchant.setCallbackMode({ mode: 'duplicate', times: 1 })).toThrow(/times/);
  });
});

describe('callback delivery', () => {
  it('a 503 from the shop makes Resurs deliver again, up to maxAttempts, recorded per attempt', async () => {
    standIn.merchant.setCallbackDelivery({ maxAttempts: 3, retryIntervalMs: 10 });
    const statuses = [503, 500];
    receiver.respond = () => statuses.shift() ?? 204;
    const payment = await create('order-retry');
    await standIn.merchant.approve(payment.id);
    await receiver.waitFor(3);
    await standIn.merchant.settled();
    const records = standIn.merchant.callbacks();
    expect(records.map((c) => [c.attempt, c.status])).toEqual([
      [1, 503],
      [2, 500],
      [3, 204],
    ]);
    expect(new Set(records.map((c) => c.deliveryId)).size).toBe(1);
    expect(new Set(receiver.hits.map((hit) => hit.body)).size).toBe(1);

    receiver.respond = () => 503;
    standIn.merchant.setCallbackDelivery({ maxAttempts: 2 });
    await api('POST', `/v2/payments/${payment.id}/capture`, {});
    await receiver.waitFor(5);
    await standIn.merchant.settled();
    await sleep(30);
    expect(receiver.hits).toHaveLength(5);
    expect(() => standIn.merchant.setCallbackDelivery({ maxAttempts: 0 })).toThrow(TypeError);
  });

  it('a receiver that does not answer in time is recorded as a timeout and retried', async () => {
    standIn.merchant.setCallbackDelivery({ maxAttempts: 2, retryIntervalMs: 0, timeoutMs: 50 });
    receiver.respond = () => new Promise(() => undefined);
    const payment = await create('order-timeout');
    await standIn.merchant.approve(payment.id);
    await receiver.waitFor(2);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks().map((c) => [c.attempt, c.error, c.status])).toEqual([
      [1, 'timeout', undefined],
      [2, 'timeout', undefined],
    ]);
  });

  it('only loopback URLs are called; others are refused and recorded, without retries', async () => {
    const far = {
      ...paymentBody('order-far'),
      options: { callbacks: { authorization: { url: 'http://192.0.2.10/cb?ref=order-far&sig=00' } }, redirectionUrls: { customer: { successUrl: 'https://shop.example/ok' } } },
    };
    const res = await api('POST', '/v2/payments', far);
    expect(res.status).toBe(201);
    await standIn.merchant.approve(res.body.id);
    await standIn.merchant.settled();
    expect(standIn.merchant.callbacks()).toEqual([expect.objectContaining({ attempt: 1, error: 'refused: not a loopback URL', url: 'http://192.0.2.10/cb?ref=order-far&sig=00' })]);
    expect(receiver.hits).toHaveLength(0);
  });
});

describe('faults', () => {
  it('record-then-drop: the payment exists and is searchable, but the client gets no answer', async () => {
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-drop' }] });
    const result = await raw('/v2/payments', paymentBody('order-cut'));
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/ECONNRESET|socket hang up/);
    const found = await search('order-cut');
    expect(found.body.content).toHaveLength(1);
    expect(found.body.content[0]).toMatchObject({ status: 'TASK_REDIRECTION_REQUIRED', taskRedirectionUrls: { customerUrl: expect.any(String) } });
    expect(standIn.merchant.payments({ orderReference: 'order-cut' })).toHaveLength(1);
  });

  it('record-then-hang: recorded, then no answer until the client gives up; record-then-status answers after recording', async () => {
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'record-then-hang' }, { kind: 'record-then-status', status: 500 }] });
    const hung = await raw('/v2/payments', paymentBody('order-hang'), 150);
    expect(hung.timedOut).toBe(true);
    expect(standIn.merchant.payments({ orderReference: 'order-hang' })).toHaveLength(1);
    const failed = await raw('/v2/payments', paymentBody('order-500'));
    expect(failed.status).toBe(500);
    expect(standIn.merchant.payments({ orderReference: 'order-500' })).toHaveLength(1);
  });

  it('status, drop and hang act before anything is recorded; latency then answers normally', async () => {
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'status', status: 503, headers: { 'Retry-After': '1' } }, { kind: 'drop' }, { kind: 'hang' }, { kind: 'latency', ms: 80 }] });
    const unavailable = await raw('/v2/payments', paymentBody('order-f'));
    expect(unavailable.status).toBe(503);
    expect((await raw('/v2/payments', paymentBody('order-f'))).error).toMatch(/ECONNRESET|socket hang up/);
    expect((await raw('/v2/payments', paymentBody('order-f'), 100)).timedOut).toBe(true);
    expect(standIn.merchant.payments()).toHaveLength(0);
    const started = Date.now();
    expect((await raw('/v2/payments', paymentBody('order-f'))).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(standIn.merchant.payments()).toHaveLength(1);
    expect(standIn.merchant.requests()).toHaveLength(4);
  });

  it('garbage answers come after the payment was recorded; customer-url changes the redirect target', async () => {
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'malformed-json' }, { kind: 'reset-mid-answer' }, { kind: 'customer-url', url: 'http://evil.example/approve' }] });
    const malformed = await raw('/v2/payments', paymentBody('order-g1'));
    expect(malformed.status).toBe(201);
    expect(() => JSON.parse(malformed.body) as unknown).toThrow();
    const partial = await raw('/v2/payments', paymentBody('order-g2'));
    expect(partial.status).toBe(201);
    expect(() => JSON.parse(partial.body) as unknown).toThrow();
    const evil = await create('order-g3');
    expect(evil.taskRedirectionUrls).toEqual({ customerUrl: 'http://evil.example/approve' });
    expect(standIn.merchant.payments().map((p) => p.order.orderReference)).toEqual(['order-g1', 'order-g2', 'order-g3']);
  });

  it('lookup faults hit get and search only; action faults hit capture/cancel/refund only', async () => {
    const payment = await create('order-l');
    standIn.merchant.setLookupFaults({ queue: [{ kind: 'status', status: 502 }, { kind: 'wrong-shape' }] });
    expect((await api('POST', '/v2/payments/search', { storeId: STORE, orderReference: 'order-l' })).status).toBe(502);
    const wrong = await api<Record<string, unknown>>('GET', `/v2/payments/${payment.id}`);
    expect(wrong.status).toBe(200);
    expect(wrong.body.id).toBe(12345);
    expect((await api('GET', `/v2/payments/${payment.id}`)).body.id).toBe(payment.id);

    await standIn.merchant.approve(payment.id);
    standIn.merchant.setActionFaults({ queue: [{ kind: 'record-then-drop' }] });
    const cut = await raw(`/v2/payments/${payment.id}/capture`, {});
    expect(cut.status).toBeUndefined();
    expect(standIn.merchant.payment(payment.id)?.order.capturedAmount).toBe(249);
    await receiver.waitFor(2);
    expect(bodies().map((b) => b.action ?? b.status)).toEqual(['AUTHORIZED', 'CAPTURE']);
    expect(() => standIn.merchant.setActionFaults({ always: { kind: 'teleport' } } as never)).toThrow(TypeError);
  });
});

describe('control routes and reset', () => {
  const control = async (name: string, body?: unknown, method = 'POST'): Promise<{ status: number; data: Record<string, unknown> }> => {
    const res = await fetch(`${standIn.url}/__stand-in/${name}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: method === 'GET' ? undefined : body === undefined ? '' : JSON.stringify(body),
    });
    return { status: res.status, data: (await res.json()) as Record<string, unknown> };
  };

  it('steer faults, callback mode and delivery; approve; list payments, callbacks and requests', async () => {
    expect((await control('payment-faults', { queue: [{ kind: 'status', status: 503 }] })).status).toBe(200);
    expect((await api('POST', '/v2/payments', paymentBody('order-c'))).status).toBe(503);
    expect((await control('callback-mode', { mode: 'duplicate', times: 2 })).status).toBe(200);
    expect((await control('callback-delivery', { retryIntervalMs: 5 })).status).toBe(200);
    const payment = await create('order-c');
    const approved = await control(`payments/${payment.id}/approve`, {});
    expect(approved.status).toBe(200);
    expect(approved.data).toMatchObject({ payment: { status: 'ACCEPTED' }, location: 'https://shop.example/thanks?ref=order-c' });
    expect((await control(`payments/${payment.id}/decline`)).status).toBe(409);
    expect((await control('payments/unknown/approve')).status).toBe(404);
    expect((await control(`payments/${payment.id}/approve`, { outcome: 'PAID' })).status).toBe(400);
    await receiver.waitFor(2);
    await standIn.merchant.settled();

    const listed = await control('payments?orderReference=order-c', undefined, 'GET');
    expect((listed.data.payments as MerchantPayment[]).map((p) => p.id)).toEqual([payment.id]);
    expect(((await control('callbacks', undefined, 'GET')).data.callbacks as CallbackRecord[]).map((c) => c.status)).toEqual([204, 204]);
    expect((await control('merchant-requests', undefined, 'GET')).data.requests).toHaveLength(2);
    expect((await control('merchant-stats', undefined, 'GET')).data).toEqual({ merchantRequests: 2, payments: 1, callbacks: 2 });
    expect((await control('stats', undefined, 'GET')).data).toEqual({ sessionRequests: 0, tokenRequests: 0 });

    expect((await control('callback-mode', { mode: 'out-of-order' })).status).toBe(200);
    const held = await create('order-c2');
    expect((await control(`payments/${held.id}/status`, { status: 'ACCEPTED' })).status).toBe(200);
    expect((await control(`payments/${held.id}/status`, { status: 'PAID' })).status).toBe(400);
    await api('POST', `/v2/payments/${held.id}/capture`, {});
    await sleep(20);
    expect(receiver.hits).toHaveLength(2);
    expect((await control('flush-callbacks')).status).toBe(200);
    expect(receiver.hits).toHaveLength(3);

    expect((await control('callback-mode', { mode: 'teleport' })).status).toBe(400);
    expect((await control('lookup-faults', { always: { kind: 'teleport' } })).status).toBe(400);
    expect((await control('callback-delivery', { timeoutMs: 0 })).status).toBe(400);
    expect((await control('payments', undefined, 'POST')).status).toBe(405);
    expect((await control('callback-mode', undefined, 'GET')).status).toBe(405);

    expect((await control('reset')).status).toBe(200);
    expect(standIn.merchant.payments()).toEqual([]);
    expect(standIn.merchant.requests()).toEqual([]);
    expect(standIn.merchant.callbacks()).toEqual([]);
    expect((await control('merchant-stats', undefined, 'GET')).data).toEqual({ merchantRequests: 0, payments: 0, callbacks: 0 });
  });

  it('reset() drops scheduled callbacks and goes back to normal delivery', async () => {
    standIn.merchant.setCallbackMode({ mode: 'delay', ms: 100 });
    const payment = await create('order-r');
    await standIn.merchant.approve(payment.id);
    standIn.reset();
    await sleep(150);
    expect(receiver.hits).toHaveLength(0);
    expect(standIn.merchant.payment(payment.id)).toBeUndefined();
    const next = await create('order-r2');
    await standIn.merchant.approve(next.id);
    await receiver.waitFor(1);
  });
});
