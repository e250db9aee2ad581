/**
 * `npm run build && node -r ts-node/register/transpile-only bench/otel.ts`: what OpenTelemetry
 * costs. Two servers from the same build, each in its own process, against the same stand-in:
 *   router       the package with default options and no SDK registered (telemetry is a no-op)
 *   router-otel  the same with a real SDK registered (bench/target-otel.ts): every span recorded
 *                and batch-exported, every metric aggregated
 * measured in alternating order for BENCH_ROUNDS rounds (medians kept), and, in this process, the
 * package's no-op telemetry calls of one session request timed alone (ns per request).
 * Writes bench/otel-results.json. Env as bench/run.ts: BENCH_DURATION (10), BENCH_WARMUP (2),
 * BENCH_CONNECTIONS (50), BENCH_ROUNDS (3), BENCH_LATENCIES ("0").
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { STORE_ID, envNumber, fetchToken, requireBuild, setUpstreamLatency, startStandIn } from './common';
import { runLoad } from './load';
import type { LoadFigures } from './load';
import { spawnTs } from './processes';
import type { Spawned } from './processes';
import { createTransportTelemetry } from '../src/telemetry/operation';
import { beginRoute, endRoute, noteSession, runInRoute } from '../src/telemetry/route';

const TARGETS = { router: 'bench/target.ts', 'router-otel': 'bench/target-otel.ts' } as const;
type Target = keyof typeof TARGETS;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function serverCpuUs(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/__bench/cpu`, { signal: AbortSignal.timeout(5_000) });
    const { cpuUs } = (await response.json()) as { cpuUs?: unknown };
    return typeof cpuUs === 'number' ? cpuUs : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The telemetry calls one session request makes (route span, operation, one attempt, metrics),
 * with no SDK, in ns: the same loop with and without them, the difference.
 */
async function noopNsPerRequest(iterations: number): Promise<number> {
  const transport = createTransportTelemetry();
  const operation = { name: 'create session', method: 'POST', url: 'https://api.checkout.int.resurs.cloud/mock/payment/public/v1/stores/s/sessions' };
  const answer = { status: 201 };
  const once = async () => {
    const route = beginRoute('session', 'POST', '/checkout/session');
    await runInRoute(route, async () => {
      const trace = transport.operation(operation);
      const value = await trace.run(() => trace.attempt(1, async () => answer));
      trace.succeeded(value);
      noteSession(route, false);
    });
    endRoute(route, { status: 201, code: undefined, finished: true, campaign: undefined, storeId: undefined });
  };
  const bare = async () => {
    await (async () => {
      await (async () => answer)();
    })();
  };
  const time = async (fn: () => Promise<void>) => {
    for (let i = 0; i < 20_000; i++) await fn(); // warm-up
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn();
    return Number(process.hrtime.bigint() - started) / iterations;
  };
  const samples = [];
  for (let i = 0; i < 3; i++) samples.push((await time(once)) - (await time(bare)));
  return Math.max(0, median(samples));
}

async function main(): Promise<void> {
  requireBuild();
  const durationSeconds = envNumber('BENCH_DURATION', 10, 1);
  const warmupSeconds = envNumber('BENCH_WARMUP', 2, 0);
  const connections = envNumber('BENCH_CONNECTIONS', 50, 1);
  const rounds = envNumber('BENCH_ROUNDS', 3, 1);
  const latencies = (process.env.BENCH_LATENCIES ?? '0').split(',').map((l) => Number(l.trim()));
  const targets = Object.keys(TARGETS) as Target[];
  const budgetSeconds = rounds * latencies.length * targets.length * (durationSeconds + warmupSeconds + 3) + 120;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench/otel: still running after ${budgetSeconds} s; giving up\n`);
    process.exit(1);
  }, budgetSeconds * 1000);
  watchdog.unref();

  const noopNs = await noopNsPerRequest(200_000);
  console.log(`no-op telemetry of one session request (no SDK registered), timed alone: ${noopNs.toFixed(0)} ns`);

  const standIn = await startStandIn(0, 10_000);
  const token = await fetchToken(standIn.info.tokenUrl);
  const config = JSON.stringify({ baseUrl: standIn.info.baseUrl, storeId: STORE_ID, token });
  const servers = new Map<Target, Spawned<{ url: string; pid: number }>>();
  for (const t of targets) servers.set(t, await spawnTs<{ url: string; pid: number }>(TARGETS[t], ['router', config], { name: t }));
  const headers = { 'content-type': 'application/json' };

  const measured = new Map<string, (LoadFigures & { cpuUs: number | undefined })[]>();
  let failed = false;
  for (let round = 1; round <= rounds; round++) {
    for (const latency of latencies) {
      await setUpstreamLatency(standIn.info.url, latency);
      for (const t of round % 2 ? targets : [...targets].reverse()) {
        const url = `${servers.get(t)!.info.url}/checkout/session`;
        const spec = { url, headers, body: '{}', connections };
        const warmup = round === 1 ? warmupSeconds : Math.min(1, warmupSeconds);
        if (warmup > 0) await runLoad({ ...spec, durationSeconds: warmup });
        const before = await serverCpuUs(servers.get(t)!.info.url);
        const figures = await runLoad({ ...spec, durationSeconds });
        const after = await serverCpuUs(servers.get(t)!.info.url);
        const cpuUs = before !== undefined && after !== undefined && figures.requests > 0 ? (after - before) / figures.requests : undefined;
        const bad = figures.non2xx + figures.errors + figures.timeouts;
        if (bad > 0) failed = true;
        console.log(
          `  round ${round} ${t.padEnd(12)} ${String(latency).padStart(3)} ms: ${figures.rps.toFixed(0).padStart(6)} req/s  ` +
            `p50 ${figures.p50Ms.toFixed(2).padStart(7)} ms  p99 ${figures.p99Ms.toFixed(2).padStart(7)} ms` +
            (cpuUs !== undefined ? `  cpu ${cpuUs.toFixed(0).padStart(4)} µs/req` : '') +
            (bad > 0 ? `  !! ${figures.non2xx} non-2xx, ${figures.errors} errors, ${figures.timeouts} timeouts` : ''),
        );
        const key = `${t}@${latency}`;
        measured.set(key, [...(measured.get(key) ?? []), { ...figures, cpuUs }]);
      }
    }
  }
  await Promise.all([...servers.values()].map((s) => s.stop()));
  await standIn.stop();

  const runs = latencies.flatMap((latency) =>
    targets.map((target) => {
      const all = measured.get(`${target}@${latency}`) ?? [];
      return {
        target,
        upstreamLatencyMs: latency,
        rps: Math.round(median(all.map((f) => f.rps))),
        p50Ms: median(all.map((f) => f.p50Ms)),
        p99Ms: median(all.map((f) => f.p99Ms)),
        cpuUsPerRequest: all.every((f) => f.cpuUs !== undefined) ? Math.round(median(all.map((f) => f.cpuUs!))) : undefined,
      };
    }),
  );
  console.log('\ntarget        latency    req/s   p50 ms   p99 ms  cpu µs/req');
  for (const r of runs) {
    console.log(
      `${r.target.padEnd(12)} ${String(r.upstreamLatencyMs).padStart(5)} ms ${String(r.rps).padStart(8)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.cpuUsPerRequest ?? '-').padStart(11)}`,
    );
  }
  if (failed) {
    console.error('bench/otel: some requests failed (see "!!" above); otel-results.json was not written.');
    process.exitCode = 1;
    return;
  }
  const results = {
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    date: new Date().toISOString(),
    environment: { connections, durationSeconds, warmupSeconds, rounds },
    noopTelemetryNsPerRequest: Math.round(noopNs),
    runs,
  };
  writeFileSync(path.join(__dirname, 'otel-results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log('wrote bench/otel-results.json');
}

main()
  .then(() => process.exit())
  .catch((error: unknown) => {
    console.error(`bench/otel: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  });
