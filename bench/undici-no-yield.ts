/**
 * An experiment, never shipped: undici without the two event-loop yields it makes before writing
 * a request on a reused keep-alive socket (pipelining 1), to measure what they cost.
 *   1. idle-socket validation: a request for a socket that has been idle waits for the check
 *      phase, so a FIN or stray bytes already on it are seen first (GHSA-35p6-xmwp-9g52);
 *   2. after each answer, the socket is resumed on `setImmediate` (against servers that close a
 *      connection they said they would keep).
 * `BENCH_UNDICI_NO_YIELD=1 npm run bench` loads undici's `client-h1.js` with both removed in the
 * target processes (bench/target-preload.ts); the run's results are printed, never written to
 * results.json. Removing (1) gives up undici's protection against response-queue poisoning: fine
 * against the local stand-in, not in a shop.
 */
import fs from 'node:fs';
import Module from 'node:module';

/** The file in undici that holds both yields. */
export const CLIENT_H1 = /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h1\.js$/;

const EDITS = [
  { yieldName: 'idle-socket validation', from: 'if (client[kRunning] === 0 && client[kPending] > 0 && socket[kSocketUsed]) {', to: 'if (false) {' },
  { yieldName: 'resume after an answer', from: 'setImmediate(client[kResume])', to: 'client[kResume]()' },
];

/** `source` (undici's client-h1.js) without the two yields; throws when either is not found exactly once. */
export function withoutYields(source: string): string {
  let edited = source;
  for (const { yieldName, from, to } of EDITS) {
    const count = edited.split(from).length - 1;
    if (count !== 1) {
      throw new Error(`undici's client-h1.js has "${from}" ${count} times (the ${yieldName}), not once: update bench/undici-no-yield.ts for this undici`);
    }
    edited = edited.replace(from, to);
  }
  return edited;
}

type Loader = (module: Module, filename: string) => void;

/** From now on, this process loads undici's client-h1.js through `withoutYields` (CommonJS only). */
export function installUndiciWithoutYields(): void {
  const extensions = (Module as unknown as { _extensions: Record<string, Loader> })._extensions;
  const load = extensions['.js']!;
  extensions['.js'] = (module, filename) => {
    if (!CLIENT_H1.test(filename)) return load(module, filename);
    (module as unknown as { _compile(source: string, filename: string): void })._compile(withoutYields(fs.readFileSync(filename, 'utf8')), filename);
  };
}
