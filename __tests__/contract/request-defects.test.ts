/**
 * Defects found when the session endpoint was tried hard (issue "Ready for production"), each
 * told as the request that showed it.
 */
import { gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import type { Store } from 'express-rate-limit';
import { useHarness } from '../helpers/checkout-app';
import { expectProblem } from '../helpers/problem';
import { rawRequest } from '../helpers/raw-request';
import { logText } from '../helpers/recording-logger';

const harness = useHarness();
const json = { 'Content-Type': 'application/json' };

describe('media types', () => {
  it.each(['utf-16', 'utf-16le', 'UTF-7', '"utf-32"', 'latin1'])('refuses charset=%s with 415 and never calls Resurs', async (charset) => {
    const res = await request(harness.app())
      .post('/checkout/session')
      .set('Content-Type', `application/json; charset=${charset}`)
      .send('{}');
    expectProblem(res, 415, 'unsupported_media_type');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it.each(['utf-8', 'UTF-8', '"utf-8"'])('accepts charset=%s', async (charset) => {
    const res = await request(harness.app()).post('/checkout/session').set('Content-Type', `application/json; charset=${charset}`).send('{}');
    expect(res.status).toBe(201);
  });

  it('takes an empty chunked body without Content-Type as "no campaign"', async () => {
    const res = await rawRequest(harness.app(), { method: 'POST', path: '/checkout/session', headers: { 'Transfer-Encoding': 'chunked' }, chunks: [] });
    expect(res.status).toBe(201);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({});
  });

  it('refuses a non-empty chunked body without Content-Type with 415', async () => {
    const res = await rawRequest(harness.app(), {
      method: 'POST',
      path: '/checkout/session',
      headers: { 'Transfer-Encoding': 'chunked' },
      chunks: ['{"campaign":"SUMMER_SALE"}'],
    });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.text)).toMatchObject({ code: 'unsupported_media_type' });
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });
});

describe('behind a shop-wide express.json()', () => {
  const shopWithParser = () => {
    const shop = express();
    shop.use(express.json({ limit: '1mb', inflate: true }));
    shop.use(harness.app());
    return shop;
  };

  it('refuses a chunked body whose parsed size is over 1 KiB', async () => {
    const res = await rawRequest(shopWithParser(), {
      method: 'POST',
      path: '/checkout/session',
      headers: { ...json, 'Transfer-Encoding': 'chunked' },
      chunks: ['{"campaign":"SUMMER_SALE","pad":"', 'x'.repeat(1500), '"}'],
    });
    expect(res.status).toBe(413);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('refuses a gzip body that inflates past 1 KiB, though its wire size is small', async () => {
    const body = gzipSync(JSON.stringify({ campaign: 'SUMMER_SALE', pad: 'x'.repeat(5000) }));
    expect(body.length).toBeLessThan(1024);
    const res = await rawRequest(shopWithParser(), {
      method: 'POST',
      path: '/checkout/session',
      headers: { ...json, 'Content-Encoding': 'gzip', 'Content-Length': String(body.length) },
      chunks: [body],
    });
    expect(res.status).toBe(413);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('warns once, at the first such request, that the shop parser runs first', async () => {
    const shop = shopWithParser();
    for (let i = 0; i < 3; i++) {
      expect((await request(shop).post('/checkout/session').set(json).send('{}')).status).toBe(201);
    }
    const warnings = harness.lines.filter((l) => l.level === 'warn' && /body parser ran before the checkout router/.test(l.message));
    expect(warnings).toHaveLength(1);
  });
});

describe('the merchant campaign predicate', () => {
  it('that throws answers 500 and logs its name only, never its message or stack', async () => {
    const secret = 'db-password-hunter2';
    const app = harness.app({
      campaigns: () => {
        throw new TypeError(`cannot reach the campaign db with ${secret}`);
      },
    });
    const res = await request(app).post('/checkout/session').set(json).send('{"campaign":"SUMMER_SALE"}');
    expectProblem(res, 500, 'internal_error', secret);
    const text = logText(harness.lines);
    expect(text).not.toContain(secret);
    expect(text).not.toContain('at '); // no stack frames
    expect(harness.lines.find((l) => l.level === 'error')?.fields).toMatchObject({ hook: 'campaigns', errorName: 'TypeError' });
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('costs no Resurs call when the shopper leaves while it runs', async () => {
    let release!: (allowed: boolean) => void;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const app = harness.app({
      campaigns: () => {
        started();
        return new Promise<boolean>((resolve) => (release = resolve));
      },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const controller = new AbortController();
    const pending = fetch(`http://127.0.0.1:${port}/checkout/session`, {
      method: 'POST',
      headers: json,
      body: '{"campaign":"SUMMER_SALE"}',
      signal: controller.signal,
    }).catch(() => 'aborted');
    await running;
    controller.abort();
    expect(await pending).toBe('aborted');
    // Give the server a moment to see the close before the predicate answers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    release(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });
});

describe('the rate-limit store', () => {
  it('answering garbage fails open (201 and a warning), never 500', async () => {
    const garbage: Store = {
      increment: async () => ({ totalHits: Number.NaN, resetTime: undefined }) as never,
      decrement: async () => undefined,
      resetKey: async () => undefined,
    };
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 5, store: garbage } });
    const res = await request(app).post('/checkout/session').set(json).send('{}');
    expect(res.status).toBe(201);
    expect(harness.lines.some((l) => l.level === 'warn' && /rate limit: store failed/.test(l.message))).toBe(true);
  });
});
