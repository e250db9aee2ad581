/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^(retry-1))). */
import fc from 'fast-check';
import { DEFAULT_BACKOFF, backoffDelay } from '../../src/resilience/backoff';

describe('backoffDelay', () => {
  it('without options waits like a 100 ms base and a 2 s cap (the retry loop calls it so)', () => {
    const almostOne = () => 0.999_999;
    expect([1, 2, 5, 6, 30].map((retry) => backoffDelay(retry, undefined, almostOne))).toEqual([99, 199, 1_599, 1_999, 1_999]);
    expect([1, 2, 5, 6, 30].map((retry) => backoffDelay(retry, undefined, almostOne))).toEqual(
      [1, 2, 5, 6, 30].map((retry) => backoffDelay(retry, DEFAULT_BACKOFF, almostOne)),
    );
  });

  it('follows the options it is given', () => {
    const almostOne = () => 0.999_999;
    expect([1, 2, 3, 4].map((retry) => backoffDelay(retry, { baseMs: 10, capMs: 50 }, almostOne))).toEqual([9, 19, 39, 49]);
  });

  it('the ceiling doubles per retry up to the cap (random just under 1)', () => {
    const almostOne = () => 0.999_999;
    expect([1, 2, 3, 4, 5, 6, 7].map((retry) => backoffDelay(retry, DEFAULT_BACKOFF, almostOne))).toEqual([
      99, 199, 399, 799, 1_599, 1_999, 1_999,
    ]);
  });

  it('full jitter: random 0 gives no wait at all, whatever the retry', () => {
    for (const retry of [1, 3, 10]) expect(backoffDelay(retry, DEFAULT_BACKOFF, () => 0)).toBe(0);
  });

  it('is a whole number in [0, min(cap, base·2^(retry-1))) for any retry and random', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, r) => {
          const delay = backoffDelay(retry, DEFAULT_BACKOFF, () => r);
          const ceiling = Math.min(2_000, 100 * 2 ** (retry - 1));
          return Number.isInteger(delay) && delay >= 0 && delay < ceiling;
        },
      ),
    );
  });

  it('spreads: many draws with Math.random are not all alike', () => {
    const draws = new Set(Array.from({ length: 50 }, () => backoffDelay(3)));
    expect(draws.size).toBeGreaterThan(10);
  });
});
