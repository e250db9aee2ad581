import { spawn } from 'node:child_process';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import path from 'node:path';
import vm from 'node:vm';
import axios, { type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { verify as verifyJwt, type JwtPayload } from 'jsonwebtoken';
import {
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_JWT_SECRET,
  FAULT_RAW_SECRET_MARKER,
  FOREIGN_SCRIPT_URL,
  PAYMENT_ELEMENTS_SCRIPT,
  STAND_IN_CAMPAIGNS,
  startStandIn,
  type Fault,
  type PaymentMethodGroup,
  type StandIn,
} from '../../demo-app/resurs-stand-in';
import { isLoopback } from '../../demo-app/resurs-stand-in/http-util';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SCRIPT_PATH = '/payment/standin/resurs-payment-elements.js';

interface SessionAnswer {
  id: string;
  expiresAt: string;
  embed: { src: string };
}

let standIn: StandIn;
let token: string;

beforeAll(async () => {
  standIn = await startStandIn();
  token = standIn.issueToken();
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => standIn.reset());

function createSession(
  body: unknown = {},
  config: AxiosRequestConfig & { bearer?: string | null } = {},
): Promise<AxiosResponse<unknown>> {
  const { bearer = token, headers, ...rest } = config;
  return axios.post(`${standIn.baseUrl}/stores/store-1/sessions`, body, {
    validateStatus: () => true,
    headers: { ...(bearer === null ? {} : { Authorization: `Bearer ${bearer}` }), ...headers },
    ...rest,
  });
}

function asSession(data: unknown): SessionAnswer {
  return data as SessionAnswer;
}

async function groups(sessionId: string, query = '', target: StandIn = standIn): Promise<AxiosResponse<{ data: PaymentMethodGroup[]; message?: string }>> {
  return axios.get(`${target.baseUrl}/sessions/${encodeURIComponent(sessionId)}/payment-method-groups${query}`, { validateStatus: () => true });
}

interface RawResult {
  status?: number;
  headers?: IncomingHttpHeaders;
  body: Buffer;
  complete: boolean;
  error?: NodeJS.ErrnoException;
  stopped?: boolean;
  timedOut?: boolean;
}

/** A bare node:http request on its own connection, keeping whatever arrives before an error. */
function raw(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; stopAfterBytes?: number; timeoutMs?: number } = {},
): Promise<RawResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let response: IncomingMessage | undefined;
    let settled = false;
    const done = (extra: Partial<RawResult>): void => {
      if (settled) return;
      settled = true;
      resolve({ status: response?.statusCode, headers: response?.headers, body: Buffer.concat(chunks), complete: response?.complete ?? false, ...extra });
    };
    const req = http.request(url, { method: options.method ?? 'POST', headers: options.headers, agent: false }, (res) => {
      response = res;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (options.stopAfterBytes !== undefined && received >= options.stopAfterBytes) {
          done({ stopped: true });
          req.destroy();
        }
      });
      res.on('end', () => done({}));
      res.on('error', (error: NodeJS.ErrnoException) => done({ error }));
      res.on('close', () => done({}));
    });
    req.on('error', (error: NodeJS.ErrnoException) => done({ error }));
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => {
        done({ timedOut: true });
        req.destroy();
      });
    }
    req.end(options.body);
  });
}

function rawSession(options: Parameters<typeof raw>[1] = {}): Promise<RawResult> {
  return raw(`${standIn.baseUrl}/stores/store-1/sessions`, {
    body: '{}',
    ...options,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...options.headers },
  });
}

describe('Create Session, happy path', () => {
  it('answers 201 with id, expiresAt and embed.src, and keeps the connection alive', async () => {
    const before = Date.now();
    const res = await createSession({});
    const after = Date.now();
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.connection).not.toBe('close');
    const session = asSession(res.data);
    expect(Object.keys(session).sort()).toEqual(['embed', 'expiresAt', 'id']);
    expect(session.id).toMatch(UUID);
    expect(session.expiresAt).toMatch(ISO_SECONDS);
    // expiresAt is whole seconds, somewhere in [before, after] + 900 s, rounded down.
    const expires = Date.parse(session.expiresAt);
    expect(expires).toBeGreaterThan(before + 900_000 - 1000);
    expect(expires).toBeLessThanOrEqual(after + 900_000);
    expect(session.embed).toEqual({ src: `${standIn.url}${SCRIPT_PATH}` });
    expect(standIn.scriptOrigin).toBe(standIn.url);
    expect(standIn.baseUrl).toBe(`${standIn.url}/mock/payment/public/v1`);
    expect(standIn.tokenUrl).toBe(`${standIn.url}/oauth2/token`);
    expect(standIn.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('records method, path, headers and body of every Create Session request', async () => {
    await createSession({ campaign: 'SUMMER_SALE' }, { headers: { 'X-Request-Id': 'req-123' } });
    await createSession({}, { bearer: null });
    expect(standIn.sessionRequests).toHaveLength(2);
    const [first, second] = standIn.sessionRequests;
    expect(first.method).toBe('POST');
    expect(first.path).toBe('/mock/payment/public/v1/stores/store-1/sessions');
    expect(first.headers.authorization).toBe(`Bearer ${token}`);
    expect(first.headers['x-request-id']).toBe('req-123');
    expect(JSON.parse(first.body)).toEqual({ campaign: 'SUMMER_SALE' });
    expect(second.headers.authorization).toBeUndefined();
    expect(second.at).toBeGreaterThanOrEqual(first.at);
    expect(standIn.tokenRequests).toHaveLength(0);
  });

  it('accepts an empty body and every known campaign', async () => {
    const empty = await rawSession({ body: '' });
    expect(empty.status).toBe(201);
    expect(standIn.sessionRequests[0].body).toBe('');
    for (const campaign of STAND_IN_CAMPAIGNS) {
      expect((await createSession({ campaign })).status).toBe(201);
    }
  });

  it('decodes the store id from the path', async () => {
    const scoped = standIn.issueToken({ storeId: 'store/ä' });
    const res = await axios.post(`${standIn.baseUrl}/stores/${encodeURIComponent('store/ä')}/sessions`, {}, {
      validateStatus: () => true,
      headers: { Authorization: `Bearer ${scoped}` },
    });
    expect(res.status).toBe(201);
    expect(standIn.sessionRequests[0].path).toBe('/mock/payment/public/v1/stores/store%2F%C3%A4/sessions');
  });
});

describe('Create Session, refusals', () => {
  it.each([
    ['no Authorization header', null],
    ['a token that is not a JWT', 'not-a-jwt'],
    ['a JWT signed with another secret', 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2lnbmF0dXJl'],
  ])('401 with %s', async (_label, bearer) => {
    const res = await createSession({}, { bearer });
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ message: expect.any(String) });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('401 with an expired token, and a valid token still works after it', async () => {
    const expired = standIn.issueToken({ expiresInSeconds: -10 });
    const res = await createSession({}, { bearer: expired });
    expect(res.status).toBe(401);
    expect(res.data).toEqual({ message: 'Token expired' });
    expect((await createSession({})).status).toBe(201);
  });

  it('401 for a cached token once it has expired', async () => {
    const shortLived = standIn.issueToken({ expiresInSeconds: 1 });
    expect((await createSession({}, { bearer: shortLived })).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await createSession({}, { bearer: shortLived })).status).toBe(401);
  });

  it('403 when the token is scoped to another store', async () => {
    const res = await createSession({}, { bearer: standIn.issueToken({ storeId: 'other-store' }) });
    expect(res.status).toBe(403);
  });

  it('400 for an unknown campaign, malformed JSON, a non-object body or a non-string campaign', async () => {
    const unknown = await createSession({ campaign: 'NO_SUCH_CAMPAIGN' });
    expect(unknown.status).toBe(400);
    expect(unknown.data).toEqual({ message: expect.stringContaining('NO_SUCH_CAMPAIGN') });
    const malformed = await createSession('{"campaign":', { headers: { 'Content-Type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect((await createSession([1, 2])).status).toBe(400);
    expect((await createSession({ campaign: 7 })).status).toBe(400);
  });

  it('415 for a body that is not JSON, 405 for other methods, 413 for bodies over 64 KiB', async () => {
    expect((await createSession('campaign=X', { headers: { 'Content-Type': 'text/plain' } })).status).toBe(415);
    const get = await axios.get(`${standIn.baseUrl}/stores/store-1/sessions`, { validateStatus: () => true });
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const big = await createSession({ campaign: 'x'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
  });

  it('404 JSON for any other route', async () => {
    const res = await axios.get(`${standIn.url}/nope`, { validateStatus: () => true });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.data).toEqual({ message: expect.stringContaining('/nope') });
  });
});

describe('faults on Create Session', () => {
  it('latency: waits, then answers normally', async () => {
    standIn.setFaults({ queue: [{ kind: 'latency', ms: 150 }] });
    const started = Date.now();
    const res = await createSession({});
    expect(Date.now() - started).toBeGreaterThanOrEqual(145);
    expect(res.status).toBe(201);
  });

  it('setLatency and the latencyMs option delay every answer', async () => {
    standIn.setLatency(120);
    const started = Date.now();
    expect((await createSession({})).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(115);
    standIn.reset();
    const quick = Date.now();
    await createSession({});
    expect(Date.now() - quick).toBeLessThan(115);
  });

  it('status: default body carries raw secret-looking text; headers and body can be chosen', async () => {
    standIn.setFaults({
      queue: [
        { kind: 'status', status: 503, headers: { 'Retry-After': '7' } },
        { kind: 'status', status: 429, body: { message: 'slow down' } },
        { kind: 'status', status: 500, body: 'plain failure text' },
      ],
    });
    const first = await createSession({});
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toBe('7');
    expect(JSON.stringify(first.data)).toContain(FAULT_RAW_SECRET_MARKER);
    const second = await createSession({});
    expect(second.status).toBe(429);
    expect(second.data).toEqual({ message: 'slow down' });
    const third = await createSession({});
    expect(third.status).toBe(500);
    expect(third.headers['content-type']).toMatch(/^text\/plain/);
    expect(third.data).toBe('plain failure text');
  });

  it('status faults apply even without a token (they come before authentication)', async () => {
    standIn.setFaults({ queue: [{ kind: 'status', status: 502 }] });
    expect((await createSession({}, { bearer: null })).status).toBe(502);
  });

  it('malformed-json: 201 with a JSON content type and a body that does not parse', async () => {
    standIn.setFaults({ queue: [{ kind: 'malformed-json' }] });
    const res = await rawSession();
    expect(res.status).toBe(201);
    expect(res.headers?.['content-type']).toMatch(/^application\/json/);
    expect(() => JSON.parse(res.body.toString())).toThrow(SyntaxError);
  });

  it('wrong-shape: 201 with valid JSON of the wrong shape', async () => {
    standIn.setFaults({ queue: [{ kind: 'wrong-shape' }] });
    const res = await createSession({});
    expect(res.status).toBe(201);
    const data = res.data as Record<string, unknown>;
    expect(typeof data.id).not.toBe('string');
    expect(typeof data.embed).not.toBe('object');
  });

  it('past-expiry: 201 with expiresAt in the past, and the browser route refuses that session', async () => {
    standIn.setFaults({ queue: [{ kind: 'past-expiry' }] });
    const res = await createSession({ campaign: 'SUMMER_SALE' });
    expect(res.status).toBe(201);
    const session = asSession(res.data);
    expect(session.expiresAt).toMatch(ISO_SECONDS);
    expect(Date.parse(session.expiresAt)).toBeLessThan(Date.now());
    const listed = await groups(session.id);
    expect(listed.status).toBe(410);
    expect(listed.data.message).toMatch(/expired/);
  });

  it('foreign-script: embed.src on https://evil.example', async () => {
    standIn.setFaults({ queue: [{ kind: 'foreign-script' }] });
    const res = await createSession({});
    expect(res.status).toBe(201);
    expect(asSession(res.data).embed.src).toBe(FOREIGN_SCRIPT_URL);
    expect(new URL(FOREIGN_SCRIPT_URL).origin).toBe('https://evil.example');
  });

  it('redirect: 302 by default (or the given status) with Location, to a server that then sees only followers', async () => {
    const target = await startStandIn();
    try {
      const location = `${target.baseUrl}/stores/store-1/sessions`;
      standIn.setFaults({ queue: [{ kind: 'redirect', location }, { kind: 'redirect', location, status: 307 }] });
      const first = await createSession({}, { maxRedirects: 0 });
      expect(first.status).toBe(302);
      expect(first.headers.location).toBe(location);
      const second = await createSession({}, { maxRedirects: 0 });
      expect(second.status).toBe(307);
      expect(second.headers.location).toBe(location);
      expect(target.sessionRequests).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('oversized with a length: Content-Length equals the size, and the body is that big', async () => {
    standIn.setFaults({ queue: [{ kind: 'oversized', bytes: 100_000, announceLength: true }] });
    const res = await rawSession();
    expect(res.status).toBe(201);
    expect(res.headers?.['content-length']).toBe('100000');
    expect(res.body.length).toBe(100_000);
    expect(JSON.parse(res.body.toString())).toEqual(expect.objectContaining({ id: expect.stringMatching(UUID) }));
  });

  it('oversized without a length: chunked, no Content-Length, same size', async () => {
    standIn.setFaults({ queue: [{ kind: 'oversized', bytes: 200_000, announceLength: false }] });
    const res = await rawSession();
    expect(res.status).toBe(201);
    expect(res.headers?.['content-length']).toBeUndefined();
    expect(res.headers?.['transfer-encoding']).toBe('chunked');
    expect(res.complete).toBe(true);
    expect(res.body.length).toBe(200_000);
  });

  it('endless: keeps sending until the client aborts, then the stand-in still answers', async () => {
    standIn.setFaults({ queue: [{ kind: 'endless' }] });
    const res = await rawSession({ stopAfterBytes: 2 * 1024 * 1024 });
    expect(res.status).toBe(201);
    expect(res.stopped).toBe(true);
    expect(res.body.length).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    expect(res.headers?.['content-length']).toBeUndefined();
    expect((await createSession({})).status).toBe(201);
  });

  it('drop: the connection is reset without an answer', async () => {
    standIn.setFaults({ queue: [{ kind: 'drop' }, { kind: 'drop' }] });
    const res = await rawSession();
    expect(res.status).toBeUndefined();
    expect(res.error?.code).toBe('ECONNRESET');
    await expect(createSession({})).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect((await createSession({})).status).toBe(201);
  });

  it('reset-mid-answer: headers and part of the body, then the socket is destroyed', async () => {
    standIn.setFaults({ queue: [{ kind: 'reset-mid-answer' }] });
    const res = await rawSession();
    expect(res.status).toBe(201);
    const announced = Number(res.headers?.['content-length']);
    expect(announced).toBeGreaterThan(0);
    expect(res.complete).toBe(false);
    expect(res.body.length).toBeLessThan(announced);
  });

  it('hang: never answers, so the client times out; the request is still recorded', async () => {
    standIn.setFaults({ queue: [{ kind: 'hang' }] });
    await expect(createSession({}, { timeout: 300 })).rejects.toMatchObject({ code: 'ECONNABORTED' });
    expect(standIn.sessionRequests).toHaveLength(1);
    expect((await createSession({})).status).toBe(201);
  });

  it('the queue first, in order, then always, then nothing once cleared', async () => {
    standIn.setFaults({
      queue: [
        { kind: 'status', status: 500 },
        { kind: 'status', status: 502 },
      ],
      always: { kind: 'status', status: 503 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await createSession({})).status);
    expect(statuses).toEqual([500, 502, 503, 503]);
    standIn.setFaults(null);
    expect((await createSession({})).status).toBe(201);
    standIn.setFaults({ queue: [{ kind: 'status', status: 504 }] });
    expect([(await createSession({})).status, (await createSession({})).status]).toEqual([504, 201]);
  });

  it('ratio: a seeded share of requests, reproducible for the same seed', async () => {
    const run = async (seed: number): Promise<number[]> => {
      standIn.setFaults({ ratio: { share: 0.3, fault: { kind: 'status', status: 503 } }, seed });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i += 1) statuses.push((await createSession({})).status);
      return statuses;
    };
    const first = await run(42);
    const again = await run(42);
    const other = await run(43);
    const faulted = first.filter((s) => s === 503).length;
    expect(faulted).toBeGreaterThanOrEqual(15);
    expect(faulted).toBeLessThanOrEqual(45);
    expect(first.filter((s) => s !== 503).every((s) => s === 201)).toBe(true);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('refuses an invalid plan with a TypeError and keeps the old one', () => {
    standIn.setFaults({ always: { kind: 'hang' } });
    expect(() => standIn.setFaults({ queue: [{ kind: 'explode' } as unknown as Fault] })).toThrow(TypeError);
    expect(() => standIn.setFaults({ ratio: { share: 2, fault: { kind: 'drop' } } })).toThrow(/share/);
    expect(() => standIn.setFaults({ always: { kind: 'status', status: 99 } })).toThrow(/status/);
    expect(() => standIn.setFaults({ always: { kind: 'redirect', location: 'http://x', status: 200 } })).toThrow(/status/);
  });
});

describe('token endpoint', () => {
  const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();
  const postToken = (body: string, headers: Record<string, string> = {}): Promise<AxiosResponse<Record<string, unknown>>> =>
    axios.post(standIn.tokenUrl, body, {
      validateStatus: () => true,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    });
  const good = { grant_type: 'client_credentials', client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET, scope: 'mock-merchant-api' };

  it('issues a JWT that verifies with the secret and opens Create Session', async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await postToken(form(good));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.data).toEqual(expect.objectContaining({ token_type: 'Bearer', expires_in: 3600, access_token: expect.any(String) }));
    const claims = verifyJwt(String(res.data.access_token), DEMO_JWT_SECRET) as JwtPayload;
    expect(claims.scope).toBe('mock-merchant-api');
    expect(claims.client_id).toBe(DEMO_CLIENT_ID);
    expect(claims.exp).toBeGreaterThanOrEqual(before + 3600);
    expect((await createSession({}, { bearer: String(res.data.access_token) })).status).toBe(201);
    expect(standIn.tokenRequests).toHaveLength(1);
    expect(standIn.tokenRequests[0]).toEqual(expect.objectContaining({ method: 'POST', path: '/oauth2/token', body: form(good) }));
  });

  it('accepts the client credentials as HTTP Basic auth', async () => {
    const basic = Buffer.from(`${DEMO_CLIENT_ID}:${DEMO_CLIENT_SECRET}`).toString('base64');
    const res = await postToken(form({ grant_type: 'client_credentials' }), { Authorization: `Basic ${basic}` });
    expect(res.status).toBe(200);
    const wrong = Buffer.from(`${DEMO_CLIENT_ID}:nope`).toString('base64');
    const refused = await postToken(form({ grant_type: 'client_credentials' }), { Authorization: `Basic ${wrong}` });
    expect(refused.status).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it('400 unsupported_grant_type, 400 invalid_request, 401 invalid_client, 405 for GET', async () => {
    const grant = await postToken(form({ ...good, grant_type: 'password' }));
    expect(grant.status).toBe(400);
    expect(grant.data).toEqual({ error: 'unsupported_grant_type' });
    const missing = await postToken(form({ client_id: DEMO_CLIENT_ID, client_secret: DEMO_CLIENT_SECRET }));
    expect(missing.status).toBe(400);
    expect(missing.data.error).toBe('invalid_request');
    const client = await postToken(form({ ...good, client_secret: 'wrong' }));
    expect(client.status).toBe(401);
    expect(client.data).toEqual({ error: 'invalid_client' });
    const json = await postToken(JSON.stringify(good), { 'Content-Type': 'application/json' });
    expect(json.status).toBe(400);
    const get = await axios.get(standIn.tokenUrl, { validateStatus: () => true });
    expect(get.status).toBe(405);
    expect(standIn.tokenRequests).toHaveLength(5);
  });

  it('token faults: status, malformed JSON, drop, hang, past-expiry, latency, then normal', async () => {
    standIn.setTokenFaults({
      queue: [
        { kind: 'status', status: 503 },
        { kind: 'malformed-json' },
        { kind: 'drop' },
        { kind: 'hang' },
        { kind: 'past-expiry' },
        { kind: 'latency', ms: 100 },
      ],
    });
    expect((await postToken(form(good))).status).toBe(503);
    const malformed = await axios.post(standIn.tokenUrl, form(good), { validateStatus: () => true, responseType: 'text', transformResponse: (d: string) => d });
    expect(malformed.status).toBe(200);
    expect(() => JSON.parse(String(malformed.data))).toThrow(SyntaxError);
    await expect(postToken(form(good))).rejects.toMatchObject({ code: 'ECONNRESET' });
    await expect(axios.post(standIn.tokenUrl, form(good), { timeout: 300 })).rejects.toMatchObject({ code: 'ECONNABORTED' });
    const expired = await postToken(form(good));
    expect(expired.status).toBe(200);
    expect((await createSession({}, { bearer: String(expired.data.access_token) })).status).toBe(401);
    const started = Date.now();
    expect((await postToken(form(good))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    expect((await postToken(form(good))).status).toBe(200);
    expect(standIn.sessionRequests.length).toBe(1);
  });

  it('token faults do not touch Create Session, and session faults do not touch the token endpoint', async () => {
    standIn.setTokenFaults({ always: { kind: 'status', status: 500 } });
    standIn.setFaults({ always: { kind: 'status', status: 503 } });
    expect((await createSession({})).status).toBe(503);
    expect((await postToken(form(good))).status).toBe(500);
  });
});

describe('payment-method groups', () => {
  async function sessionId(campaign?: string, target: StandIn = standIn): Promise<string> {
    const res = await axios.post(`${target.baseUrl}/stores/store-1/sessions`, campaign ? { campaign } : {}, {
      headers: { Authorization: `Bearer ${target.issueToken()}` },
    });
    return asSession(res.data).id;
  }
  const types = (list: PaymentMethodGroup[]): string[] => list.map((g) => g.type).sort();

  it('without a campaign: only the everyday methods, NATURAL by default, with CORS', async () => {
    const res = await groups(await sessionId());
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(types(res.data.data)).toEqual(['RESURS_CARD', 'RESURS_INVOICE', 'RESURS_PART_PAYMENT_SELECT_LATER', 'RESURS_REVOLVING_CREDIT', 'SWISH', 'TRUSTLY']);
    for (const group of res.data.data) {
      expect(group).toEqual({
        id: expect.any(String),
        methodIds: expect.arrayContaining([expect.any(String)]),
        type: expect.any(String),
        customerTypes: expect.arrayContaining(['NATURAL']),
        title: expect.any(String),
        subtitle: expect.any(String),
      });
      expect(group.title).not.toMatch(/sale|friday|spring/i);
    }
  });

  it('filters by customerType LEGAL', async () => {
    const res = await groups(await sessionId(), '?customerType=LEGAL&locale=sv-SE&amount=1000');
    expect(res.status).toBe(200);
    expect(types(res.data.data)).toEqual(['RESURS_CARD', 'RESURS_INVOICE', 'TRUSTLY']);
    expect(res.data.data.every((g) => g.customerTypes.includes('LEGAL'))).toBe(true);
  });

  it("with a campaign: only that campaign's methods", async () => {
    const summer = await groups(await sessionId('SUMMER_SALE'), '?customerType=NATURAL&amount=600');
    expect(summer.data.data).toHaveLength(1);
    expect(summer.data.data[0]).toEqual(
      expect.objectContaining({ type: 'RESURS_PART_PAYMENT_SELECT_NOW', title: 'Summer sale: 0% interest for 6 months', subtitle: expect.stringContaining('100 per month') }),
    );
    const summerLegal = await groups(await sessionId('SUMMER_SALE'), '?customerType=LEGAL');
    expect(types(summerLegal.data.data)).toEqual(['RESURS_INVOICE']);
    const friday = await groups(await sessionId('BLACK_FRIDAY'));
    expect(friday.data.data.map((g) => g.title)).toEqual(['Black Friday: pay in 3 months, no interest']);
    const spring = await groups(await sessionId('SPRING_2025'));
    expect(spring.data.data.map((g) => g.title)).toEqual(['Spring 2025: 12 months interest-free']);
  });

  it('404 for an unknown session, 400 for a bad customerType or amount', async () => {
    const unknown = await groups('00000000-0000-0000-0000-000000000000');
    expect(unknown.status).toBe(404);
    expect(unknown.headers['access-control-allow-origin']).toBe('*');
    expect(unknown.data.message).toEqual(expect.any(String));
    const id = await sessionId();
    expect((await groups(id, '?customerType=ROBOT')).status).toBe(400);
    expect((await groups(id, '?amount=-5')).status).toBe(400);
  });

  it('410 once the session has expired', async () => {
    const quick = await startStandIn({ sessionTtlSeconds: 0 });
    try {
      const res = await groups(await sessionId(undefined, quick), '', quick);
      expect(res.status).toBe(410);
      expect(res.data.message).toMatch(/expired/);
    } finally {
      await quick.close();
    }
  });

  it('answers the CORS preflight', async () => {
    const res = await axios.request({
      method: 'OPTIONS',
      url: `${standIn.baseUrl}/sessions/x/payment-method-groups`,
      headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-custom' },
      validateStatus: () => true,
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toContain('GET');
    expect(res.headers['access-control-allow-headers']).toBe('x-custom');
  });

  it('keeps at most maxSessions sessions, dropping the oldest', async () => {
    const small = await startStandIn({ maxSessions: 2 });
    try {
      const ids = [await sessionId(undefined, small), await sessionId(undefined, small), await sessionId(undefined, small)];
      const statuses = await Promise.all(ids.map(async (id) => (await groups(id, '', small)).status));
      expect(statuses).toEqual([404, 200, 200]);
    } finally {
      await small.close();
    }
  });
});

/** A minimal DOM, enough for the payment-elements script. */
class FakeElement {
  readonly children: FakeElement[] = [];
  readonly attributes = new Map<string, string>();
  readonly style: Record<string, string> = {};
  readonly events: { type: string; detail: unknown }[] = [];
  private readonly listeners = new Map<string, (() => void)[]>();
  textContent = '';
  type = '';
  name = '';
  value = '';

  constructor(readonly tagName: string) {}

  get firstChild(): FakeElement | null {
    return this.children[0] ?? null;
  }
  appendChild(child: FakeElement): FakeElement {
    this.children.push(child);
    return child;
  }
  removeChild(child: FakeElement): FakeElement {
    this.children.splice(this.children.indexOf(child), 1);
    return child;
  }
  setAttribute(name: string, value: string): void {
    if (name === 'style') throw new Error('inline style attributes break a strict CSP');
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string): string | null {
    return this.attributes.get(name) ?? null;
  }
  addEventListener(type: string, listener: () => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  dispatchEvent(event: { type: string; detail: unknown }): boolean {
    this.events.push(event);
    return true;
  }
  fire(type: string): void {
    for (const listener of this.listeners.get(type) ?? []) listener();
  }
  all(): FakeElement[] {
    return this.children.flatMap((child) => [child, ...child.all()]);
  }
  text(): string {
    return [this.textContent, ...this.children.map((c) => c.text())].join(' ');
  }
}

interface MountApi {
  mount(container: FakeElement, options: Record<string, unknown>): Promise<{ groups: PaymentMethodGroup[] }>;
}

function loadScript(source: string, src: string): MountApi {
  const context: Record<string, unknown> = {
    document: { currentScript: { src }, createElement: (tag: string) => new FakeElement(tag) },
    fetch,
    URL,
    URLSearchParams,
    CustomEvent: class {
      constructor(
        readonly type: string,
        init: { detail?: unknown },
      ) {
        this.detail = init.detail;
      }
      readonly detail: unknown;
    },
  };
  context.window = context;
  vm.runInNewContext(source, context, { filename: 'resurs-payment-elements.js' });
  return context.ResursPaymentElements as MountApi;
}

describe('payment-elements script', () => {
  it('is served as JavaScript, cross-origin, the same on every load', async () => {
    const first = await axios.get<string>(`${standIn.url}${SCRIPT_PATH}`, { responseType: 'text' });
    const second = await axios.get<string>(`${standIn.url}${SCRIPT_PATH}`, { responseType: 'text' });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/javascript/);
    expect(first.headers['access-control-allow-origin']).toBe('*');
    expect(first.data).toBe(PAYMENT_ELEMENTS_SCRIPT);
    expect(second.data).toBe(first.data);
    expect(() => new vm.Script(first.data)).not.toThrow();
  });

  it('uses nothing a strict CSP forbids', () => {
    expect(PAYMENT_ELEMENTS_SCRIPT).not.toMatch(/\beval\s*\(|new Function|innerHTML|outerHTML|insertAdjacentHTML|document\.write|setAttribute\(\s*['"]style/);
  });

  it('mounts radio buttons for the session, derived from its own src, and reports a pick', async () => {
    const res = await createSession({ campaign: 'BLACK_FRIDAY' });
    const session = asSession(res.data);
    const api = loadScript(PAYMENT_ELEMENTS_SCRIPT, session.embed.src);
    const container = new FakeElement('div');
    const mounted = await api.mount(container, { sessionId: session.id, amount: 1200, customerType: 'NATURAL', locale: 'en-US' });
    expect(mounted.groups.map((g) => g.type)).toEqual(['RESURS_INVOICE']);
    expect(container.getAttribute('data-state')).toBe('ready');
    const labels = container.all().filter((el) => el.attributes.has('data-method-type'));
    expect(labels.map((el) => el.getAttribute('data-method-type'))).toEqual(['RESURS_INVOICE']);
    expect(labels[0].text()).toContain('Black Friday: pay in 3 months, no interest');
    const radio = labels[0].children.find((el) => el.tagName === 'input');
    expect(radio?.type).toBe('radio');
    radio?.fire('change');
    expect(container.events).toEqual([{ type: 'resurs-payment-method-change', detail: expect.objectContaining({ type: 'RESURS_INVOICE' }) }]);

    const again = new FakeElement('div');
    const everyday = await createSession({});
    await loadScript(PAYMENT_ELEMENTS_SCRIPT, session.embed.src).mount(again, { sessionId: asSession(everyday.data).id });
    expect(again.all().filter((el) => el.attributes.has('data-method-type'))).toHaveLength(6);
  });

  it('renders an error and rejects for an unknown or expired session', async () => {
    const api = loadScript(PAYMENT_ELEMENTS_SCRIPT, `${standIn.url}${SCRIPT_PATH}`);
    const container = new FakeElement('div');
    await expect(api.mount(container, { sessionId: 'no-such-session' })).rejects.toMatchObject({ message: 'Payment session not found' });
    expect(container.getAttribute('data-state')).toBe('error');
    const errorBox = container.all().find((el) => el.getAttribute('data-state') === 'error');
    expect(errorBox?.textContent).toBe('Payment session not found');

    standIn.setFaults({ queue: [{ kind: 'past-expiry' }] });
    const expired = asSession((await createSession({})).data);
    const second = new FakeElement('div');
    await expect(api.mount(second, { sessionId: expired.id })).rejects.toMatchObject({ message: expect.stringMatching(/expired/) });
    expect(second.getAttribute('data-state')).toBe('error');
  });

  it('renders an error when the stand-in cannot be reached', async () => {
    const gone = await startStandIn();
    await gone.close();
    const api = loadScript(PAYMENT_ELEMENTS_SCRIPT, `${gone.url}${SCRIPT_PATH}`);
    const container = new FakeElement('div');
    await expect(api.mount(container, { sessionId: 'x' })).rejects.toMatchObject({ message: expect.stringMatching(/network error/) });
    expect(container.getAttribute('data-state')).toBe('error');
  });
});

describe('control routes', () => {
  const control = async (name: string, body?: unknown): Promise<{ status?: number; data: Record<string, unknown> }> => {
    const res = await raw(`${standIn.url}/__stand-in/${name}`, {
      body: body === undefined ? '' : JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
    return { status: res.status, data: JSON.parse(res.body.toString()) as Record<string, unknown> };
  };

  it('switch faults, token faults and latency; report stats; reset', async () => {
    expect((await control('faults', { queue: [{ kind: 'status', status: 503 }] })).status).toBe(200);
    expect((await createSession({})).status).toBe(503);
    expect((await createSession({})).status).toBe(201);
    expect((await control('token-faults', { always: { kind: 'status', status: 500 } })).status).toBe(200);
    expect((await axios.post(standIn.tokenUrl, '', { validateStatus: () => true })).status).toBe(500);
    expect((await control('latency', { ms: 100 })).status).toBe(200);
    const started = Date.now();
    await createSession({});
    expect(Date.now() - started).toBeGreaterThanOrEqual(95);
    const stats = await axios.get(`${standIn.url}/__stand-in/stats`);
    expect(stats.data).toEqual({ sessionRequests: 3, tokenRequests: 1 });
    expect((await control('reset')).status).toBe(200);
    expect((await axios.get(`${standIn.url}/__stand-in/stats`)).data).toEqual({ sessionRequests: 0, tokenRequests: 0 });
    expect(standIn.sessionRequests).toHaveLength(0);
    expect((await axios.post(standIn.tokenUrl, '', { validateStatus: () => true })).status).toBe(400);
  });

  it('a null or empty body clears the faults', async () => {
    await control('faults', { always: { kind: 'status', status: 503 } });
    expect((await createSession({})).status).toBe(503);
    expect((await control('faults', null)).status).toBe(200);
    expect((await createSession({})).status).toBe(201);
    await control('faults', { always: { kind: 'status', status: 503 } });
    expect((await control('faults')).status).toBe(200);
    expect((await createSession({})).status).toBe(201);
  });

  it('400 for an invalid plan, latency or JSON; 404 for unknown names; 405 for wrong methods', async () => {
    const bad = await control('faults', { always: { kind: 'teleport' } });
    expect(bad.status).toBe(400);
    expect(bad.data.message).toMatch(/teleport/);
    expect((await control('latency', { ms: -1 })).status).toBe(400);
    expect((await axios.post(`${standIn.url}/__stand-in/faults`, '{oops', { validateStatus: () => true })).status).toBe(400);
    expect((await control('constructor')).status).toBe(404);
    expect((await axios.get(`${standIn.url}/__stand-in/faults`, { validateStatus: () => true })).status).toBe(405);
    expect((await control('stats')).status).toBe(405);
    expect((await createSession({})).status).toBe(201);
  });

  it('answer loopback clients only', () => {
    const peer = (remoteAddress: string): IncomingMessage => ({ socket: { remoteAddress } }) as unknown as IncomingMessage;
    expect(isLoopback(peer('127.0.0.1'))).toBe(true);
    expect(isLoopback(peer('::1'))).toBe(true);
    expect(isLoopback(peer('::ffff:127.0.0.1'))).toBe(true);
    expect(isLoopback(peer('192.0.2.10'))).toBe(false);
    expect(isLoopback(peer('::ffff:10.0.0.1'))).toBe(false);
  });
});

describe('lifecycle', () => {
  it('caps the recordings at maxRecordedRequests but counts every request', async () => {
    const capped = await startStandIn({ maxRecordedRequests: 3 });
    try {
      const bearer = capped.issueToken();
      for (let i = 0; i < 5; i += 1) {
        await axios.post(`${capped.baseUrl}/stores/s/sessions`, { campaign: STAND_IN_CAMPAIGNS[i % 3] }, { headers: { Authorization: `Bearer ${bearer}` } });
      }
      expect(capped.sessionRequests).toHaveLength(3);
      expect(JSON.parse(capped.sessionRequests[0].body)).toEqual({ campaign: STAND_IN_CAMPAIGNS[2] });
      expect((await axios.get(`${capped.url}/__stand-in/stats`)).data).toEqual({ sessionRequests: 5, tokenRequests: 0 });
    } finally {
      await capped.close();
    }
  });

  it('close() resolves while requests hang, stream endlessly or idle on keep-alive, and clients see the connection end', async () => {
    const doomed = await startStandIn({ latencyMs: 60_000 });
    const bearer = doomed.issueToken();
    const url = `${doomed.baseUrl}/stores/s/sessions`;
    const headers = { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' };
    const keepAlive = new http.Agent({ keepAlive: true });
    const idle = await axios.get(`${doomed.url}/__stand-in/stats`, { httpAgent: keepAlive });
    expect(idle.status).toBe(200);
    expect(Object.keys(keepAlive.freeSockets)).toHaveLength(1);
    doomed.setFaults({ queue: [{ kind: 'hang' }, { kind: 'endless' }] });
    const hanging = raw(url, { headers, body: '{}' });
    const endless = raw(url, { headers, body: '{}' });
    const delayed = raw(url, { headers, body: '{}' });
    while (doomed.sessionRequests.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    await doomed.close();
    const results = await Promise.all([hanging, endless, delayed]);
    expect(results.map((r) => r.complete)).toEqual([false, false, false]);
    expect(results[1].status).toBe(201);
    await expect(axios.get(`${doomed.url}/__stand-in/stats`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await expect(doomed.close()).resolves.toBeUndefined();
    keepAlive.destroy();
  });

  it('the CLI prints its URLs as one JSON line and exits cleanly on SIGTERM', async () => {
    const root = path.resolve(__dirname, '../..');
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'demo-app/resurs-stand-in/cli.ts', '--port', '0', '--latency', '50'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('\n')) resolve(out);
      });
      child.on('exit', () => reject(new Error(`CLI exited before printing: ${out}`)));
    });
    const printed = JSON.parse(line) as { url: string; baseUrl: string; tokenUrl: string };
    expect(Object.keys(printed).sort()).toEqual(['baseUrl', 'tokenUrl', 'url']);
    expect(printed.baseUrl).toBe(`${printed.url}/mock/payment/public/v1`);
    const started = Date.now();
    const res = await axios.post(`${printed.baseUrl}/stores/s/sessions`, {}, { validateStatus: () => true });
    expect(res.status).toBe(401);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
