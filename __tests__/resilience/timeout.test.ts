/**
 * withTimeout. That a late rejection is never left unhandled is checked in a Node process of its
 * own (`__tests__/faults/unhandled-rejections.test.ts`): Jest 30 takes `unhandledRejection` first,
 * so a spy here could never see one.
 */
import { withTimeout } from '../../src/resilience/timeout';
import { busyFor, withAnsweringPeer } from '../helpers/answering-peer';

afterEach(() => {
  jest.useRealTimers();
});

describe('withTimeout', () => {
  it('passes a value through', async () => {
    await expect(withTimeout(async () => 7, 1000, () => new Error('late'))).resolves.toBe(7);
  });

  it('passes a rejection through', async () => {
    await expect(withTimeout(() => Promise.reject(new Error('refused')), 1000, () => new Error('late'))).rejects.toThrow('refused');
  });

  it('rejects with the timeout error once the limit has passed, not before', async () => {
    jest.useFakeTimers();
    let settle: (() => void) | undefined;
    const slow = () => new Promise<void>((resolve) => (settle = resolve));
    const outcome = jest.fn();
    withTimeout(slow, 10, () => new Error('late')).then(outcome, outcome);
    await jest.advanceTimersByTimeAsync(9);
    expect(outcome).not.toHaveBeenCalled();
    // At 10 ms the timer fires; the verdict follows that turn's I/O (a setImmediate, which the
    // fake clock runs a tick later).
    await jest.advanceTimersByTimeAsync(2);
    expect(outcome).toHaveBeenCalledWith(new Error('late'));
    settle?.();
  });

  it('turns a synchronous throw into a rejection', async () => {
    await expect(
      withTimeout(
        () => {
          throw new Error('boom');
        },
        1000,
        () => new Error('late'),
      ),
    ).rejects.toThrow('boom');
  });

  it('a rejection after the timeout changes nothing: the answer stays the timeout error', async () => {
    let fail: ((error: Error) => void) | undefined;
    const late = () => new Promise<void>((_, reject) => (fail = reject));
    const result = withTimeout(late, 5, () => new Error('late'));
    await expect(result).rejects.toThrow('late');
    fail?.(new Error('after the timeout'));
    await expect(result).rejects.toThrow('late');
  });

  it('clears its timer whichever way the call settles', async () => {
    jest.useFakeTimers();
    await withTimeout(async () => 1, 60_000, () => new Error('late'));
    await withTimeout(() => Promise.reject(new Error('no')), 60_000, () => new Error('late')).catch(() => undefined);
    await withTimeout(() => {
      throw new Error('sync');
    }, 60_000, () => new Error('late')).catch(() => undefined);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('takes an answer that arrived while this process was busy past the limit, instead of timing it out', async () => {
    await withAnsweringPeer(async (ask) => {
      const answer = withTimeout(ask, 200, () => new Error('late'));
      busyFor(500); // the answer comes within a millisecond or two, but this loop is busy past the limit
      await expect(answer).resolves.toBe('v');
    });
  });
});
