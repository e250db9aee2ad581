/**
 * `runDoctor` against the real stand-in: all good, then each failure switched on in turn. Every
 * failing check says ✗ with its fix, and neither the human nor the JSON output ever holds the
 * client secret or a token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEMO_CLIENT_ID, startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { formatHuman, formatJson } from '../../src/doctor/format';
import { runDoctor } from '../../src/doctor/run';
import type { CheckId, DoctorReport } from '../../src/doctor/types';
import { closedPort } from '../helpers/loopback-servers';

const SECRET = 'doctor-test-secret-5b1e9c0a';

let standIn: StandIn;

beforeAll(async () => {
  standIn = await startStandIn({ clientSecret: SECRET });
});
afterAll(() => standIn.close());
afterEach(() => standIn.reset());

function envFor(s: StandIn, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    RESURS_STORE_ID: 'doctor-store',
    RESURS_ENVIRONMENT: 'test',
    RESURS_BASE_URL: s.baseUrl,
    RESURS_MERCHANT_API_URL: s.merchantApiUrl,
    RESURS_TOKEN_URL: s.tokenUrl,
    RESURS_CLIENT_ID: DEMO_CLIENT_ID,
    RESURS_CLIENT_SECRET: SECRET,
    RESURS_SCOPE: 'mock-merchant-api',
    RESURS_CALLBACK_BASE_URL: 'https://shop.example.com/resurs',
    ...extra,
  };
}

function check(report: DoctorReport, id: CheckId) {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

/** Every bearer token the stand-in saw (sessions and Merchant API). */
function tokensSeen(s: StandIn): string[] {
  const headers = [...s.sessionRequests.map((r) => r.headers.authorization), ...s.merchant.requests().map((r) => r.headers.authorization)];
  return headers.flatMap((h) => (typeof h === 'string' ? [h.replace(/^Bearer\s+/i, '')] : []));
}

function expectNoSecrets(report: DoctorReport, secrets: string[]): void {
  const outputs = [formatHuman(report), formatJson(report)];
  for (const secret of secrets.filter(Boolean)) {
    for (const output of outputs) expect(output).not.toContain(secret);
  }
}

/** Asserts exactly `failed` fail, each with a fix, and no secret leaks. */
function expectFailure(report: DoctorReport, failed: CheckId, fixPattern: RegExp, extraSecrets: string[] = []): void {
  expect(report.ok).toBe(false);
  const bad = check(report, failed);
  expect(bad.status).toBe('fail');
  expect(bad.ok).toBe(false);
  expect(bad.fix).toMatch(fixPattern);
  expect(formatHuman(report)).toContain(`✗ ${bad.name}: ${bad.detail} — ${bad.fix}`);
  expectNoSecrets(report, [SECRET, ...tokensSeen(standIn), ...extraSecrets]);
}

/** A tiny proxy on 127.0.0.1 that forwards to the stand-in and rewrites its Date header. */
async function startSkewingProxy(target: string, skewMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
      const headers = { ...answer.headers, date: new Date(Date.now() + skewMs).toUTCString() };
      res.writeHead(answer.statusCode ?? 502, headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('doctor against the stand-in', () => {
  test('all good: every check passes, exit code 0', async () => {
    const report = await runDoctor(envFor(standIn));
    expect(statuses(report)).toEqual({
      options: 'pass',
      'token-endpoint': 'pass',
      credentials: 'pass',
      'token-lifetime': 'pass',
      'clock-skew': 'pass',
      store: 'pass',
      'merchant-api': 'pass',
      'callback-url': 'pass',
    });
    expect(report.ok).toBe(true);
    expect(check(report, 'token-lifetime').detail).toMatch(/^3\d{3} s \(60 min\)$/);
    expect(check(report, 'clock-skew').detail).toMatch(/in step with Resurs/);
    expect(check(report, 'store').detail).toContain('environment test');
    expect(check(report, 'merchant-api').detail).toContain('0 payments');
    // One session, one search, one token: nothing more.
    expect(standIn.sessionRequests).toHaveLength(1);
    expect(standIn.tokenRequests).toHaveLength(1);
    expect(standIn.merchant.requests().map((r) => r.route)).toEqual(['search']);
    expect(tokensSeen(standIn)).toHaveLength(2);
    expectNoSecrets(report, [SECRET, ...tokensSeen(standIn)]);
  });

  test('the callback URL unset is skipped, not failed', async () => {
    const report = await runDoctor(envFor(standIn, { RESURS_CALLBACK_BASE_URL: undefined }));
    expect(check(report, 'callback-url').status).toBe('skip');
    expect(check(report, 'callback-url').detail).toMatch(/not set \(needed only with payments\)/);
    expect(report.ok).toBe(true);
  });

  test('options invalid: fails, and every check that needs them is skipped', async () => {
    const report = await runDoctor(envFor(standIn, { RESURS_STORE_ID: undefined, RESURS_ENVIRONMENT: 'staging' }));
    expectFailure(report, 'options', /RESURS_\*/);
    expect(check(report, 'options').detail).toMatch(/2 problems: .*RESURS_STORE_ID.*RESURS_ENVIRONMENT/);
    for (const id of ['token-endpoint', 'credentials', 'token-lifetime', 'clock-skew', 'store', 'merchant-api'] as const) {
      expect(check(report, id).status).toBe('skip');
    }
    expect(check(report, 'callback-url').status).toBe('pass');
    expect(standIn.tokenRequests).toHaveLength(0);
  });

  test('token endpoint unreachable', async () => {
    const port = await closedPort();
    const report = await runDoctor(envFor(standIn, { RESURS_TOKEN_URL: `http://127.0.0.1:${port}/oauth2/token` }));
    expectFailure(report, 'token-endpoint', /RESURS_TOKEN_URL/);
    expect(check(report, 'token-endpoint').detail).toMatch(/could not be reached \(ECONNREFUSED\)/);
    expect(statuses(report)).toMatchObject({ credentials: 'skip', 'token-lifetime': 'skip', 'clock-skew': 'skip', store: 'skip', 'merchant-api': 'skip' });
  });

  test('token endpoint failing (503)', async () => {
    standIn.setTokenFaults({ always: { kind: 'status', status: 503 } });
    const report = await runDoctor(envFor(standIn));
    expectFailure(report, 'token-endpoint', /try again/);
    expect(check(report, 'token-endpoint').detail).toContain('503');
  });

  test('wrong client secret: credentials refused (401 invalid_client), the wrong secret is not printed either', async () => {
    const wrong = 'wrong-secret-value-77aa';
    const report = await runDoctor(envFor(standIn, { RESURS_CLIENT_SECRET: wrong }));
    expect(check(report, 'token-endpoint').status).toBe('pass');
    expectFailure(report, 'credentials', /RESURS_CLIENT_ID and RESURS_CLIENT_SECRET/, [wrong]);
    expect(check(report, 'credentials').detail).toContain('401 invalid_client');
    expect(check(report, 'clock-skew').status).toBe('pass'); // the 401 still carries a Date
    expect(statuses(report)).toMatchObject({ 'token-lifetime': 'skip', store: 'skip', 'merchant-api': 'skip' });
  });

  test('scope refused (400 invalid_scope)', async () => {
    standIn.setTokenFaults({ always: { kind: 'status', status: 400, body: { error: 'invalid_scope' } } });
    const report = await runDoctor(envFor(standIn, { RESURS_SCOPE: 'wrong-scope' }));
    expectFailure(report, 'credentials', /RESURS_SCOPE/);
    expect(check(report, 'credentials').detail).toContain('invalid_scope');
  });

  test('short token lifetime (2 minutes)', async () => {
    const shortLived = await startStandIn({ clientSecret: SECRET, tokenTtlSeconds: 120 });
    try {
      const report = await runDoctor(envFor(shortLived));
      expect(report.ok).toBe(false);
      const lifetime = check(report, 'token-lifetime');
      expect(lifetime.status).toBe('fail');
      expect(lifetime.detail).toMatch(/^1[12]\d s \(2 min\), under 5 minutes/);
      expect(lifetime.fix).toMatch(/RESURS_TOKEN_URL/);
      expect(check(report, 'store').status).toBe('pass'); // still usable
      expectNoSecrets(report, [SECRET, ...tokensSeen(shortLived)]);
    } finally {
      await shortLived.close();
    }
  });

  test('clock skew: a Date header two minutes ahead', async () => {
    const proxy = await startSkewingProxy(standIn.url, 120_000);
    try {
      const report = await runDoctor(envFor(standIn, { RESURS_TOKEN_URL: `${proxy.url}/oauth2/token` }));
      expectFailure(report, 'clock-skew', /NTP/);
      expect(check(report, 'clock-skew').detail).toMatch(/local clock 1(19|20|21) s behind Resurs/);
      // The lifetime is judged on Resurs' clock, so it stays right.
      expect(check(report, 'token-lifetime').status).toBe('pass');
    } finally {
      await proxy.close();
    }
  });

  test('store unknown: Create Session answers 404', async () => {
    standIn.setFaults({ always: { kind: 'status', status: 404, body: { message: 'Unknown store' } } });
    const report = await runDoctor(envFor(standIn));
    expectFailure(report, 'store', /check RESURS_STORE_ID belongs to RESURS_ENVIRONMENT \(test\)/);
    expect(check(report, 'store').detail).toMatch(/404 .*store 'doctor-store' in environment test/);
    expect(check(report, 'merchant-api').status).toBe('pass');
  });

  test('store unknown, with production: the environment column is named', async () => {
    standIn.setFaults({ always: { kind: 'status', status: 403 } });
    const report = await runDoctor(envFor(standIn, { RESURS_ENVIRONMENT: 'production' }));
    expectFailure(report, 'store', /RESURS_ENVIRONMENT \(production\)/);
    expect(check(report, 'store').detail).toContain('environment production, RESURS_BASE_URL');
  });

  test('sessions API unreachable', async () => {
    const port = await closedPort();
    const report = await runDoctor(envFor(standIn, { RESURS_BASE_URL: `http://127.0.0.1:${port}/mock/payment/public/v1` }));
    expectFailure(report, 'store', /RESURS_BASE_URL/);
  });

  test('Merchant API unreachable', async () => {
    const port = await closedPort();
    const report = await runDoctor(envFor(standIn, { RESURS_MERCHANT_API_URL: `http://127.0.0.1:${port}/merchant-api` }));
    expectFailure(report, 'merchant-api', /RESURS_MERCHANT_API_URL/);
    expect(check(report, 'merchant-api').detail).toMatch(/could not be reached \(ECONNREFUSED\)/);
    expect(check(report, 'store').status).toBe('pass');
  });

  test('Merchant API failing (lookup 500)', async () => {
    standIn.merchant.setLookupFaults({ always: { kind: 'status', status: 500 } });
    const report = await runDoctor(envFor(standIn));
    expectFailure(report, 'merchant-api', /try again/);
    expect(check(report, 'merchant-api').detail).toContain('500');
  });

  test('Merchant API cut connection', async () => {
    standIn.merchant.setLookupFaults({ always: { kind: 'drop' } });
    const report = await runDoctor(envFor(standIn));
    expectFailure(report, 'merchant-api', /RESURS_MERCHANT_API_URL/);
  });

  test('callback URL not public', async () => {
    const report = await runDoctor(envFor(standIn, { RESURS_CALLBACK_BASE_URL: 'https://10.0.0.5/resurs' }));
    expectFailure(report, 'callback-url', /RESURS_CALLBACK_BASE_URL/);
  });

  test('token endpoint down and callback URL on localhost: both fail, the rest skipped, no secret', async () => {
    const port = await closedPort();
    const report = await runDoctor(envFor(standIn, { RESURS_TOKEN_URL: `http://127.0.0.1:${port}/t`, RESURS_CALLBACK_BASE_URL: 'http://localhost:3000' }));
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['token-endpoint', 'callback-url']);
    expectNoSecrets(report, [SECRET]);
  });
});

describe('doctor with a static RESURS_TOKEN', () => {
  const staticEnv = (token: string, extra: Record<string, string | undefined> = {}) =>
    envFor(standIn, { RESURS_CLIENT_ID: undefined, RESURS_CLIENT_SECRET: undefined, RESURS_TOKEN_URL: undefined, RESURS_SCOPE: undefined, RESURS_TOKEN: token, ...extra });

  test('a good token: lifetime from exp, no token endpoint called, exit 0', async () => {
    const token = standIn.issueToken({ expiresInSeconds: 3600 });
    const report = await runDoctor(staticEnv(token));
    expect(statuses(report)).toEqual({
      options: 'pass',
      'token-endpoint': 'skip',
      credentials: 'pass',
      'token-lifetime': 'pass',
      'clock-skew': 'pass',
      store: 'pass',
      'merchant-api': 'pass',
      'callback-url': 'pass',
    });
    expect(report.ok).toBe(true);
    expect(check(report, 'token-lifetime').detail).toMatch(/RESURS_TOKEN expires in 3\d{3} s \(60 min\)/);
    expect(standIn.tokenRequests).toHaveLength(0);
    expectNoSecrets(report, [token]);
  });

  test('an expired token: lifetime fails, nothing is sent to Resurs', async () => {
    const token = standIn.issueToken({ expiresInSeconds: -600 });
    const report = await runDoctor(staticEnv(token));
    expectFailure(report, 'token-lifetime', /RESURS_CLIENT_ID \+ RESURS_CLIENT_SECRET/, [token]);
    expect(check(report, 'token-lifetime').detail).toMatch(/RESURS_TOKEN expired 60[01] s \(10 min\) ago \(exp /);
    expect(statuses(report)).toMatchObject({ credentials: 'skip', store: 'skip', 'merchant-api': 'skip' });
    expect(standIn.sessionRequests).toHaveLength(0);
  });

  test('a token about to expire (2 minutes left)', async () => {
    const token = standIn.issueToken({ expiresInSeconds: 120 });
    const report = await runDoctor(staticEnv(token));
    expectFailure(report, 'token-lifetime', /fresh merchant JWT/, [token]);
    expect(check(report, 'store').status).toBe('pass');
  });

  test('several stores: a token valid for one of them fails the store check for the other, naming it', async () => {
    const token = standIn.issueToken({ storeId: 'doctor-store' });
    const report = await runDoctor(staticEnv(token), { stores: ['doctor-store', 'no-store'] });
    expectFailure(report, 'store', /RESURS_STORE_ID belongs to RESURS_ENVIRONMENT/, [token]);
    const store = check(report, 'store');
    expect(store.detail).toMatch(/^1 of 2 stores failed: Resurs answered 403 to Create Session for store 'no-store'/);
    expect(store.detail).not.toContain("'doctor-store'");
    // The listed RESURS_STORE_ID is not asked twice.
    expect(standIn.sessionRequests.map((r) => r.path.replace(/^.*\/stores\//, ''))).toEqual(['doctor-store/sessions', 'no-store/sessions']);
  });

  test('a token for another store: store known fails (403)', async () => {
    const token = standIn.issueToken({ storeId: 'someone-else' });
    const report = await runDoctor(staticEnv(token));
    expectFailure(report, 'store', /RESURS_STORE_ID belongs to RESURS_ENVIRONMENT/, [token]);
    expect(check(report, 'credentials').status).toBe('pass');
  });

  test('a token Resurs refuses (signed with another key): credentials fail', async () => {
    const other = await startStandIn({ jwtSecret: 'another-signing-key' });
    const token = other.issueToken();
    await other.close();
    const report = await runDoctor(staticEnv(token));
    expectFailure(report, 'credentials', /new merchant JWT/, [token]);
    expect(check(report, 'store').status).toBe('skip');
    expect(check(report, 'merchant-api').status).toBe('fail');
  });

  test('not a JWT: options fail without echoing it', async () => {
    const report = await runDoctor(staticEnv('not-a-jwt-but-secret-ish'));
    expectFailure(report, 'options', /RESURS_\*/, ['not-a-jwt-but-secret-ish']);
  });
});
