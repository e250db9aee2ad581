/**
 * What a callback request must look like: POST, JSON, at most 4 KiB, the documented shape.
 * With and without a shop-wide `app.use(express.json())` before the router.
 */
import http from 'node:http';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { callbackPathOf, merchantRequests, startCallbacksShop } from '../helpers/callbacks-app';
import type { CallbacksShop } from '../helpers/callbacks-app';
import { expectProblem } from '../helpers/problem';

let standIn: StandIn;
let orders = 0;

beforeAll(async () => {
  standIn = await startStandIn();
});
afterAll(() => standIn.close());

/** POSTs `chunks` with Transfer-Encoding: chunked; resolves to the status. */
function chunkedPost(origin: string, path: string, chunks: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${origin}${path}`, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe.each([
  ['without a shop body parser', false],
  ['behind a shop-wide express.json()', true],
])('%s', (_name, shopJsonParser) => {
  let shop: CallbacksShop;
  let paymentId: string;
  let auth: string;
  let management: string;

  beforeAll(async () => {
    shop = await startCallbacksShop({ standIn, shopJsonParser });
  });
  afterAll(() => shop.close());
  beforeEach(async () => {
    standIn.reset();
    shop.calls.length = 0;
    ({ paymentId } = await shop.createPayment(`BODY-${String(shopJsonParser)}-${++orders}`));
    standIn.merchant.setCallbackMode({ mode: 'none' });
    await standIn.merchant.approve(paymentId);
    auth = callbackPathOf(standIn, paymentId, 'authorization');
    management = callbackPathOf(standIn, paymentId, 'management');
  });

  const json = (path: string, text: string, contentType = 'application/json') => shop.http().post(path).set('Content-Type', contentType).send(text);

  it.each<[string, unknown, string[]]>([
    ['an empty object', {}, ['paymentId', 'status']],
    ['an unknown status', { paymentId: 'p-1', status: 'PAID' }, ['status']],
    ['a numeric paymentId', { paymentId: 42, status: 'AUTHORIZED' }, ['paymentId']],
    ['a paymentId too long', { paymentId: 'x'.repeat(129), status: 'AUTHORIZED' }, ['paymentId']],
    ['a paymentId with a slash', { paymentId: '../capture', status: 'AUTHORIZED' }, ['paymentId']],
    ['an array', [{ paymentId: 'p-1', status: 'AUTHORIZED' }], ['']],
  ])('authorization with %s: 400 invalid_request with errors; nothing looked up, no hook', async (_case, body, paths) => {
    const res = await json(auth, JSON.stringify(body));
    const problem = expectProblem(res, 400, 'invalid_request');
    expect((problem.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(paths.sort());
    expect(merchantRequests(standIn, 'get')).toBe(0);
    expect(shop.calls).toHaveLength(0);
  });

  it('management without actionId, with an unknown action: 400 listing both', async () => {
    const res = await json(management, JSON.stringify({ paymentId, action: 'DEBIT' }));
    const problem = expectProblem(res, 400, 'invalid_request');
    expect((problem.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['action', 'actionId']);
  });

  it('a shape error with a bad signature is 403: the gate comes first', async () => {
    expectProblem(await json('/checkout/callbacks/authorization?ref=x&sig=00', '{}'), 403, 'callback_refused');
  });

  it('malformed JSON is 400', async () => {
    const res = await json(auth, '{"paymentId": ');
    expect(res.status).toBe(400);
    // Without a shop parser the router answers; behind one, Express hands the parser's error to the
    // shop (a mounted router is skipped in error mode), as the README says.
    if (!shopJsonParser) expect(expectProblem(res, 400, 'invalid_request').errors).toEqual([{ path: '', message: 'malformed JSON' }]);
    expect(shop.calls).toHaveLength(0);
  });

  it('non-JSON is 415, whatever the body', async () => {
    expectProblem(await json(auth, `paymentId=${paymentId}&status=AUTHORIZED`, 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    expectProblem(await json(auth, JSON.stringify({ paymentId, status: 'AUTHORIZED' }), 'text/plain'), 415, 'unsupported_media_type');
    const utf16 = await json(auth, JSON.stringify({ paymentId, status: 'AUTHORIZED' }), 'application/json; charset=utf-16');
    // Behind a shop parser that one is the shop parser's to refuse (it decodes first).
    if (shopJsonParser) expect(utf16.status).toBe(400);
    else expectProblem(utf16, 415, 'unsupported_media_type');
    expect(shop.calls).toHaveLength(0);
  });

  it.each(['get', 'put', 'delete', 'patch'] as const)('%s is 405 with Allow: POST', async (method) => {
    for (const path of [auth, management]) {
      const res = await shop.http()[method](path);
      expectProblem(res, 405, 'method_not_allowed');
      expect(res.headers.allow).toBe('POST');
    }
  });

  it('a body over 4 KiB is 413 (announced or chunked); one of 3 KiB is handled', async () => {
    const big = JSON.stringify({ paymentId, status: 'AUTHORIZED', pad: 'x'.repeat(4200) });
    expectProblem(await json(auth, big), 413, 'payload_too_large');
    expect(await chunkedPost(shop.url, auth, ['{"paymentId": "', paymentId, '", "status": "AUTHORIZED", "pad": "', 'x'.repeat(4200), '"}'])).toBe(413);
    expect(shop.calls).toHaveLength(0);
    expect(merchantRequests(standIn, 'get')).toBe(0);
    // Extra fields are ignored; 3 KiB is within the callback limit (which is not the storefront's 1 KiB).
    const fine = JSON.stringify({ paymentId, status: 'AUTHORIZED', created: new Date().toISOString(), pad: 'x'.repeat(3000) });
    expect((await json(auth, fine)).status).toBe(204);
    expect(shop.calls).toHaveLength(1);
  });

  it('a well-formed callback is handled (204, Cache-Control: no-store, X-Request-Id echoed)', async () => {
    const res = await shop
      .http()
      .post(auth)
      .set('Content-Type', 'application/json; charset=utf-8')
      .set('X-Request-Id', 'resurs-cb-1')
      .send(JSON.stringify({ paymentId, status: 'AUTHORIZED', created: new Date().toISOString() }));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toBe('resurs-cb-1');
    expect(shop.calls).toHaveLength(1);
    expect(shop.calls[0]!.requestId).toBe('resurs-cb-1');
  });
});
