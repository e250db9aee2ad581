/**
 * `auth: {clientId, clientSecret, tokenUrl}` against the stand-in's OAuth2 endpoint: the form it
 * sends, the cache, refresh before expiry, one fetch for a cold burst, and failed fetches that
 * are answered per the contract and never cached. The client secret never shows.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Response } from 'supertest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, startStandIn } from '../../demo-app/resurs-stand-in';
import type { Fault } from '../../demo-app/resurs-stand-in';
import { MemorySessionStore } from '../../src';
import type { ClientCredentialsAuth, SessionStore } from '../../src';
import { createClientCredentialsSource, parseTokenAnswer, refreshAtFor } from '../../src/auth/client-credentials';
import { silentLogger } from '../../src/logger';
import { createHttp } from '../../src/transport/http';
import { useHarness } from '../helpers/checkout-app';
import type { CheckoutHarness } from '../helpers/checkout-app';
import { closedPort } from '../helpers/loopback-servers';
import { logText } from '../helpers/recording-logger';
import { expectProblem } from '../helpers/problem';

const harness = useHarness();
const responses: string[] = [];

beforeEach(() => {
  responses.length = 0;
});

afterEach(() => {
  // The secret never reaches a response or a log line, whatever the case did.
  for (const text of [...responses, logText(harness.lines)]) expect(text).not.toContain(DEMO_CLIENT_SECRET);
  for (const recorded of harness.standIn.sessionRequests) {
    const jwt = String(recorded.headers.authorization).replace(/^Bearer /, '');
    expect(logText(harness.lines)).not.toContain(jwt);
  }
});

const credentials = (more: Partial<ClientCredentialsAuth> = {}): ClientCredentialsAuth => ({
  clientId: DEMO_CLIENT_ID,
  clientSecret: DEMO_CLIENT_SECRET,
  tokenUrl: harness.standIn.tokenUrl,
  ...more,
});

const tokenCalls = (): number => harness.standIn.tokenRequests.length;
const sessionCalls = (): number => harness.standIn.sessionRequests.length;

async function post(app: http.RequestListener | ReturnType<CheckoutHarness['app']>): Promise<Response> {
  const res = await request(app).post('/checkout/session').set('Content-Type', 'application/json').send('{}');
  responses.push(JSON.stringify(res.headers) + res.text);
  return res;
}


describe('the token request', () => {
  it('is form-encoded as OAuth2 says, with scope merchant-api by default', async () => {
    const res = await post(harness.app({ auth: credentials() }));
    expect(res.status).toBe(201);
    expect(tokenCalls()).toBe(1);
    const [token] = harness.standIn.tokenRequests;
    expect(token!.method).toBe('POST');
    expect(token!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(token!.body);
    expect([...form.keys()].sort()).toEqual(['client_id', 'client_secret', 'grant_type', 'scope']);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_id')).toBe(DEMO_CLIENT_ID);
    expect(form.get('client_secret')).toBe(DEMO_CLIENT_SECRET);
    expect(form.get('scope')).toBe('merchant-api');
  });

  it('sends the configured scope, and Resurs gets the fetched token as the Bearer', async () => {
    const res = await post(harness.app({ auth: credentials({ scope: 'mock-merchant-api' }) }));
    expect(res.status).toBe(201);
    expect(new URLSearchParams(harness.standIn.tokenRequests[0]!.body).get('scope')).toBe('mock-merchant-api');
    expect(harness.standIn.sessionRequests[0]!.headers.authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('encodes secrets with form-special characters so the endpoint reads them back exactly', async () => {
    const secret = 'a&b=c +d%e/ü';
    const standIn = await startStandIn({ clientSecret: secret });
    try {
      const app = harness.app({ baseUrl: standIn.baseUrl, auth: { clientId: DEMO_CLIENT_ID, clientSecret: secret, tokenUrl: standIn.tokenUrl } });
      const res = await request(app).post('/checkout/session');
      expect(res.status).toBe(201);
      expect(new URLSearchParams(standIn.tokenRequests[0]!.body).get('client_secret')).toBe(secret);
      expect(logText(harness.lines)).not.toContain(secret);
    } finally {
      await standIn.close();
    }
  });
});

describe('the token cache', () => {
  it('a second request makes no token call and sends the same token', async () => {
    const app = harness.app({ auth: credentials() });
    expect((await post(app)).status).toBe(201);
    expect((await post(app)).status).toBe(201);
    expect(tokenCalls()).toBe(1);
    const [first, second] = harness.standIn.sessionRequests;
    expect(second!.headers.authorization).toBe(first!.headers.authorization);
  });

  it('a cold burst of 100 concurrent requests makes exactly one token request', async () => {
    harness.standIn.setTokenFaults({ queue: [{ kind: 'latency', ms: 150 }] }); // the fetch is still in flight as they arrive
    const app = harness.app({ auth: credentials() });
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 100 });
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const statuses = await Promise.all(Array.from({ length: 100 }, () => postRaw(url, agent)));
      expect(statuses.filter((s) => s === 201)).toHaveLength(100);
      expect(tokenCalls()).toBe(1);
      expect(sessionCalls()).toBe(100);
      expect(new Set(harness.standIn.sessionRequests.map((r) => r.headers.authorization)).size).toBe(1);
    } finally {
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a token is refreshed shortly before it expires (stand-in tokens live 2 s)', async () => {
    const shortLived = await startStandIn({ tokenTtlSeconds: 2 });
    // A fake clock on a whole second: the JWT's exp (whole seconds) is then exactly 2 s away,
    // and time moves only when the test says so; the stand-in checks tokens on the same clock.
    const t0 = Math.ceil(Date.now() / 1000) * 1000;
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask'], now: t0 });
    const app = harness.app({ baseUrl: shortLived.baseUrl, auth: { ...credentials(), tokenUrl: shortLived.tokenUrl } });
    const fetched = () => harness.lines.filter((line) => line.message === 'Fetched a Resurs access token.').length;
    try {
      expect((await request(app).post('/checkout/session')).status).toBe(201);
      expect((await request(app).post('/checkout/session')).status).toBe(201);
      expect(shortLived.tokenRequests).toHaveLength(1);

      // Used until 1.8 s (a tenth of its life before expiry), renewed in the background at 80 % of that.
      await jest.advanceTimersByTimeAsync(1_400);
      expect(shortLived.tokenRequests).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(100);
      for (let i = 0; i < 10_000 && fetched() < 2; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(shortLived.tokenRequests).toHaveLength(2);

      // The first token has expired by now: a cached copy would earn a 401 from the stand-in.
      await jest.advanceTimersByTimeAsync(t0 + 2_100 - Date.now());
      expect((await request(app).post('/checkout/session')).status).toBe(201);
      expect(shortLived.tokenRequests).toHaveLength(2); // the shopper did not wait on a token fetch
      expect(shortLived.sessionRequests).toHaveLength(3);
      const [first, , third] = shortLived.sessionRequests.map((r) => r.headers.authorization);
      expect(third).not.toBe(first);
    } finally {
      jest.useRealTimers();
      await shortLived.close();
    }
  });

  it('the token source renews within the refresh window while the old token is still valid (stepped clock)', async () => {
    let clock = Date.now();
    const source = createClientCredentialsSource(credentials(), {
      http: createHttp({}),
      timeoutMs: 2_000,
      logger: silentLogger,
      now: () => clock,
    });
    const context = { signal: new AbortController().signal, timeoutMs: 2_000, log: silentLogger };
    const first = await source.getToken(context);
    const expiresAt = (JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
    clock = expiresAt - 61_000; // a 1-hour token is used until a minute before it expires
    expect(await source.getToken(context)).toBe(first);
    expect(tokenCalls()).toBe(1);
    clock = expiresAt - 59_000;
    const second = await source.getToken(context);
    expect(second).not.toBe(first);
    expect(tokenCalls()).toBe(2);
  });

  it('instances sharing a store share one token', async () => {
    const store = new MemorySessionStore();
    const a = harness.app({ auth: credentials({ store }) });
    const b = harness.app({ auth: credentials({ store }) });
    expect((await post(a)).status).toBe(201);
    expect((await post(b)).status).toBe(201);
    expect(tokenCalls()).toBe(1);
  });

  it('a token Resurs refused is not taken from the shared store again, even while its delete is slow', async () => {
    const inner = new MemorySessionStore();
    const store: SessionStore = {
      get: (key) => inner.get(key),
      set: (key, value, ttlMs) => inner.set(key, value, ttlMs),
      add: (key, value, ttlMs) => inner.add(key, value, ttlMs),
      delete: async (key) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await inner.delete(key);
      },
    };
    const a = harness.app({ auth: credentials({ store }) });
    const b = harness.app({ auth: credentials({ store }) });
    expect((await post(a)).status).toBe(201);
    harness.standIn.setFaults({ queue: [{ kind: 'status', status: 401 }] });
    expect((await post(b)).status).toBe(201);
    expect(tokenCalls()).toBe(2);
    const [, refused, fresh] = harness.standIn.sessionRequests.map((r) => r.headers.authorization);
    expect(fresh).not.toBe(refused);
  });
});

describe('a failed token fetch', () => {
  const cases: Array<{ name: string; fault: Fault; status: number; code: string }> = [
    { name: '500', fault: { kind: 'status', status: 500 }, status: 503, code: 'upstream_unavailable' },
    { name: '503', fault: { kind: 'status', status: 503 }, status: 503, code: 'upstream_unavailable' },
    { name: 'a dropped connection', fault: { kind: 'drop' }, status: 503, code: 'upstream_unavailable' },
    { name: 'an answer cut short', fault: { kind: 'reset-mid-answer' }, status: 503, code: 'upstream_unavailable' },
    { name: '400', fault: { kind: 'status', status: 400, body: { error: 'invalid_request' } }, status: 502, code: 'upstream_error' },
    { name: '401', fault: { kind: 'status', status: 401, body: { error: 'invalid_client' } }, status: 502, code: 'upstream_error' },
    { name: 'malformed JSON', fault: { kind: 'malformed-json' }, status: 502, code: 'upstream_error' },
    { name: 'a hang past timeoutMs', fault: { kind: 'hang' }, status: 504, code: 'upstream_timeout' },
  ];

  it.each(cases)('$name answers $status $code without calling Create Session, and is not cached', async ({ fault, status, code }) => {
    harness.standIn.setTokenFaults({ queue: [fault] });
    const app = harness.app({ auth: credentials(), timeoutMs: 200 });
    expectProblem(await post(app), status, code);
    expect(sessionCalls()).toBe(0);
    expect(tokenCalls()).toBe(1);
    // Nothing was cached: the next request fetches again and succeeds.
    expect((await post(app)).status).toBe(201);
    expect(tokenCalls()).toBe(2);
  });

  it('an unreachable token endpoint answers 503', async () => {
    const port = await closedPort();
    const res = await post(harness.app({ auth: credentials({ tokenUrl: `http://127.0.0.1:${port}/oauth2/token` }) }));
    expectProblem(res, 503, 'upstream_unavailable');
    expect(sessionCalls()).toBe(0);
  });

  it('wrong credentials answer 502 and the log names the OAuth2 error, not the secret', async () => {
    const res = await post(harness.app({ auth: credentials({ clientSecret: 'wrong-secret-value' }) }));
    expectProblem(res, 502, 'upstream_error');
    const text = logText(harness.lines);
    expect(text).toContain('invalid_client');
    expect(text).not.toContain('wrong-secret-value');
    expect(res.text).not.toContain('wrong-secret-value');
  });

  it('a token fetch slower than the deadline answers 504', async () => {
    harness.standIn.setTokenFaults({ queue: [{ kind: 'latency', ms: 1_000 }] });
    const res = await post(harness.app({ auth: credentials(), deadlineMs: 200 }));
    expectProblem(res, 504, 'upstream_timeout');
    expect(sessionCalls()).toBe(0);
  });
});

describe('token answers (pure)', () => {
  const t0 = Date.parse('2025-06-01T12:00:00Z');

  it('uses the earlier of expires_in and the JWT exp, minus a tenth of the life (at most a minute)', () => {
    const jwtExp = (exp: number) => jwt.sign({ exp }, 'any-secret', { noTimestamp: true });
    expect(parseTokenAnswer(JSON.stringify({ access_token: 'opaque', expires_in: 3600 }), t0)).toEqual({
      token: 'opaque',
      issuedAt: t0,
      refreshAt: t0 + 3_540_000,
    });
    expect(parseTokenAnswer(JSON.stringify({ access_token: jwtExp(t0 / 1000 + 100), expires_in: 3600 }), t0)?.refreshAt).toBe(
      t0 + 90_000,
    );
    expect(parseTokenAnswer(JSON.stringify({ access_token: 'opaque', expires_in: 10 }), t0)?.refreshAt).toBe(t0 + 9_000);
  });

  it('refuses answers without a usable access_token', () => {
    for (const text of ['', 'null', '[]', '{}', '{"access_token": ""}', '{"access_token": 12}', '{"access_token": "a"']) {
      expect(parseTokenAnswer(text, t0)).toBeUndefined();
    }
  });

  it('refreshAtFor never lands after the expiry', () => {
    expect(refreshAtFor(t0, t0 + 3_600_000)).toBe(t0 + 3_540_000);
    expect(refreshAtFor(t0, t0 + 1_000)).toBe(t0 + 900);
    expect(refreshAtFor(t0, t0 - 1_000)).toBe(t0 - 1_000);
  });
});

function postRaw(url: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}/checkout/session`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}
