/** Bounding one call in time. */
import type { StopSignal } from './stop';

/**
 * Settles like `pending`, or rejects with `timeoutError()` when it has not settled `ms` after the
 * call, or with `signal`'s reason when that aborts first. When the timer fires, the verdict waits
 * for the I/O phase of that turn of the event loop: an answer that arrived while this process was
 * busy (CPU load, a GC pause) is taken, not timed out, so a pause of ours is not the other side
 * being slow. The timers are cleared either way, and a late rejection of `pending` is swallowed.
 */
export function settleWithin<T>(pending: Promise<T>, ms: number, timeoutError: () => Error, signal?: StopSignal): Promise<T> {
  pending.catch(() => undefined); // a late rejection after the timeout must not go unhandled
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    const finish = (settle: () => void): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      signal?.removeEventListener('abort', onAbort);
      settle();
    };
    const onAbort = (): void => finish(() => reject(signal?.reason));
    const timer = setTimeout(() => {
      immediate = setImmediate(() => finish(() => reject(timeoutError())));
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** Runs `call` (a synchronous throw becomes a rejection) bounded as {@link settleWithin} bounds it. */
export function withTimeout<T>(call: () => Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  return settleWithin(started(call), ms, timeoutError);
}

/** Runs `call`, a synchronous throw becoming a rejection. */
export function started<R>(call: () => Promise<R>): Promise<R> {
  try {
    return Promise.resolve(call());
  } catch (error) {
    return Promise.reject(error);
  }
}
