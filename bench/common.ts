/** Shared by bench/run.ts and bench/soak.ts: the stand-in process, a merchant token, env numbers. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../demo-app/resurs-stand-in/constants';
import { ROOT, spawnTs } from './processes';
import type { Spawned } from './processes';

export const STORE_ID = 'bench-store';

export interface StandInInfo {
  url: string;
  baseUrl: string;
  tokenUrl: string;
  pid: number;
}

export function envNumber(name: string, fallback: number, min = 0): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  return n;
}

export function requireBuild(): void {
  const build = process.env.BENCH_ROUTER_MODULE ? path.resolve(process.env.BENCH_ROUTER_MODULE) : path.join(ROOT, 'dist');
  if (process.env.BENCH_ROUTER_MODULE && !existsSync(path.join(build, 'index.js'))) throw new Error(`BENCH_ROUTER_MODULE: no index.js in ${build}`);
  if (!existsSync(path.join(build, 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does).');
  }
}

export function startStandIn(latencyMs: number, maxSessions: number): Promise<Spawned<StandInInfo>> {
  return spawnTs<StandInInfo>('bench/stand-in.ts', [String(latencyMs), String(maxSessions)], { name: 'stand-in' });
}

/** A merchant JWT from the stand-in's client-credentials endpoint (demo credentials). */
export async function fetchToken(tokenUrl: string): Promise<string> {
  const response = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: DEMO_CLIENT_ID,
      client_secret: DEMO_CLIENT_SECRET,
      scope: 'mock-merchant-api',
    }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const { access_token: token } = (await response.json()) as { access_token?: unknown };
  if (typeof token !== 'string') throw new Error('token endpoint gave no access_token');
  return token;
}

export async function setUpstreamLatency(standInUrl: string, ms: number): Promise<void> {
  const response = await fetch(`${standInUrl}/__stand-in/latency`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ms }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok) throw new Error(`stand-in latency control answered ${response.status}`);
}

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 100) / 100;
export function memory(): { heapUsedMB: number; rssMB: number } {
  const m = process.memoryUsage();
  return { heapUsedMB: mb(m.heapUsed), rssMB: mb(m.rss) };
}

/**
 * CPU time (user + system, in µs) a process has used so far, from /proc on Linux; undefined
 * elsewhere. Per request, it is the server's own cost, steadier than throughput on a busy machine.
 */
export function processCpuUs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1e6) / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}
/** USER_HZ, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;
