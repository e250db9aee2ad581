/** The doctor's pure judgements and its output formats. */
import jwt from 'jsonwebtoken';
import {
  checkCallbackUrl,
  clockSkewMs,
  formatDuration,
  judgeClockSkew,
  judgeCredentials,
  judgeTokenLifetime,
  nonPublicReason,
  readTokenAnswer,
  safeUrl,
} from '../../src/doctor/checks';
import { formatHuman, formatJson, formatLine } from '../../src/doctor/format';
import { CHECK_IDS, fail, pass, skip } from '../../src/doctor/types';
import type { DoctorReport } from '../../src/doctor/types';

describe('callback URL publicly https', () => {
  test.each([
    'https://shop.example.com/resurs',
    'https://shop.example.com',
    'https://checkout.shop.se:8443/api/resurs/',
    'https://8.8.8.8/resurs',
    'https://[2001:4860:4860::8888]/resurs',
  ])('%s passes, noting that DNS is not resolved', (url) => {
    const result = checkCallbackUrl(url);
    expect(result.status).toBe('pass');
    expect(result.detail).toMatch(/DNS is not resolved/);
  });

  test.each([
    ['http://shop.example.com/resurs', /is http, not https/],
    ['https://localhost/resurs', /single-label/],
    ['https://app.localhost/resurs', /\.localhost/],
    ['https://shop.local/resurs', /\.local,/],
    ['https://shop.internal/resurs', /\.internal/],
    ['https://intranet/resurs', /single-label/],
    ['https://127.0.0.1/resurs', /loopback, private or reserved/],
    ['https://10.1.2.3/resurs', /private/],
    ['https://172.20.0.1/resurs', /private/],
    ['https://192.168.1.10/resurs', /private/],
    ['https://169.254.169.254/resurs', /private/],
    ['https://100.64.0.1/resurs', /private/],
    ['https://0x7f.1/resurs', /127\.0\.0\.1/],
    ['https://[::1]/resurs', /loopback, private, link-local/],
    ['https://[fe80::1]/resurs', /link-local/],
    ['https://[fd00::1]/resurs', /private/],
    ['https://[::ffff:10.0.0.1]/resurs', /reserved/],
    ['https://shop.example.com/resurs?x=1', /query or fragment/],
    ['not a url', /not an absolute URL/],
  ])('%s fails', (url, reason) => {
    const result = checkCallbackUrl(url);
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(reason);
    expect(result.fix).toMatch(/set RESURS_CALLBACK_BASE_URL to the public https origin/);
  });

  test('unset or blank is skipped, not failed', () => {
    for (const value of [undefined, '', '   ']) {
      const result = checkCallbackUrl(value);
      expect(result.status).toBe('skip');
      expect(result.fix).toBeUndefined();
    }
  });

  test('user info and query are never printed', () => {
    const result = checkCallbackUrl('https://merchant:hunter2-secret@shop.example.com/resurs');
    expect(result.status).toBe('fail');
    expect(JSON.stringify(result)).not.toContain('hunter2-secret');
    expect(JSON.stringify(checkCallbackUrl('https://shop.example.com/r?token=abc-secret-123'))).not.toContain('abc-secret-123');
    expect(safeUrl('https://a:b@host.example/p/?q=1#f')).toBe('https://host.example/p');
  });

  test('nonPublicReason accepts public names and trailing dots', () => {
    expect(nonPublicReason('shop.example.com.')).toBeUndefined();
    expect(nonPublicReason('SHOP.LOCAL.')).toMatch(/\.local/);
  });
});

describe('token lifetime', () => {
  test('fetched: under 5 minutes fails, the lifetime is printed', () => {
    expect(judgeTokenLifetime(3600, 'fetched')).toMatchObject({ status: 'pass', detail: '3600 s (60 min)' });
    expect(judgeTokenLifetime(300, 'fetched').status).toBe('pass');
    const short = judgeTokenLifetime(299, 'fetched');
    expect(short.status).toBe('fail');
    expect(short.detail).toMatch(/^299 s \(5 min\), under 5 minutes/);
    expect(judgeTokenLifetime(undefined, 'fetched').status).toBe('pass');
  });

  test('static: remaining time from exp', () => {
    const exp = Date.UTC(2030, 0, 1);
    expect(judgeTokenLifetime(-30, 'static', exp).detail).toBe('RESURS_TOKEN expired 30 s ago (exp 2030-01-01T00:00:00.000Z)');
    expect(judgeTokenLifetime(60, 'static', exp).status).toBe('fail');
    expect(judgeTokenLifetime(7200, 'static', exp).status).toBe('pass');
    expect(judgeTokenLifetime(undefined, 'static').detail).toMatch(/no exp claim/);
  });

  test('readTokenAnswer takes the earlier of expires_in and exp, on the server clock', () => {
    const serverNow = Date.UTC(2030, 0, 1);
    const token = jwt.sign({ exp: serverNow / 1000 + 600, scope: 'merchant-api' }, 'k', { noTimestamp: true });
    expect(readTokenAnswer(JSON.stringify({ access_token: token, expires_in: 3600 }), serverNow)).toEqual({ token, lifetimeSeconds: 600, grantedScope: 'merchant-api' });
    expect(readTokenAnswer(JSON.stringify({ access_token: 'opaque', expires_in: 90 }), serverNow)).toEqual({ token: 'opaque', lifetimeSeconds: 90 });
    expect(readTokenAnswer('not json', serverNow)).toEqual({});
    expect(readTokenAnswer('{"access_token": 5}', serverNow)).toEqual({});
  });

  test('formatDuration', () => {
    expect(formatDuration(59.6)).toBe('60 s');
    expect(formatDuration(7200)).toBe('7200 s (2.0 h)');
  });
});

describe('clock skew', () => {
  const at = Date.UTC(2030, 0, 1, 12, 0, 0);
  const seen = (date: string | undefined, receivedAt = at) => ({ url: 'u', status: 200, receivedAt, ...(date ? { date } : {}) });

  test('measured from the Date header, with half a second for its resolution', () => {
    expect(clockSkewMs(seen(new Date(at).toUTCString()))).toBe(500);
    expect(clockSkewMs(seen(new Date(at + 40_000).toUTCString()))).toBe(40_500);
    expect(clockSkewMs(seen('garbage'))).toBeUndefined();
  });

  test('over 30 s fails either way, printing the seconds', () => {
    expect(judgeClockSkew(seen(new Date(at + 29_000).toUTCString()), 'token endpoint')).toMatchObject({ status: 'pass', detail: expect.stringMatching(/30 s behind Resurs/) });
    const ahead = judgeClockSkew(seen(new Date(at - 45_000).toUTCString()), 'token endpoint');
    expect(ahead.status).toBe('fail');
    expect(ahead.detail).toMatch(/local clock 44 s ahead of Resurs, by the token endpoint's Date header: over 30 s/);
    expect(ahead.fix).toMatch(/NTP/);
  });

  test('no answer or no Date header: skipped', () => {
    expect(judgeClockSkew(undefined, 'x').status).toBe('skip');
    expect(judgeClockSkew(seen(undefined), 'x').status).toBe('skip');
  });
});

describe('credentials', () => {
  const ctx = { clientId: 'c', scope: 'merchant-api', environment: 'production' };
  const answer = (status: number, body: unknown) => ({ url: 'u', status, receivedAt: Date.now(), body: JSON.stringify(body) });

  test('only whitelisted OAuth error codes are repeated, never the raw body', () => {
    const result = judgeCredentials(answer(400, { error: 'secret-looking <script>', error_description: 'db_password=hunter2' }), ctx);
    expect(result.status).toBe('fail');
    expect(JSON.stringify(result)).not.toMatch(/hunter2|script/);
    expect(result.fix).toMatch(/production environment/);
  });

  test('a token granted for another scope fails', () => {
    const result = judgeCredentials(answer(200, { access_token: 'opaque', scope: 'mock-merchant-api' }), ctx);
    expect(result.status).toBe('fail');
    expect(result.fix).toMatch(/RESURS_SCOPE/);
    expect(JSON.stringify(result)).not.toContain('opaque');
  });

  test('a 200 without access_token fails', () => {
    expect(judgeCredentials(answer(200, { token: 'x' }), ctx)).toMatchObject({ status: 'fail', fix: expect.stringMatching(/RESURS_TOKEN_URL/) });
  });
});

describe('output', () => {
  const report: DoctorReport = {
    ok: false,
    checks: [pass('options', 'fine'), fail('store', 'Resurs answered 404', 'check RESURS_STORE_ID'), skip('callback-url', 'skipped: not set')],
  };

  test('human lines: ✓/✗ name: detail — fix, and a summary', () => {
    expect(formatLine(report.checks[0])).toBe('✓ options valid: fine');
    expect(formatLine(report.checks[1])).toBe('✗ store known: Resurs answered 404 — check RESURS_STORE_ID');
    expect(formatLine(report.checks[2])).toBe('- callback URL publicly https: skipped: not set');
    expect(formatHuman(report)).toMatch(/\n1 passed, 1 failed, 1 skipped: not ready\n$/);
  });

  test('--json: ok, summary and checks', () => {
    const parsed = JSON.parse(formatJson(report));
    expect(parsed.ok).toBe(false);
    expect(parsed.summary).toEqual({ passed: 1, failed: 1, skipped: 1 });
    expect(parsed.checks[1]).toEqual({ id: 'store', name: 'store known', status: 'fail', ok: false, detail: 'Resurs answered 404', fix: 'check RESURS_STORE_ID' });
    expect(parsed.checks[0]).not.toHaveProperty('fix');
  });

  test('the check order is fixed', () => {
    expect(CHECK_IDS).toEqual(['options', 'token-endpoint', 'credentials', 'token-lifetime', 'clock-skew', 'store', 'merchant-api', 'callback-url']);
  });
});
