/**
 * What the storefront gets back when Resurs (or the token source) says something unusual:
 * Retry-After always whole seconds (1 to 3600) on every 503, whatever Resurs sent or did not send;
 * the token endpoint's 429; and Resurs' session answers that must not reach a browser (impossible
 * dates, ids that are not URL-safe, scripts with whitespace, backslashes, user info or quotes,
 * sessions about to expire), with `embed.src` passed on normalised. Real stand-in throughout.
 */
import request from 'supertest';
import type { Response } from 'supertest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import type { Fault } from '../../demo-app/resurs-stand-in';
import type { CheckoutRouterOptions } from '../../src';
import { useHarness } from '../helpers/checkout-app';
import { closedPort } from '../helpers/loopback-servers';
import { expectProblem, expectRetryAfter } from '../helpers/problem';

const harness = useHarness();

const fast = { retries: 0, breaker: false as const };
const status = (code: number, headers?: Record<string, string>): Fault => ({ kind: 'status', status: code, ...(headers ? { headers } : {}) });

function post(options: Partial<CheckoutRouterOptions> = {}): Promise<Response> {
  return request(harness.app({ breaker: false, ...options }))
    .post('/checkout/session')
    .set('Content-Type', 'application/json')
    .send('{}');
}

/** ISO 8601 instant `ms` from now, to the second. */
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe("Resurs' Retry-After is passed on as whole seconds, 1 to 3600", () => {
  it.each([
    ['1e+21', 'ignored: not delta-seconds'],
    ['Infinity', 'ignored'],
    ['-5', 'ignored'],
    ['1.5', 'ignored'],
    ['0x10', 'ignored'],
    ['0', 'at least 1'],
  ])('%s from a 503 (%s): a whole number of seconds', async (value) => {
    harness.standIn.setFaults({ always: status(503, { 'Retry-After': value }) });
    const res = await post(fast);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).not.toBe(value);
  });

  it.each([
    ['a 30-digit number', '123456789012345678901234567890'],
    ['a 13-digit number', '9999999999999'],
    ['a day', '86400'],
    ['an HTTP date far ahead', 'Fri, 31 Dec 9999 23:59:59 GMT'],
  ])('%s from a 503 or a 429 is capped at an hour: 3600', async (_what, value) => {
    for (const code of [503, 429]) {
      harness.standIn.setFaults({ always: status(code, { 'Retry-After': value }) });
      const res = await post(fast);
      expectProblem(res, 503, 'upstream_unavailable');
      expect(res.headers['retry-after']).toBe('3600');
    }
  });

  it('a huge Retry-After ends the retries at once (past the deadline), still capped: 1 call, 3600', async () => {
    harness.standIn.setFaults({ always: status(429, { 'Retry-After': '1'.repeat(30) }) });
    const res = await post({ retries: 2 });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('3600');
    expect(harness.standIn.sessionRequests).toHaveLength(1);
  });

  it('an in-range value is passed on as is', async () => {
    harness.standIn.setFaults({ always: status(503, { 'Retry-After': '42' }) });
    const res = await post(fast);
    expectProblem(res, 503, 'upstream_unavailable');
    expect(expectRetryAfter(res)).toBe(42);
  });
});

describe('a 503 nobody gave a Retry-After for still carries one', () => {
  const credentials = () => ({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET });

  it('the token endpoint cannot be reached', async () => {
    const port = await closedPort();
    const res = await post({ ...fast, auth: { ...credentials(), tokenUrl: `http://127.0.0.1:${port}/oauth2/token` } });
    expectProblem(res, 503, 'upstream_unavailable', DEMO_CLIENT_SECRET);
    expectRetryAfter(res);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it.each([500, 502, 503])('the token endpoint answers %i without a Retry-After', async (code) => {
    harness.standIn.setTokenFaults({ always: status(code) });
    const res = await post({ ...fast, auth: { ...credentials(), tokenUrl: harness.standIn.tokenUrl } });
    expectProblem(res, 503, 'upstream_unavailable', DEMO_CLIENT_SECRET);
    expectRetryAfter(res);
    expect(harness.standIn.tokenRequests.length).toBeGreaterThanOrEqual(1);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('getToken throws', async () => {
    const res = await post({
      ...fast,
      auth: {
        getToken: () => {
          throw new Error('vault sealed: token=vault-secret-123');
        },
      },
    });
    expectProblem(res, 503, 'upstream_unavailable', 'vault-secret-123', 'vault sealed');
    expectRetryAfter(res);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it.each<[string, () => string | Promise<string>]>([
    ['""', () => ''],
    ['a promise of ""', async () => ''],
  ])('getToken returns %s', async (_what, getToken) => {
    const res = await post({ ...fast, auth: { getToken } });
    expectProblem(res, 503, 'upstream_unavailable');
    expectRetryAfter(res);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });
});

describe("the token endpoint's 429", () => {
  const auth = () => ({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl });

  it('answers 503 upstream_unavailable with a Retry-After, and Create Session is not called', async () => {
    harness.standIn.setTokenFaults({ always: status(429) });
    const res = await post({ ...fast, auth: auth() });
    expectProblem(res, 503, 'upstream_unavailable', DEMO_CLIENT_SECRET);
    expectRetryAfter(res);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it("passes on the token endpoint's own Retry-After", async () => {
    harness.standIn.setTokenFaults({ always: status(429, { 'Retry-After': '9' }) });
    const res = await post({ ...fast, auth: auth() });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('9');
  });

  it('is not cached: the next request fetches a token again and succeeds', async () => {
    harness.standIn.setTokenFaults({ queue: [status(429)] });
    const app = harness.app({ ...fast, auth: auth() });
    expectProblem(await request(app).post('/checkout/session'), 503, 'upstream_unavailable');
    expect((await request(app).post('/checkout/session')).status).toBe(201);
    expect(harness.standIn.tokenRequests).toHaveLength(2);
  });
});

describe("checking Resurs' session answer", () => {
  const answer = (body: unknown) => harness.standIn.setFaults({ queue: [{ kind: 'status', status: 201, body }] });
  const session = (overrides: Record<string, unknown> = {}) => ({
    id: 'sess-ok',
    expiresAt: fromNow(3_600_000),
    embed: { src: 'https://cdn.resurs.example/pe.js' },
    ...overrides,
  });

  async function refused(body: unknown): Promise<Response> {
    answer(body);
    const res = await post();
    expectProblem(res, 502, 'upstream_error');
    expect(res.headers['retry-after']).toBeUndefined();
    expect(harness.standIn.sessionRequests).toHaveLength(1); // an invalid answer is not retried
    expect(harness.lines.some((l) => l.level === 'error' && /refused/.test(String(l.fields.reason)))).toBe(true);
    return res;
  }

  it.each([
    ['30 February', '2099-02-30T00:00:00Z'],
    ['31 April', '2099-04-31T12:00:00Z'],
    ['29 February of a common year', '2099-02-29T00:00:00Z'],
    ['month 13', '2099-13-01T00:00:00Z'],
    ['hour 24', '2099-01-01T24:00:00Z'],
    ['minute 60', '2099-01-01T12:60:00Z'],
    ['an offset of +25:00', '2099-01-01T12:00:00+25:00'],
  ])('refuses an expiresAt on %s (%s): 502', async (_what, expiresAt) => {
    const res = await refused(session({ expiresAt }));
    expect(res.text).not.toContain('sess-ok');
  });

  it('accepts 29 February of a leap year', async () => {
    answer(session({ expiresAt: '2096-02-29T00:00:00Z' }));
    const res = await post();
    expect(res.status).toBe(201);
    expect(res.body.expiresAt).toBe('2096-02-29T00:00:00Z');
  });

  it.each([
    ['20 s', 20_000],
    ['1 s', 1_000],
  ])('refuses a session that expires in %s (less than 30 s): 502', async (_what, ms) => {
    await refused(session({ expiresAt: new Date(Date.now() + ms).toISOString() }));
  });

  it('accepts a session with a minute left', async () => {
    answer(session({ expiresAt: new Date(Date.now() + 60_000).toISOString() }));
    expect((await post()).status).toBe(201);
  });

  it.each([
    ['a slash', 'sess/1'],
    ['a space', 'sess 1'],
    ['a question mark', 'sess?x=1'],
    ['a hash', 'sess#1'],
    ['a percent sign', 'sess%2F1'],
    ['a quote', 'sess"1'],
    ['a non-ASCII letter', 'sessä'],
    ['a newline', 'sess\n1'],
  ])('refuses a session id with %s: 502', async (_what, id) => {
    await refused(session({ id }));
  });

  it('accepts an id of every URL-safe character', async () => {
    const id = 'AZaz09._~-';
    answer(session({ id }));
    const res = await post();
    expect(res.status).toBe(201);
    expect(res.body.id).toBe(id);
  });

  it.each([
    ['a trailing space', 'https://cdn.resurs.example/pe.js '],
    ['a space in the path', 'https://cdn.resurs.example/p e.js'],
    ['a tab', 'https://cdn.resurs.example/\tpe.js'],
    ['a newline', 'https://cdn.resurs.example/pe.js\n'],
    ['a backslash', 'https://cdn.resurs.example\\pe.js'],
    ['backslashes for slashes', 'https:\\\\evil.example\\pe.js'],
    ['a user', 'https://user@cdn.resurs.example/pe.js'],
    ['a user and password', 'https://user:pass@cdn.resurs.example/pe.js'],
    ['a double quote', 'https://cdn.resurs.example/pe.js"onload="alert(1)'],
    ['a single quote', "https://cdn.resurs.example/pe.js'"],
    ['angle brackets', 'https://cdn.resurs.example/<script>.js'],
    ['a backtick', 'https://cdn.resurs.example/`pe`.js'],
  ])('refuses an embed.src with %s: 502', async (_what, src) => {
    const res = await refused(session({ embed: { src } }));
    expect(res.text).not.toContain('cdn.resurs.example');
    expect(res.text).not.toContain('evil.example');
  });

  it.each([
    ['upper-case scheme and host', 'HTTPS://CDN.Resurs.EXAMPLE/pe.js', 'https://cdn.resurs.example/pe.js'],
    ['the default port', 'https://cdn.resurs.example:443/pe.js', 'https://cdn.resurs.example/pe.js'],
    ['dot segments', 'https://cdn.resurs.example/a/../b/./pe.js', 'https://cdn.resurs.example/b/pe.js'],
    ['no path', 'https://cdn.resurs.example', 'https://cdn.resurs.example/'],
    ['an IDN host', 'https://bücher.example/pe.js', 'https://xn--bcher-kva.example/pe.js'],
  ])('passes embed.src on normalised (%s)', async (_what, src, normalised) => {
    answer(session({ embed: { src } }));
    const res = await post();
    expect(res.status).toBe(201);
    expect(res.body.embed.src).toBe(normalised);
    expect(res.body.embed.src).toBe(new URL(src).href);
  });

  it('matches allowedScriptOrigins against the normalised origin', async () => {
    answer(session({ embed: { src: 'HTTPS://CDN.Resurs.example:443/pe.js' } }));
    const res = await post({ allowedScriptOrigins: ['https://cdn.resurs.example'] });
    expect(res.status).toBe(201);
    expect(res.body.embed.src).toBe('https://cdn.resurs.example/pe.js');
  });
});
