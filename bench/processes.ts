/**
 * Child processes for the benchmarks: each server runs in its own process, so none shares an
 * event loop with the load generator. Every child is killed when the parent exits or is
 * signalled, and a child also exits on its own when its stdin closes (the parent died).
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..');

const children = new Set<ChildProcess>();

function killAll(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping child processes\n`);
      killAll();
      process.exit(130);
    });
  }
}

export interface Spawned<T> {
  info: T;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Where `tsconfig.bench.json` puts the compiled servers under test. */
const COMPILED = path.join(ROOT, '.bench-build');
let compiledOnce = false;

/**
 * Compiles the servers under test (bench/target.ts and what it imports) to plain JavaScript, once
 * per run: a shop runs compiled code, and ts-node would load `node:domain` (through its REPL) and
 * source-map support into the measured process, which slows every EventEmitter.emit there.
 */
function compileTargets(): void {
  if (compiledOnce) return;
  const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.bench.json')], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error('bench: compiling the targets (tsconfig.bench.json) failed; run `npm run build` first');
  compiledOnce = true;
}

/**
 * Runs `node [nodeArgs] -r ts-node/register/transpile-only <script> [args]` (or, with `compiled`,
 * the script's compiled JavaScript) and resolves with the first stdout line parsed as JSON (the
 * child's "ready" line). Rejects when the child exits or prints nothing within `timeoutMs`.
 */
export function spawnTs<T>(
  script: string,
  args: string[],
  options: { nodeArgs?: string[]; timeoutMs?: number; name?: string; env?: Record<string, string>; compiled?: boolean } = {},
): Promise<Spawned<T>> {
  hookExit();
  const name = options.name ?? path.basename(script);
  if (options.compiled) compileTargets();
  const entry = options.compiled
    ? [path.join(COMPILED, script.replace(/\.ts$/, '.js'))]
    : ['-r', 'ts-node/register/transpile-only', path.resolve(ROOT, script)];
  const child = spawn(
    process.execPath,
    [...(options.nodeArgs ?? []), ...entry, ...args],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...options.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
  );
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => children.delete(child));

  const stop = async (graceMs = 5_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => {
      void stop(0);
      reject(new Error(`${name} did not start within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (code ${code}) before it was ready`));
    };
    child.once('exit', onExit);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let newline = buffered.indexOf('\n');
      // Skip anything printed before the ready line (e.g. flags that write to stdout).
      while (newline !== -1 && !buffered.startsWith('{')) {
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf('\n');
      }
      if (newline === -1) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      clearTimeout(timer);
      child.stdout!.resume(); // keep draining anything else it prints
      try {
        resolve({ info: JSON.parse(buffered.slice(0, newline)) as T, child, stop });
      } catch {
        void stop(0);
        reject(new Error(`${name} printed something that is not a JSON ready line: ${buffered.slice(0, newline)}`));
      }
    };
    child.stdout!.on('data', onData);
  });
}

/** For child entry points: exit when told to, or when the parent goes away (stdin closes). */
export function exitWithParent(close: () => Promise<void> | void): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(0), 3_000);
    force.unref();
    Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
