/**
 * 401 from Resurs, per token source: a refreshable source (getToken, client credentials) gets
 * exactly one fresh token on top of `retries`; a static JWT cannot be refreshed; an expired static
 * JWT is never sent.
 */
import request from 'supertest';
import type { Response } from 'supertest';
import jwt from 'jsonwebtoken';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import type { Fault } from '../../demo-app/resurs-stand-in';
import { ResursCheckoutError, createResursClient } from '../../src';
import type { CheckoutRouterOptions } from '../../src';
import { useHarness } from '../helpers/checkout-app';
import { logText } from '../helpers/recording-logger';
import { expectProblem } from '../helpers/problem';

const harness = useHarness();

const calls = (): number => harness.standIn.sessionRequests.length;
const bearers = (): unknown[] => harness.standIn.sessionRequests.map((r) => r.headers.authorization);
const unauthorized: Fault = { kind: 'status', status: 401 };

function post(options: Partial<CheckoutRouterOptions>): Promise<Response> {
  return request(harness.app({ breaker: false, ...options }))
    .post('/checkout/session')
    .set('Content-Type', 'application/json')
    .send('{}');
}


/** A JWT with the right shape that the stand-in refuses (signed with another secret). */
const foreignToken = (): string => jwt.sign({ exp: Math.floor(Date.now() / 1000) + 3600 }, 'not-the-stand-in-secret');

const credentials = () => ({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl });

describe('auth: {getToken}', () => {
  it('a refused token, then a good one: getToken is called again once, 201 after 2 calls', async () => {
    const tokens = [foreignToken(), harness.standIn.issueToken()];
    const getToken = jest.fn(() => tokens.shift() ?? 'exhausted');
    const res = await post({ auth: { getToken } });
    expect(res.status).toBe(201);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(calls()).toBe(2);
  });

  it('an async getToken works the same', async () => {
    const tokens = [foreignToken(), harness.standIn.issueToken()];
    const res = await post({ auth: { getToken: async () => tokens.shift() ?? 'exhausted' } });
    expect(res.status).toBe(201);
    expect(calls()).toBe(2);
  });

  it('a second 401 answers 502 and logs that Resurs refused the token', async () => {
    const getToken = jest.fn(foreignToken);
    const res = await post({ auth: { getToken } });
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(2);
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(logText(harness.lines)).toMatch(/Resurs refused the merchant token \(401\) even after a fresh one/);
  });

  it('the retry after a 401 comes on top of `retries`: 401 + 3 × 503 makes 4 calls', async () => {
    const status503: Fault = { kind: 'status', status: 503 };
    harness.standIn.setFaults({ queue: [unauthorized, status503, status503, status503] });
    const getToken = jest.fn(() => harness.standIn.issueToken());
    const res = await post({ auth: { getToken } });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(calls()).toBe(4);
    expect(getToken).toHaveBeenCalledTimes(2); // once for the request, once after the 401
  });

  it('is called once per request: retries reuse its token', async () => {
    const status503: Fault = { kind: 'status', status: 503 };
    harness.standIn.setFaults({ queue: [status503, status503] });
    const getToken = jest.fn(() => harness.standIn.issueToken());
    const res = await post({ auth: { getToken } });
    expect(res.status).toBe(201);
    expect(calls()).toBe(3);
    expect(getToken).toHaveBeenCalledTimes(1);
    expect(new Set(bearers()).size).toBe(1);
  });

  it('a 401 after retries still gets its one refresh: 503, 503, 401, then success', async () => {
    const status503: Fault = { kind: 'status', status: 503 };
    harness.standIn.setFaults({ queue: [status503, status503, unauthorized] });
    const res = await post({ auth: { getToken: () => harness.standIn.issueToken() } });
    expect(res.status).toBe(201);
    expect(calls()).toBe(4);
  });

  it('a getToken that throws answers 503 without calling Resurs, and its message is not logged', async () => {
    const res = await post({
      auth: {
        getToken: () => {
          throw new Error('vault said: password=swordfish');
        },
      },
    });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(calls()).toBe(0);
    expect(logText(harness.lines)).not.toContain('swordfish');
    expect(res.text).not.toContain('swordfish');
  });
});

describe('auth: client credentials', () => {
  it('a 401 drops the cached token: one new token, 201 after 2 calls with different bearers', async () => {
    const app = harness.app({ breaker: false, auth: credentials() });
    await request(app).post('/checkout/session').expect(201); // warm the token cache
    harness.standIn.reset();
    harness.standIn.setFaults({ queue: [unauthorized] });
    const res = await request(app).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(calls()).toBe(2);
    expect(harness.standIn.tokenRequests).toHaveLength(1);
    const [first, second] = bearers();
    expect(first).not.toBe(second);
  });

  it('a second 401 answers 502: 2 calls, 2 token fetches, and the next request fetches again', async () => {
    harness.standIn.setFaults({ queue: [unauthorized, unauthorized] });
    const app = harness.app({ breaker: false, auth: credentials() });
    const res = await request(app).post('/checkout/session');
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(2);
    expect(harness.standIn.tokenRequests).toHaveLength(2);
    expect(logText(harness.lines)).toMatch(/Resurs refused the merchant token \(401\)/);
    await request(app).post('/checkout/session').expect(201);
    expect(harness.standIn.tokenRequests).toHaveLength(3);
  });
});

describe('auth: {token} (static)', () => {
  it('a 401 is final: 1 call, 502, and the log says Resurs refused the token', async () => {
    harness.standIn.setFaults({ queue: [unauthorized] });
    const res = await post({});
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(1);
    expect(logText(harness.lines)).toMatch(/Resurs refused the merchant token \(401\); a static auth\.token cannot be refreshed/);
  });

  it('a JWT the stand-in does not accept: the same, 1 call, 502', async () => {
    const res = await post({ auth: { token: foreignToken() } });
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(1);
  });

  it('an expired JWT is not sent: 502, zero calls, and the log says the merchant token has expired', async () => {
    const expired = harness.standIn.issueToken({ expiresInSeconds: -60 });
    const res = await post({ auth: { token: expired } });
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(0);
    const text = logText(harness.lines);
    expect(text).toMatch(/merchant token \(auth\.token\) has expired/);
    expect(text).not.toContain(expired);
    expect(res.text).not.toContain(expired);
  });

  it('createResursClient rejects the same way, with a ResursCheckoutError', async () => {
    const client = createResursClient({
      storeId: 'test-store',
      baseUrl: harness.standIn.baseUrl,
      auth: { token: harness.standIn.issueToken({ expiresInSeconds: -1 }) },
    });
    const error: unknown = await client.createSession().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ResursCheckoutError);
    expect(error).toMatchObject({ code: 'upstream_error', status: 502 });
    expect(calls()).toBe(0);
  });
});
