import { createSingleFlight } from '../../src/store/single-flight';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('createSingleFlight', () => {
  it('shares one run between concurrent calls with the same key', async () => {
    const flight = createSingleFlight<number>();
    const gate = deferred<number>();
    const fn = jest.fn(() => gate.promise);
    const calls = Array.from({ length: 10 }, () => flight('k', fn));
    gate.resolve(7);
    await expect(Promise.all(calls)).resolves.toEqual(Array(10).fill(7));
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('runs separately for different keys', async () => {
    const flight = createSingleFlight<string>();
    const fn = jest.fn(async () => 'x');
    await Promise.all([flight('a', fn), flight('b', fn)]);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('forgets a result once it settles', async () => {
    const flight = createSingleFlight<number>();
    let n = 0;
    await expect(flight('k', async () => ++n)).resolves.toBe(1);
    await expect(flight('k', async () => ++n)).resolves.toBe(2);
  });

  it('shares a failure with concurrent callers but does not cache it', async () => {
    const flight = createSingleFlight<string>();
    const gate = deferred<string>();
    const first = flight('k', () => gate.promise);
    const second = flight('k', async () => 'never called');
    gate.reject(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).rejects.toThrow('boom');
    await expect(flight('k', async () => 'ok')).resolves.toBe('ok');
  });

  it('turns a synchronous throw into a rejection and forgets it', async () => {
    const flight = createSingleFlight<string>();
    const call = flight('k', () => {
      throw new Error('sync');
    });
    await expect(call).rejects.toThrow('sync');
    await expect(flight('k', async () => 'ok')).resolves.toBe('ok');
  });
});
