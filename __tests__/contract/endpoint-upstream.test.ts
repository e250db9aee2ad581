/**
 * The endpoint's contract, Resurs side: what the upstream call looks like, how Resurs' answer
 * is checked before the storefront sees it, how upstream errors map to the error table, that
 * no secret ever reaches a response or a log line, and the hooks. Real stand-in throughout.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Response } from 'supertest';
import { FAULT_RAW_SECRET_MARKER, FOREIGN_SCRIPT_URL } from '../../demo-app/resurs-stand-in';
import type { CheckoutErrorEvent, SessionCreatedEvent } from '../../src';
import { startHarness } from '../helpers/checkout-app';
import type { CheckoutHarness } from '../helpers/checkout-app';
import { logText } from '../helpers/recording-logger';
import { expectProblem } from '../helpers/problem';

const VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;


const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

let harness: CheckoutHarness;

beforeAll(async () => {
  harness = await startHarness();
});

afterAll(async () => {
  await harness.close();
});

beforeEach(() => {
  harness.standIn.reset();
  harness.lines.length = 0;
});

/** Every secret of these tests must be absent from the response and from every log line. */
function expectNoSecrets(res: Response, secrets: string[]): void {
  const logs = logText(harness.lines);
  const headers = JSON.stringify(res.headers);
  for (const secret of secrets) {
    expect(res.text).not.toContain(secret);
    expect(headers).not.toContain(secret);
    expect(logs).not.toContain(secret);
  }
}

describe('the upstream call', () => {
  it('POSTs {baseUrl}/stores/{storeId}/sessions with the JWT, JSON headers, User-Agent and the request id', async () => {
    const app = harness.app();
    const res = await request(app).post('/checkout/session').set('X-Request-Id', 'req-upstream-1');
    expect(res.status).toBe(201);
    const [sent] = harness.standIn.sessionRequests;
    expect(harness.standIn.sessionRequests).toHaveLength(1);
    expect(sent!.method).toBe('POST');
    expect(sent!.path).toBe('/mock/payment/public/v1/stores/test-store/sessions');
    expect(sent!.headers.authorization).toBe(`Bearer ${harness.token}`);
    expect(sent!.headers.accept).toBe('application/json');
    expect(sent!.headers['content-type']).toMatch(/^application\/json/);
    expect(sent!.headers['user-agent']).toBe(`express-resurs-checkout/${VERSION}`);
    expect(sent!.headers['x-request-id']).toBe('req-upstream-1');
    expect(JSON.parse(sent!.body)).toEqual({});
  });

  it('sends {"campaign": ...} when the storefront names one', async () => {
    const res = await request(harness.app())
      .post('/checkout/session')
      .set('Content-Type', 'application/json')
      .send({ campaign: 'SUMMER_SALE' });
    expect(res.status).toBe(201);
    expect(JSON.parse(harness.standIn.sessionRequests[0]!.body)).toEqual({ campaign: 'SUMMER_SALE' });
  });

  it('URL-encodes the store id into the path', async () => {
    const storeId = 'shop/1 ä?#';
    const res = await request(harness.app({ storeId })).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(harness.standIn.sessionRequests[0]!.path).toBe(
      `/mock/payment/public/v1/stores/${encodeURIComponent(storeId)}/sessions`,
    );
  });

  it('accepts a baseUrl with a trailing slash', async () => {
    const res = await request(harness.app({ baseUrl: harness.standIn.baseUrl + '/' })).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(harness.standIn.sessionRequests[0]!.path).toBe('/mock/payment/public/v1/stores/test-store/sessions');
  });

  it('keeps connections alive by default', async () => {
    const app = harness.app();
    await request(app).post('/checkout/session');
    await request(app).post('/checkout/session');
    expect(harness.standIn.sessionRequests.map((r) => r.headers.connection)).toEqual(['keep-alive', 'keep-alive']);
  });

  it('uses the merchant’s httpAgent, reusing its connection', async () => {
    class CountingAgent extends http.Agent {
      connections = 0;
      override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
        this.connections++;
        return super.createConnection(...args);
      }
    }
    const agent = new CountingAgent({ keepAlive: true });
    try {
      const app = harness.app({ httpAgent: agent });
      for (let i = 0; i < 3; i++) expect((await request(app).post('/checkout/session')).status).toBe(201);
      expect(harness.standIn.sessionRequests).toHaveLength(3);
      expect(agent.connections).toBe(1);
    } finally {
      agent.destroy();
    }
  });

  it('never follows a redirect (it would carry the JWT elsewhere)', async () => {
    harness.standIn.setFaults({
      always: { kind: 'redirect', status: 307, location: `${harness.standIn.baseUrl}/stores/elsewhere/sessions` },
    });
    const res = await request(harness.app()).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(harness.standIn.sessionRequests.map((r) => r.path)).toEqual(['/mock/payment/public/v1/stores/test-store/sessions']);
  });
});

describe('checking Resurs’ answer', () => {
  const answer = (body: unknown, status = 201) => harness.standIn.setFaults({ queue: [{ kind: 'status', status, body }] });

  it('passes a 200 answer on as 201 and drops extra fields', async () => {
    answer(
      { id: 'sess-1', expiresAt: inAnHour(), embed: { src: 'https://cdn.resurs.example/pe.js', integrity: 'x' }, customer: { ssn: '1' }, debug: true },
      200,
    );
    const res = await request(harness.app()).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: 'sess-1', expiresAt: expect.any(String), embed: { src: 'https://cdn.resurs.example/pe.js' } });
  });

  it('accepts an id of 128 characters and an expiresAt with an offset', async () => {
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '+00:00');
    answer({ id: 'i'.repeat(128), expiresAt, embed: { src: 'https://cdn.resurs.example/pe.js' } });
    const res = await request(harness.app()).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(res.body.id).toHaveLength(128);
    expect(res.body.expiresAt).toBe(expiresAt);
  });

  it.each([
    ['malformed JSON', { kind: 'malformed-json' as const }],
    ['fields of the wrong type', { kind: 'wrong-shape' as const }],
    ['an expiresAt in the past', { kind: 'past-expiry' as const }],
  ])('answers 502 upstream_error for %s, and does not retry it', async (_what, fault) => {
    harness.standIn.setFaults({ queue: [fault] });
    const res = await request(harness.app()).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(harness.standIn.sessionRequests).toHaveLength(1);
    expect(harness.lines.some((line) => line.level === 'error')).toBe(true);
  });

  const valid = () => ({ id: 'sess-2', expiresAt: inAnHour(), embed: { src: 'https://cdn.resurs.example/pe.js' } });
  it.each([
    ['an empty id', { ...valid(), id: '' }],
    ['an id of 129 characters', { ...valid(), id: 'i'.repeat(129) }],
    ['a numeric id', { ...valid(), id: 7 }],
    ['an expiresAt without a zone', { ...valid(), expiresAt: '2099-01-01T00:00:00' }],
    ['an expiresAt that is not a date', { ...valid(), expiresAt: 'tomorrow' }],
    ['an expiresAt of a date only', { ...valid(), expiresAt: '2099-01-01' }],
    ['no embed', { id: 'sess-2', expiresAt: inAnHour() }],
    ['a relative embed.src', { ...valid(), embed: { src: '/pe.js' } }],
    ['an http: embed.src on a public host', { ...valid(), embed: { src: 'http://cdn.resurs.example/pe.js' } }],
    ['a javascript: embed.src', { ...valid(), embed: { src: 'javascript:alert(1)' } }],
    ['a data: embed.src', { ...valid(), embed: { src: 'data:text/javascript,alert(1)' } }],
    ['an array', [valid()]],
  ])('answers 502 upstream_error for %s', async (_what, body) => {
    answer(body);
    const res = await request(harness.app()).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(res.text).not.toContain('sess-2');
  });

  it('refuses an embed.src outside allowedScriptOrigins', async () => {
    harness.standIn.setFaults({ queue: [{ kind: 'foreign-script' }] });
    const app = harness.app({ allowedScriptOrigins: [harness.standIn.scriptOrigin] });
    const res = await request(app).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(res.text).not.toContain('evil.example');
    expect((await request(app).post('/checkout/session')).status).toBe(201);
  });

  it('passes any https: script origin on when allowedScriptOrigins is not set', async () => {
    harness.standIn.setFaults({ queue: [{ kind: 'foreign-script' }] });
    const res = await request(harness.app()).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(res.body.embed.src).toBe(FOREIGN_SCRIPT_URL);
  });
});

describe('upstream errors', () => {
  const fast = { retries: 0, breaker: false as const };

  it.each([
    [400, 502, 'upstream_error'],
    [403, 502, 'upstream_error'],
    [404, 502, 'upstream_error'],
    [409, 502, 'upstream_error'],
    [500, 502, 'upstream_error'],
    [502, 502, 'upstream_error'],
    [429, 503, 'upstream_unavailable'],
    [503, 503, 'upstream_unavailable'],
    [504, 504, 'upstream_timeout'],
  ])('maps Resurs %i to %i %s without leaking Resurs’ body', async (upstream, status, code) => {
    harness.standIn.setFaults({ always: { kind: 'status', status: upstream } });
    const res = await request(harness.app(fast)).post('/checkout/session');
    expectProblem(res, status, code);
    expectNoSecrets(res, [FAULT_RAW_SECRET_MARKER, 'hunter2', 'Simulated upstream failure', harness.token]);
  });

  it.each([400, 500])('never retries a %i (default retries: 2)', async (upstream) => {
    harness.standIn.setFaults({ always: { kind: 'status', status: upstream } });
    const res = await request(harness.app({ breaker: false })).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(harness.standIn.sessionRequests).toHaveLength(1);
  });

  it('answers 503 with the Retry-After Resurs sent', async () => {
    harness.standIn.setFaults({ always: { kind: 'status', status: 503, headers: { 'Retry-After': '7' } } });
    const res = await request(harness.app(fast)).post('/checkout/session');
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('7');
  });

  it('answers 503 with a Retry-After when Resurs cannot be reached', async () => {
    harness.standIn.setFaults({ always: { kind: 'drop' } });
    const res = await request(harness.app(fast)).post('/checkout/session');
    expectProblem(res, 503, 'upstream_unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('does not leak a text error body either', async () => {
    const secret = 'ORA-01017 invalid username/password; logon denied at db-7.internal';
    harness.standIn.setFaults({ always: { kind: 'status', status: 500, body: secret } });
    const res = await request(harness.app(fast)).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expectNoSecrets(res, [secret, 'ORA-01017', 'db-7.internal']);
  });
});

describe('the merchant token', () => {
  it('answers 502 when Resurs refuses a static token, once, logging that the token was refused', async () => {
    const forged = jwt.sign({ scope: 'mock-merchant-api', exp: Math.floor(Date.now() / 1000) + 600 }, 'not-the-stand-in-secret');
    const res = await request(harness.app({ auth: { token: forged } })).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(harness.standIn.sessionRequests).toHaveLength(1);
    expect(harness.standIn.sessionRequests[0]!.headers.authorization).toBe(`Bearer ${forged}`);
    const refused = harness.lines.find((line) => line.level === 'error' && /refused the merchant token/i.test(line.message));
    expect(refused).toBeDefined();
    expectNoSecrets(res, [forged]);
  });

  it('does not send an expired static token: 502, and the log says it expired', async () => {
    const expired = harness.standIn.issueToken({ expiresInSeconds: -5 });
    const res = await request(harness.app({ auth: { token: expired } })).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
    expect(harness.lines.some((line) => line.level === 'error' && /expired/i.test(line.message))).toBe(true);
    expectNoSecrets(res, [expired]);
  });

  it('calls getToken per request', async () => {
    const getToken = jest.fn(async () => harness.standIn.issueToken());
    const app = harness.app({ auth: { getToken } });
    expect((await request(app).post('/checkout/session')).status).toBe(201);
    expect((await request(app).post('/checkout/session')).status).toBe(201);
    expect(getToken).toHaveBeenCalledTimes(2);
    const sent = harness.standIn.sessionRequests.map((r) => r.headers.authorization);
    expect(sent[0]).not.toBe(sent[1]);
  });

  it('calls getToken again once after a 401 and answers with the second attempt', async () => {
    const tokens = [jwt.sign({ exp: Math.floor(Date.now() / 1000) + 600 }, 'wrong-secret'), harness.standIn.issueToken()];
    let calls = 0;
    const app = harness.app({ auth: { getToken: () => tokens[Math.min(calls++, 1)]! }, retries: 0 });
    const res = await request(app).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(calls).toBe(2);
    expect(harness.standIn.sessionRequests.map((r) => r.headers.authorization)).toEqual(tokens.map((t) => `Bearer ${t}`));
  });

  it('answers 502 after a second 401 from getToken’s tokens, without a third attempt', async () => {
    const getToken = jest.fn(() => jwt.sign({ exp: Math.floor(Date.now() / 1000) + 600 }, 'wrong-secret'));
    const res = await request(harness.app({ auth: { getToken } })).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(harness.standIn.sessionRequests).toHaveLength(2);
    expect(harness.lines.some((line) => line.level === 'error' && /refused the merchant token/i.test(line.message))).toBe(true);
  });

  it('keeps what getToken throws out of the answer and the log', async () => {
    const app = harness.app({
      auth: {
        getToken: () => {
          throw new Error('vault said: client_secret=s3cr3t-from-vault');
        },
      },
    });
    const res = await request(app).post('/checkout/session');
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expectNoSecrets(res, ['s3cr3t-from-vault', 'vault said']);
    expect(harness.standIn.sessionRequests).toHaveLength(0);
  });

  it('never writes the JWT into a log line on success or failure', async () => {
    const app = harness.app();
    const ok = await request(app).post('/checkout/session');
    harness.standIn.setFaults({ queue: [{ kind: 'status', status: 500 }] });
    const failed = await request(app).post('/checkout/session');
    expect(ok.status).toBe(201);
    expect(failed.status).toBe(502);
    expectNoSecrets(ok, [harness.token]);
    expectNoSecrets(failed, [harness.token]);
    // Not even a piece of it (the signature is the secret part).
    expect(logText(harness.lines)).not.toContain(harness.token.split('.')[2]!);
  });
});

describe('hooks', () => {
  it('calls onSessionCreated with the session, campaign, request id, reused and duration', async () => {
    const events: SessionCreatedEvent[] = [];
    const app = harness.app({ onSessionCreated: (event) => events.push(event) });
    const res = await request(app)
      .post('/checkout/session')
      .set('X-Request-Id', 'hook-1')
      .set('Content-Type', 'application/json')
      .send({ campaign: 'SUMMER_SALE' });
    expect(res.status).toBe(201);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ session: res.body, campaign: 'SUMMER_SALE', requestId: 'hook-1', reused: false });
    expect(events[0]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('calls onError with the error for each problem answer', async () => {
    const events: CheckoutErrorEvent[] = [];
    const app = harness.app({ onError: (event) => events.push(event), campaigns: ['SUMMER_SALE'] });
    await request(app).post('/checkout/session').set('X-Request-Id', 'hook-2').set('Content-Type', 'application/json').send({ campaign: 'NOPE' });
    await request(app).get('/checkout/session').set('X-Request-Id', 'hook-3');
    expect(events.map((e) => [e.error.code, e.error.status, e.requestId, e.campaign])).toEqual([
      ['campaign_not_allowed', 422, 'hook-2', 'NOPE'],
      ['method_not_allowed', 405, 'hook-3', undefined],
    ]);
  });

  it('keeps the answer when a hook throws, and logs a warning', async () => {
    const app = harness.app({
      onSessionCreated: () => {
        throw new Error('metrics down');
      },
      onError: () => {
        throw new Error('alerts down');
      },
    });
    expect((await request(app).post('/checkout/session')).status).toBe(201);
    expectProblem(await request(app).put('/checkout/session'), 405, 'method_not_allowed');
    expect(harness.lines.filter((line) => line.level === 'warn' && /hook threw/.test(line.message))).toHaveLength(2);
  });
});
