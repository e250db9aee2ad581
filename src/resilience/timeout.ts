/** Bounding one call in time. */

/**
 * Runs `call` (a throw becomes a rejection) and rejects with `timeoutError()` if it has not
 * settled within `ms`. The timer is cleared either way, and a late rejection is swallowed.
 */
export function withTimeout<T>(call: () => Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let pending: Promise<T>;
  try {
    pending = Promise.resolve(call());
  } catch (error) {
    pending = Promise.reject(error);
  }
  pending.catch(() => undefined); // a late rejection after the timeout must not go unhandled
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  return Promise.race([pending, timeout]).finally(() => clearTimeout(timer));
}
