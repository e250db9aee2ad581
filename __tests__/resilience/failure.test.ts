/** Classifying one failed attempt: what is retried, what counts for the breaker, Retry-After. */
import { AxiosError, AxiosHeaders } from 'axios';
import fc from 'fast-check';
import type { AxiosResponse } from 'axios';
import { UpstreamFailure, parseRetryAfter, statusFailure, transportFailure } from '../../src/transport/failure';

function response(status: number, headers: Record<string, string> = {}): AxiosResponse {
  return { status, statusText: '', headers, data: 'RAW body db_password=hunter2', config: { headers: new AxiosHeaders() } };
}

describe('UpstreamFailure', () => {
  it.each([
    [429, true, true],
    [500, false, true],
    [501, false, true],
    [502, true, true],
    [503, true, true],
    [504, true, true],
    [400, false, false],
    [401, false, false],
    [403, false, false],
    [404, false, false],
    [409, false, false],
    [302, false, false],
  ])('status %i: retryable %s, counts for the breaker %s', (status, retryable, sickness) => {
    const failure = statusFailure(response(status), 'Resurs');
    expect(failure.retryable).toBe(retryable);
    expect(failure.sickness).toBe(sickness);
  });

  it.each([
    ['network', true, true],
    ['timeout', true, true],
    ['too-large', false, false],
    ['invalid', false, false],
  ] as const)('%s: retryable %s, counts %s', (kind, retryable, sickness) => {
    const failure = new UpstreamFailure(kind, 'x');
    expect(failure.retryable).toBe(retryable);
    expect(failure.sickness).toBe(sickness);
  });

  it("never carries Resurs' body in its message", () => {
    const failure = statusFailure(response(500), 'Resurs');
    expect(failure.message).toBe('Resurs answered status 500');
    expect(JSON.stringify({ ...failure, message: failure.message })).not.toContain('hunter2');
  });

  it('names a redirect as one that was not followed', () => {
    expect(statusFailure(response(307, { location: 'https://evil.example' }), 'Resurs').message).toMatch(/redirect \(not followed\)/);
  });

  it("keeps Resurs' Retry-After in ms", () => {
    expect(statusFailure(response(429, { 'retry-after': '3' }), 'Resurs').retryAfterMs).toBe(3_000);
    expect(statusFailure(response(503), 'Resurs').retryAfterMs).toBeUndefined();
  });
});

describe('transportFailure', () => {
  it('our own timer firing is a timeout', () => {
    expect(transportFailure(new AxiosError('canceled', 'ERR_CANCELED'), 'Resurs', true).kind).toBe('timeout');
  });

  it('the 64 KiB cap is too-large', () => {
    const error = new AxiosError('maxContentLength size of 65536 exceeded', 'ERR_BAD_RESPONSE');
    expect(transportFailure(error, 'Resurs', false).kind).toBe('too-large');
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ERR_BAD_RESPONSE'])('%s is a network failure, named by code only', (code) => {
    const failure = transportFailure(new AxiosError('socket hang up with secret', code), 'Resurs', false);
    expect(failure.kind).toBe('network');
    expect(failure.message).toBe(`Resurs could not be reached (${code})`);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');

  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Sunday, 01-Jun-25 12:00:30 GMT', now)).toBe(30_000); // RFC 850, obsolete but allowed
  });

  it('ignores what it cannot read', () => {
    for (const value of [undefined, '', '   ', 'soon', '-5', '1.5', ['1'], '1e+21', '1e3', 'Infinity', 'NaN', '0x10', '+5']) {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    }
  });

  it('caps what it reads at an hour, however many digits or however far the date', () => {
    expect(parseRetryAfter('3600', now)).toBe(3_600_000);
    expect(parseRetryAfter('3601', now)).toBe(3_600_000);
    expect(parseRetryAfter('86400', now)).toBe(3_600_000);
    expect(parseRetryAfter('999999999999', now)).toBe(3_600_000);
    expect(parseRetryAfter('123456789012345678901234567890', now)).toBe(3_600_000);
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBe(3_600_000);
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:00:00 GMT', now)).toBe(0);
  });

  it('an HTTP date is rounded up to whole seconds', () => {
    expect(parseRetryAfter('Sun, 01 Jun 2025 12:00:30 GMT', now - 200)).toBe(31_000);
  });

  it('any digit string reads as whole seconds in ms, 0 to an hour', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{1,60}$/), (digits) => {
        const ms = parseRetryAfter(digits, now);
        return ms !== undefined && Number.isInteger(ms / 1000) && ms >= 0 && ms <= 3_600_000;
      }),
    );
  });
});
