/**
 * "Redis is slow": a proxy in front of a redis-server that holds commands back before they reach
 * Redis (see `slow-proxy-server.ts`). It runs in a process of its own, as Redis does: were it in
 * the test's process, every pause of that process (GC, a busy CPU) would hold Redis' replies
 * back as well, and a store's time limit would be measuring the test, not Redis.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import type { DelayRule } from './slow-proxy-server';

export type { DelayRule } from './slow-proxy-server';

/** A running proxy. */
export interface SlowProxy {
  port: number;
  /** `redis://127.0.0.1:<port>` */
  url: string;
  /** Replaces the delay rule; resolves once it applies. Commands already held keep theirs. */
  setDelay(rule: DelayRule): Promise<void>;
  /** Stops the proxy's process, and with it every connection. */
  close(): Promise<void>;
}

/** Delays `SET … NX` (a lock being taken) by `ms`, every other command by `others` (default 0). */
export function delaySetNx(ms: number, others = 0): DelayRule {
  return { setNxMs: ms, otherMs: others };
}

/** Delays every command by `ms` plus a random 0 to `jitterMs` - 1. */
export function delayAll(ms: number, jitterMs = 0): DelayRule {
  return { setNxMs: ms, otherMs: ms, jitterMs };
}

const SERVER = path.join(__dirname, 'slow-proxy-server.ts');

/** Starts a proxy to `127.0.0.1:targetPort` in a child process. */
export async function startSlowProxy(targetPort: number, rule: DelayRule = {}): Promise<SlowProxy> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', SERVER, String(targetPort), JSON.stringify(rule)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async (what: string): Promise<string> => {
    const line = await Promise.race([lines.next(), exited.then(() => ({ done: true, value: undefined }) as const)]);
    if (line.done) throw new Error(`slow Redis proxy: exited before ${what}`);
    return line.value;
  };
  const port = Number(await next('listening'));
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    // Rules are written and answered in order, so each call reads its own `ok`.
    async setDelay(nextRule) {
      child.stdin!.write(`${JSON.stringify(nextRule)}\n`);
      if ((await next('applying a rule')) !== 'ok') throw new Error('slow Redis proxy: unexpected answer to a rule');
    },
    async close() {
      child.stdin!.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(killer);
    },
  };
}
