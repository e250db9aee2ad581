/**
 * ResursCheckoutError, as merchants catch it from `createSession`: `code` and `status` from the
 * error table, and a `retryAfter` of whole seconds, 1 to 3600, on every 503 and 429, whether or
 * not the thrower knew how long to wait.
 */
import { ConfigError, ResursCheckoutError } from '../../src';

describe('ResursCheckoutError', () => {
  it.each([
    ['upstream_unavailable', 503],
    ['rate_limited', 429],
  ] as const)('%s (%i) always carries a retryAfter, by construction', (code, status) => {
    const error = new ResursCheckoutError(code, 'x');
    expect(error.status).toBe(status);
    expect(Number.isInteger(error.retryAfter)).toBe(true);
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.retryAfter).toBeLessThanOrEqual(3600);
  });

  it.each<[number, number]>([
    [0, 1],
    [0.2, 1],
    [1.5, 2],
    [42, 42],
    [3600, 3600],
    [3600.5, 3600],
    [86_400, 3600],
    [1e21, 3600],
    [-5, 1],
  ])('a retryAfter of %p becomes %p whole seconds', (given, expected) => {
    expect(new ResursCheckoutError('upstream_unavailable', 'x', { retryAfter: given }).retryAfter).toBe(expected);
  });

  it.each([Infinity, -Infinity, NaN])('a retryAfter of %p becomes a whole number of seconds, 1 to 3600', (given) => {
    const { retryAfter } = new ResursCheckoutError('upstream_unavailable', 'x', { retryAfter: given });
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });

  it.each(['upstream_error', 'upstream_timeout', 'invalid_request', 'internal_error'] as const)('%s carries no retryAfter unless given one', (code) => {
    expect(new ResursCheckoutError(code, 'x').retryAfter).toBeUndefined();
  });

  it('is an Error with a name, and ConfigError is another', () => {
    const error = new ResursCheckoutError('upstream_error', 'detail');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ResursCheckoutError');
    expect(error.message).toBe('detail');
    expect(new ConfigError(['a'])).not.toBeInstanceOf(ResursCheckoutError);
  });
});
