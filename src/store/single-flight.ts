/**
 * Returns a function that shares one run of `fn` between concurrent calls with the same key.
 * The entry is dropped as soon as the run settles, so neither a result nor a failure is kept.
 */
export function createSingleFlight<T>(): (key: string, fn: () => Promise<T>) => Promise<T> {
  const inFlight = new Map<string, Promise<T>>();
  return (key, fn) => {
    const existing = inFlight.get(key);
    if (existing) return existing;
    const run = (async () => fn())();
    inFlight.set(key, run);
    const forget = (): void => {
      if (inFlight.get(key) === run) inFlight.delete(key);
    };
    run.then(forget, forget);
    return run;
  };
}
