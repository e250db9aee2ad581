/**
 * The endpoint's contract, storefront side: methods, media types, bodies, the body limit
 * (chunked too), request ids, the problem shape and the campaign rules. Every request goes
 * through an app built the way the README tells a merchant, against the real stand-in.
 */
import express from 'express';
import type { Express } from 'express';
import request from 'supertest';
import { startHarness } from '../helpers/checkout-app';
import type { CheckoutHarness } from '../helpers/checkout-app';
import { expectProblem } from '../helpers/problem';
import { rawRequest } from '../helpers/raw-request';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Asserts the RFC 9457 problem answer the contract describes, and returns its body. */

let harness: CheckoutHarness;
let app: Express;

beforeAll(async () => {
  harness = await startHarness();
  app = harness.app();
});

afterAll(async () => {
  await harness.close();
});

beforeEach(() => {
  harness.standIn.reset();
  harness.lines.length = 0;
});

describe('success', () => {
  it('answers 201 with exactly {id, expiresAt, embed: {src}} and Cache-Control: no-store', async () => {
    const res = await request(app).post('/checkout/session').set('Content-Type', 'application/json').send('{}');
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(Object.keys(res.body).sort()).toEqual(['embed', 'expiresAt', 'id']);
    expect(Object.keys(res.body.embed)).toEqual(['src']);
    expect(typeof res.body.id).toBe('string');
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(res.body.embed.src.startsWith(harness.standIn.scriptOrigin + '/')).toBe(true);
    expect(harness.standIn.sessionRequests).toHaveLength(1);
  });

  it('treats an empty body without Content-Type as no campaign', async () => {
    const res = await request(app).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({});
  });

  it('treats an empty body with a JSON Content-Type as no campaign', async () => {
    const res = await request(app).post('/checkout/session').set('Content-Type', 'application/json');
    expect(res.status).toBe(201);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({});
  });

  it('accepts JSON with a charset parameter and forwards the campaign', async () => {
    const res = await request(app)
      .post('/checkout/session')
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ campaign: 'SUMMER_SALE' }));
    expect(res.status).toBe(201);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({ campaign: 'SUMMER_SALE' });
  });

  it('accepts a chunked JSON body within the limit', async () => {
    const res = await rawRequest(app, {
      method: 'POST',
      path: '/checkout/session',
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      chunks: ['{"camp', 'aign": "BLACK_', 'FRIDAY"}'],
    });
    expect(res.status).toBe(201);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({ campaign: 'BLACK_FRIDAY' });
  });
});

describe('methods', () => {
  it.each(['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])('answers %s with 405, Allow: POST and a problem body', async (method) => {
    const res = await rawRequest(app, { method, path: '/checkout/session' });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    expect(body.code).toBe('method_not_allowed');
    expect(body.requestId).toBe(res.headers['x-request-id']);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('answers HEAD with 405 and Allow: POST', async () => {
    const res = await request(app).head('/checkout/session');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.headers['x-request-id']).toMatch(UUID);
  });
});

describe('media types', () => {
  it.each([
    ['text/plain', '{"campaign":"SUMMER_SALE"}'],
    ['application/x-www-form-urlencoded', 'campaign=SUMMER_SALE'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="campaign"\r\n\r\nSUMMER_SALE\r\n--x--\r\n'],
  ])('answers %s with 415 without calling Resurs', async (type, body) => {
    const res = await request(app).post('/checkout/session').set('Content-Type', type).send(body);
    expectProblem(res, 415, 'unsupported_media_type');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('answers 415 for a non-JSON Content-Type even when the body is empty', async () => {
    const res = await request(app).post('/checkout/session').set('Content-Type', 'text/plain');
    expectProblem(res, 415, 'unsupported_media_type');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('answers 415 for a body sent without any Content-Type', async () => {
    const res = await rawRequest(app, {
      method: 'POST',
      path: '/checkout/session',
      headers: { 'Content-Length': '2' },
      chunks: ['{}'],
    });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.text).code).toBe('unsupported_media_type');
  });
});

describe('request body', () => {
  const post = (body: string) => request(app).post('/checkout/session').set('Content-Type', 'application/json').send(body);

  it('answers malformed JSON with 400 invalid_request and an errors list', async () => {
    const body = expectProblem(await post('{"campaign": '), 400, 'invalid_request');
    expect(Array.isArray(body.errors)).toBe(true);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"SUMMER_SALE"'],
    ['a number', '42'],
    ['null', 'null'],
  ])('answers %s instead of an object with 400', async (_what, text) => {
    expectProblem(await post(text), 400, 'invalid_request');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('answers unknown fields with 400 naming each field', async () => {
    const body = expectProblem(await post(JSON.stringify({ campaign: 'SUMMER_SALE', amount: 100, coupon: 'x' })), 400, 'invalid_request');
    const paths = (body.errors as Array<{ path: string; message: string }>).map((e) => e.path).sort();
    expect(paths).toEqual(['amount', 'coupon']);
    for (const error of body.errors as Array<{ path: string; message: string }>) expect(error.message.length).toBeGreaterThan(0);
  });

  it('refuses a __proto__ field instead of merging it', async () => {
    expectProblem(await post('{"__proto__": {"campaign": "SUMMER_SALE"}}'), 400, 'invalid_request');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it.each([
    ['a number', 123],
    ['null', null],
    ['an empty string', ''],
    ['65 characters', 'A'.repeat(65)],
    ['a space', 'SUMMER SALE'],
    ['a dot', 'SUMMER.SALE'],
    ['non-ASCII letters', 'SOMMARREA_Å'],
    ['an object', { name: 'SUMMER_SALE' }],
  ])('answers a campaign that is %s with 400 on path "campaign"', async (_what, campaign) => {
    const body = expectProblem(await post(JSON.stringify({ campaign })), 400, 'invalid_request');
    expect((body.errors as Array<{ path: string }>).map((e) => e.path)).toEqual(['campaign']);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('accepts a campaign of exactly 64 characters of every allowed kind', async () => {
    const campaign = ('Az09_-'.repeat(11) + 'x').slice(0, 64);
    expect(campaign).toHaveLength(64);
    const res = await post(JSON.stringify({ campaign }));
    // The stand-in does not know this campaign: it must have been forwarded (and refused there).
    expect(harness.standIn.sessionRequests).toHaveLength(1);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({ campaign });
    expect(res.status).toBe(502);
  });

  it('answers a body over 1 KiB with 413', async () => {
    const res = await post(JSON.stringify({ campaign: 'SUMMER_SALE', pad: 'x'.repeat(1100) }));
    expectProblem(res, 413, 'payload_too_large');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('answers a chunked body over 1 KiB with 413', async () => {
    const res = await rawRequest(app, {
      method: 'POST',
      path: '/checkout/session',
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      chunks: ['{"campaign": "SUMMER_SALE", "pad": "', 'x'.repeat(600), 'x'.repeat(600), '"}'],
    });
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(res.text).code).toBe('payload_too_large');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('accepts a body of exactly 1 KiB', async () => {
    const prefix = '{"campaign": "SUMMER_SALE"';
    const text = prefix + ' '.repeat(1024 - prefix.length - 1) + '}';
    expect(Buffer.byteLength(text)).toBe(1024);
    const res = await post(text);
    expect(res.status).toBe(201);
  });
});

describe('request ids', () => {
  it('echoes a well-formed X-Request-Id, forwards it to Resurs and writes it in every log line', async () => {
    const id = 'order-42.cart:7_A-b';
    const res = await request(app).post('/checkout/session').set('X-Request-Id', id);
    expect(res.status).toBe(201);
    expect(res.headers['x-request-id']).toBe(id);
    expect(harness.standIn.sessionRequests[0]!.headers['x-request-id']).toBe(id);
    expect(harness.lines.length).toBeGreaterThan(0);
    for (const line of harness.lines) expect(line.fields.requestId).toBe(id);
  });

  it('accepts an id of 128 characters', async () => {
    const id = 'a'.repeat(128);
    const res = await request(app).post('/checkout/session').set('X-Request-Id', id);
    expect(res.headers['x-request-id']).toBe(id);
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with a space', 'order 42'],
    ['with a slash', 'a/b'],
    ['with a quote', 'a"b'],
  ])('replaces an id that is %s with a new UUID, in the header and the problem body', async (_what, id) => {
    const res = await request(app).post('/checkout/session').set('X-Request-Id', id).set('Content-Type', 'text/plain').send('x');
    const body = expectProblem(res, 415, 'unsupported_media_type');
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(body.requestId).toBe(res.headers['x-request-id']);
  });

  it('gives each request without an id its own UUID, also forwarded to Resurs', async () => {
    const first = await request(app).post('/checkout/session');
    const second = await request(app).post('/checkout/session');
    expect(first.headers['x-request-id']).toMatch(UUID);
    expect(second.headers['x-request-id']).toMatch(UUID);
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
    expect(harness.standIn.sessionRequests.map((r) => r.headers['x-request-id'])).toEqual([
      first.headers['x-request-id'],
      second.headers['x-request-id'],
    ]);
  });

  it('carries the id on 400, 405 and 413 answers too', async () => {
    const answers = await Promise.all([
      request(app).post('/checkout/session').set('X-Request-Id', 'r-400').set('Content-Type', 'application/json').send('{'),
      request(app).get('/checkout/session').set('X-Request-Id', 'r-405'),
      request(app)
        .post('/checkout/session')
        .set('X-Request-Id', 'r-413')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ pad: 'x'.repeat(2000) })),
    ]);
    expect(answers.map((r) => [r.status, r.headers['x-request-id'], JSON.parse(r.text).requestId])).toEqual([
      [400, 'r-400', 'r-400'],
      [405, 'r-405', 'r-405'],
      [413, 'r-413', 'r-413'],
    ]);
  });
});

describe('mounting in an existing shop', () => {
  it('serves a custom path and leaves the default path alone', async () => {
    const custom = harness.app({ path: '/api/pay' });
    expect((await request(custom).post('/api/pay')).status).toBe(201);
    expect((await request(custom).post('/checkout/session')).status).toBe(404);
  });

  it('works under a mount prefix and leaves the shop’s other routes alone', async () => {
    const shop = express();
    shop.use('/shop', harness.app());
    shop.get('/health', (_req, res) => {
      res.json({ ok: true });
    });
    shop.post('/notes', express.text(), (req, res) => {
      res.status(200).send(`got ${String(req.body)}`);
    });
    expect((await request(shop).post('/shop/checkout/session')).status).toBe(201);
    expect((await request(shop).get('/health')).body).toEqual({ ok: true });
    const note = await request(shop).post('/notes').set('Content-Type', 'text/plain').send('hello');
    expect(note.status).toBe(200);
    expect(note.text).toBe('got hello');
    expect(note.headers['x-request-id']).toBeUndefined();
  });

  it('holds the 1 KiB limit when the shop parses JSON globally before the router', async () => {
    // Malformed JSON is the shop's parser's to answer then (Express skips a mounted router in
    // error mode); the README tells merchants to mount the router before their own parsers.
    const shop = express();
    shop.use(express.json());
    shop.use(harness.app());
    const ok = await request(shop)
      .post('/checkout/session')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ campaign: 'SUMMER_SALE' }));
    expect(ok.status).toBe(201);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({ campaign: 'SUMMER_SALE' });
    expectProblem(
      await request(shop)
        .post('/checkout/session')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ campaign: 'SUMMER_SALE', pad: 'x'.repeat(2000) })),
      413,
      'payload_too_large',
    );
    const chunked = await rawRequest(shop, {
      method: 'POST',
      path: '/checkout/session',
      headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' },
      chunks: ['{"campaign": "SUMMER_SALE", "pad": "', 'x'.repeat(1200), '"}'],
    });
    expect(chunked.status).toBe(413);
    expectProblem(await request(shop).post('/checkout/session').set('Content-Type', 'text/plain').send('x'), 415, 'unsupported_media_type');
    expect(harness.standIn.sessionRequests).toHaveLength(1);
  });
});

describe('campaign rules', () => {
  const post = (target: Express, campaign?: string) => {
    const req = request(target).post('/checkout/session').set('Content-Type', 'application/json');
    return req.send(campaign === undefined ? '{}' : JSON.stringify({ campaign }));
  };

  describe('allow-list', () => {
    let listed: Express;
    beforeAll(() => {
      listed = harness.app({ campaigns: ['SUMMER_SALE', 'BLACK_FRIDAY'] });
    });

    it('forwards a listed campaign', async () => {
      expect((await post(listed, 'BLACK_FRIDAY')).status).toBe(201);
      expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({ campaign: 'BLACK_FRIDAY' });
    });

    it('answers an unlisted campaign with 422 campaign_not_allowed without calling Resurs', async () => {
      expectProblem(await post(listed, 'SPRING_2025'), 422, 'campaign_not_allowed');
      expectProblem(await post(listed, 'summer_sale'), 422, 'campaign_not_allowed');
      expect(harness.standIn.sessionRequests).toHaveLength(0);
    });

    it('always allows no campaign', async () => {
      expect((await post(listed)).status).toBe(201);
      expect((await request(listed).post('/checkout/session')).status).toBe(201);
      expect(harness.standIn.sessionRequests.map((r) => JSON.parse(r.body))).toEqual([{}, {}]);
    });
  });

  describe('time windows', () => {
    const hour = 3_600_000;
    let windowed: Express;
    beforeAll(() => {
      windowed = harness.app({
        campaigns: {
          SUMMER_SALE: { validFrom: new Date(Date.now() - hour), validUntil: new Date(Date.now() + hour).toISOString() },
          BLACK_FRIDAY: { validFrom: new Date(Date.now() + hour).toISOString() },
          SPRING_2025: { validUntil: new Date(Date.now() - hour) },
        },
      });
    });

    it('forwards a campaign inside its window', async () => {
      expect((await post(windowed, 'SUMMER_SALE')).status).toBe(201);
    });

    it('answers 422 campaign_not_started before the window', async () => {
      expectProblem(await post(windowed, 'BLACK_FRIDAY'), 422, 'campaign_not_started');
    });

    it('answers 422 campaign_expired after the window', async () => {
      expectProblem(await post(windowed, 'SPRING_2025'), 422, 'campaign_expired');
    });

    it('answers 422 campaign_not_allowed for a name without a window, and allows no campaign', async () => {
      expectProblem(await post(windowed, 'WINTER'), 422, 'campaign_not_allowed');
      expect((await post(windowed)).status).toBe(201);
      expect(harness.standIn.sessionRequests.map((r) => JSON.parse(r.body))).toEqual([{}]);
    });
  });

  describe('predicate', () => {
    it('is called with the campaign and the Express request, and its verdict is followed', async () => {
      const seen: Array<{ campaign: string; header: string | undefined }> = [];
      const judged = harness.app({
        campaigns: async (campaign, req) => {
          seen.push({ campaign, header: req.get('x-shopper-tier') });
          return req.get('x-shopper-tier') === 'gold';
        },
      });
      const gold = await post(judged, 'SUMMER_SALE').set('X-Shopper-Tier', 'gold');
      const plain = await post(judged, 'SUMMER_SALE').set('X-Shopper-Tier', 'basic');
      expect(gold.status).toBe(201);
      expectProblem(plain, 422, 'campaign_not_allowed');
      expect(seen).toEqual([
        { campaign: 'SUMMER_SALE', header: 'gold' },
        { campaign: 'SUMMER_SALE', header: 'basic' },
      ]);
      expect(harness.standIn.sessionRequests).toHaveLength(1);
    });

    it('is not called when no campaign is given', async () => {
      const predicate = jest.fn(() => false);
      const judged = harness.app({ campaigns: predicate });
      expect((await post(judged)).status).toBe(201);
      expect(predicate).not.toHaveBeenCalled();
    });

    it('runs only on well-formed campaigns', async () => {
      const predicate = jest.fn(() => true);
      const judged = harness.app({ campaigns: predicate });
      expectProblem(await post(judged, 'bad name'), 400, 'invalid_request');
      expect(predicate).not.toHaveBeenCalled();
    });

    it('answers a predicate that throws with a bare 500, logging the bug without leaking it', async () => {
      const judged = harness.app({
        campaigns: () => {
          throw new Error('predicate exploded: db_password=hunter2');
        },
      });
      const res = await post(judged, 'SUMMER_SALE');
      const body = expectProblem(res, 500, 'internal_error');
      expect(res.text).not.toContain('hunter2');
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
      expect(String(body.detail)).not.toContain('predicate exploded');
      expect(harness.lines.some((line) => line.level === 'error')).toBe(true);
      expect(harness.standIn.sessionRequests).toHaveLength(0);
    });
  });
});
