/**
 * `npm run bench`: the router's overhead against what a merchant would write by hand.
 *
 * Starts the Resurs stand-in and the servers (limit, express-undici, baseline, router-axios-http, router,
 * router-reuse) each in its own child process, then, at each upstream latency (0 and 50 ms), drives
 * in turn the stand-in directly (ceiling) and each server with autocannon from this process:
 * warm-up, then a measured run. Each run's CPU per request is the serving process' own
 * process.cpuUsage() delta over the measured window (asked through GET /__bench/cpu; /proc for the
 * stand-in) divided by the requests. Prints the table and the ratios, and writes
 * bench/results.json and bench/RESULTS.md.
 *
 * Env: BENCH_DURATION (s per measured run, 10), BENCH_WARMUP (s before each run of the first round,
 * 2; 1 s in later rounds), BENCH_CONNECTIONS (50), BENCH_ROUNDS (3: every target is measured once
 * per round, the order reversed every other round so drift on a shared machine hits all alike; the
 * median is kept), BENCH_LATENCIES ("0,50"),
 * BENCH_TARGETS (comma-separated subset), BENCH_CPU_PROF (a directory: the servers run with
 * --cpu-prof and write their profiles there on exit), BENCH_ROUTER_MODULE (see target.ts: another
 * build for the router targets; recorded in results.json), BENCH_UNDICI_NO_YIELD=1 (an experiment:
 * the targets load undici without its two yields before a write, bench/undici-no-yield.ts; such a
 * run is printed, never written).
 */
import path from 'node:path';
import { STORE_ID, envNumber, fetchToken, processCpuUs, requireBuild, setUpstreamLatency, startStandIn } from './common';
import { runLoad } from './load';
import type { LoadFigures } from './load';
import { ROOT, spawnTs } from './processes';
import type { Spawned } from './processes';
import { TARGETS, computeRatios, goalRounds, machine, ratiosTable, readResults, runsTable, targetLines, writeResults } from './report';
import type { MeasuredRun, Results, Target } from './report';

const CART_IDS = Array.from({ length: 100 }, (_, i) => `cart-${i}`);

interface Settings {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  rounds: number;
  latencies: number[];
  targets: Target[];
  cpuProfDir: string | undefined;
}

function settingsFromEnv(): Settings {
  const targets = (process.env.BENCH_TARGETS ?? TARGETS.join(',')).split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of targets) if (!TARGETS.includes(t as Target)) throw new Error(`BENCH_TARGETS: unknown target "${t}" (${TARGETS.join(', ')})`);
  const latencies = (process.env.BENCH_LATENCIES ?? '0,50').split(',').map((l) => Number(l.trim()));
  if (latencies.some((l) => !Number.isInteger(l) || l < 0)) throw new Error('BENCH_LATENCIES must be comma-separated non-negative integers');
  return {
    durationSeconds: envNumber('BENCH_DURATION', 10, 1),
    warmupSeconds: envNumber('BENCH_WARMUP', 2, 0),
    connections: envNumber('BENCH_CONNECTIONS', 50, 1),
    rounds: envNumber('BENCH_ROUNDS', 3, 1),
    latencies,
    targets: TARGETS.filter((t) => targets.includes(t)),
    cpuProfDir: process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : undefined,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Checks that a target answers one request with a session before it is measured. */
async function smokeTest(name: string, url: string, headers: Record<string, string>): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { ...headers, 'x-cart-id': 'smoke' }, body: '{}', signal: AbortSignal.timeout(10_000) });
  const body = (await response.json()) as { id?: unknown; embed?: { src?: unknown } };
  if ((response.status !== 201 && response.status !== 200) || typeof body.id !== 'string' || typeof body.embed?.src !== 'string') {
    throw new Error(`${name} did not answer a session (status ${response.status}): ${JSON.stringify(body)}`);
  }
}

/** The server's process.cpuUsage() so far (user + system, µs), from its GET /__bench/cpu. */
async function serverCpuUs(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(`${url}/__bench/cpu`, { signal: AbortSignal.timeout(5_000) });
    const { cpuUs } = (await response.json()) as { cpuUs?: unknown };
    return typeof cpuUs === 'number' ? cpuUs : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const s = settingsFromEnv();
  requireBuild();
  const perRun = s.durationSeconds + s.warmupSeconds + 3;
  const budgetSeconds = s.rounds * s.latencies.length * s.targets.length * perRun + 120;
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: still running after ${budgetSeconds} s; giving up\n`);
    process.exit(1);
  }, budgetSeconds * 1000);
  watchdog.unref();
  const m = machine();
  console.log(
    `bench: ${s.targets.join(', ')} at ${s.latencies.join(' and ')} ms upstream latency; ${s.connections} connections, ` +
      `${s.warmupSeconds} s warm-up + ${s.durationSeconds} s per run, ${s.rounds} round(s); ${m.cpu}, ${m.cores} cores, node ${m.node}` +
      (process.env.BENCH_UNDICI_NO_YIELD === '1' ? '; EXPERIMENT: undici without its two yields before a write (BENCH_UNDICI_NO_YIELD=1)' : ''),
  );

  const standIn = await startStandIn(0, 10_000);
  const token = await fetchToken(standIn.info.tokenUrl);
  const config = JSON.stringify({ baseUrl: standIn.info.baseUrl, storeId: STORE_ID, token });
  const nodeArgs = s.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${s.cpuProfDir}`] : [];
  const servers = new Map<Target, Spawned<{ url: string; pid: number }>>();
  await Promise.all(
    s.targets
      .filter((t) => t !== 'ceiling')
      .map(async (t) => servers.set(t, await spawnTs<{ url: string; pid: number }>('bench/target.ts', [t, config], { nodeArgs, name: t, compiled: true }))),
  );

  const json = { 'content-type': 'application/json' };
  const endpoint = (t: Target) =>
    t === 'ceiling'
      ? { url: `${standIn.info.baseUrl}/stores/${STORE_ID}/sessions`, headers: { ...json, authorization: `Bearer ${token}` } }
      : { url: `${servers.get(t)!.info.url}/checkout/session`, headers: json };
  for (const t of s.targets) await smokeTest(t, endpoint(t).url, endpoint(t).headers);

  const measured = new Map<string, (LoadFigures & { cpuUs: number | undefined })[]>();
  let failed = false;
  for (let round = 1; round <= s.rounds; round++) {
    for (const latency of s.latencies) {
      await setUpstreamLatency(standIn.info.url, latency);
      for (const t of round % 2 ? s.targets : [...s.targets].reverse()) {
        const { url, headers } = endpoint(t);
        const spec = { url, headers, body: '{}', connections: s.connections, ...(t === 'router-reuse' ? { cartIds: CART_IDS } : {}) };
        const warmup = round === 1 ? s.warmupSeconds : Math.min(1, s.warmupSeconds);
        if (warmup > 0) await runLoad({ ...spec, durationSeconds: warmup });
        const cpuNow = () => (t === 'ceiling' ? Promise.resolve(processCpuUs(standIn.info.pid)) : serverCpuUs(servers.get(t)!.info.url));
        const cpuBefore = await cpuNow();
        const figures = await runLoad({ ...spec, durationSeconds: s.durationSeconds });
        const cpuAfter = await cpuNow();
        const cpuUs = cpuBefore !== undefined && cpuAfter !== undefined && figures.requests > 0 ? (cpuAfter - cpuBefore) / figures.requests : undefined;
        const bad = figures.non2xx + figures.errors + figures.timeouts;
        if (bad > 0) failed = true;
        console.log(
          `  round ${round} ${t.padEnd(17)} ${String(latency).padStart(3)} ms: ${figures.rps.toFixed(0).padStart(6)} req/s  ` +
            `p50 ${figures.p50Ms.toFixed(2).padStart(7)} ms  p99 ${figures.p99Ms.toFixed(2).padStart(7)} ms (autocannon ${figures.autocannonP99Ms})` +
            (cpuUs !== undefined ? `  cpu ${cpuUs.toFixed(0).padStart(4)} µs/req` : '') +
            (bad > 0 ? `  !! ${figures.non2xx} non-2xx, ${figures.errors} errors, ${figures.timeouts} timeouts` : ''),
        );
        const key = `${t}@${latency}`;
        measured.set(key, [...(measured.get(key) ?? []), { ...figures, cpuUs }]);
      }
    }
  }

  await Promise.all([...servers.values()].map((server) => server.stop()));
  await standIn.stop();

  const runs: MeasuredRun[] = [];
  for (const latency of s.latencies) {
    for (const t of s.targets) {
      const all = measured.get(`${t}@${latency}`) ?? [];
      runs.push({
        target: t,
        upstreamLatencyMs: latency,
        rps: Math.round(median(all.map((f) => f.rps)) * 10) / 10,
        p50Ms: median(all.map((f) => f.p50Ms)),
        p99Ms: median(all.map((f) => f.p99Ms)),
        cpuUsPerRequest: all.every((f) => f.cpuUs !== undefined) ? Math.round(median(all.map((f) => f.cpuUs!))) : undefined,
      });
    }
  }
  const ratios = computeRatios(runs);
  // Round i's runs: every target as measured in that round (each list holds one entry per round).
  const roundRuns = Array.from({ length: s.rounds }, (_, i) =>
    s.latencies.flatMap((latency) =>
      s.targets.flatMap((target) => {
        const f = measured.get(`${target}@${latency}`)?.[i];
        return f ? [{ target, upstreamLatencyMs: latency, rps: f.rps, p50Ms: f.p50Ms, p99Ms: f.p99Ms, cpuUsPerRequest: f.cpuUs }] : [];
      }),
    ),
  );
  const rounds = goalRounds(roundRuns);
  console.log('\n' + runsTable(runs, ratios) + '\n\n' + ratiosTable(ratios) + '\n\n' + targetLines(ratios, rounds) + '\n');
  if (s.cpuProfDir) console.log(`CPU profiles of the servers are in ${path.relative(ROOT, s.cpuProfDir) || '.'}`);

  if (failed) {
    console.error('bench: some requests failed (see "!!" above); results.json and RESULTS.md were not written.');
    process.exitCode = 1;
    return;
  }
  if (process.env.BENCH_UNDICI_NO_YIELD === '1') {
    console.log('bench: an experiment (BENCH_UNDICI_NO_YIELD=1: undici without its yields); results.json and RESULTS.md were left as they were.');
    return;
  }
  if (s.targets.length !== TARGETS.length || s.latencies.join(',') !== '0,50') {
    console.log('bench: a partial run (BENCH_TARGETS or BENCH_LATENCIES set); results.json and RESULTS.md were left as they were.');
    return;
  }
  const previous = readResults();
  const results: Results = {
    node: m.node,
    cpu: m.cpu,
    date: new Date().toISOString(),
    environment: {
      cores: m.cores,
      platform: m.platform,
      connections: s.connections,
      durationSeconds: s.durationSeconds,
      warmupSeconds: s.warmupSeconds,
      rounds: s.rounds,
      note:
        'autocannon, the stand-in and the server under test share the machine\'s cores, so the ceiling is the stand-in alone and the other targets pay for a second process. ' +
        'p50 and p99 are nearest-rank over every 2xx answer\'s own time (fractions of a millisecond, bench/latency.ts), not autocannon\'s whole-millisecond histogram.',
      ...(process.env.BENCH_ROUTER_MODULE ? { routerModule: process.env.BENCH_ROUTER_MODULE } : {}),
    },
    runs: runs.map(({ target, upstreamLatencyMs, rps, p50Ms, p99Ms, cpuUsPerRequest }) => ({
      target,
      upstreamLatencyMs,
      rps,
      p50Ms,
      p99Ms,
      ...(cpuUsPerRequest !== undefined ? { cpuUsPerRequest } : {}),
    })),
    ratios,
    goalRounds: rounds,
    ...(previous?.soak ? { soak: previous.soak } : {}),
  };
  writeResults(results);
  console.log(`wrote ${path.relative(ROOT, path.join(__dirname, 'results.json'))} and bench/RESULTS.md`);
}

main()
  .then(() => process.exit())
  .catch((error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  });
