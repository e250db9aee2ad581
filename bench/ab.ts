/**
 * A/B of two router builds, side by side: `node -r ts-node/register/transpile-only bench/ab.ts <distA> <distB>`
 * Runs both in their own processes against one stand-in, alternating short runs (AB_ROUNDS, AB_DURATION s,
 * AB_CONNECTIONS, AB_LATENCY ms, AB_RATE requests/s or as fast as possible), and prints the medians of requests/s, p99 and server CPU per request.
 * AB_PARALLEL=1 loads all builds at the same time instead (same noise for all; for CPU cost).
 * AB_CPU_PROF=dir writes each server's CPU profile there (see bench/profile-summary.ts).
 * A developer's tool for measuring a change to src/; `npm run bench` does not use it.
 */
import { STORE_ID, envNumber, fetchToken, processCpuUs, setUpstreamLatency, startStandIn } from './common';
import { runLoad } from './load';
import path from 'node:path';
import { ROOT, spawnTs } from './processes';

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;

async function main(): Promise<void> {
  const builds = process.argv.slice(2);
  if (builds.length < 2) throw new Error('usage: ab.ts <distA|baseline|limit|express-undici> <distB|...> ...');
  const rounds = envNumber('AB_ROUNDS', 6, 1);
  const duration = envNumber('AB_DURATION', 3, 1);
  const connections = envNumber('AB_CONNECTIONS', 20, 1);
  const standIn = await startStandIn(0, 10_000);
  await setUpstreamLatency(standIn.info.url, envNumber('AB_LATENCY', 0, 0));
  const token = await fetchToken(standIn.info.tokenUrl);
  const config = JSON.stringify({ baseUrl: standIn.info.baseUrl, storeId: STORE_ID, token });
  const nodeArgs = process.env.AB_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.AB_CPU_PROF)}`] : [];
  // A build may carry options after a '#': /path/to/dist#{"breaker":false}
  const servers = await Promise.all(
    builds.map((spec) => [spec.split('#')[0]!, spec.split('#')[1] ?? '{}'] as const).map(([b, extra]) =>
      ['baseline', 'limit', 'express-undici'].includes(b)
        ? spawnTs<{ url: string; pid: number }>('bench/target.ts', [b, config], { name: b, nodeArgs, compiled: true })
        : spawnTs<{ url: string; pid: number }>('bench/target.ts', ['router', config], { name: b, nodeArgs, compiled: true, env: { BENCH_ROUTER_MODULE: b, BENCH_ROUTER_OPTIONS: extra, NODE_PATH: path.join(ROOT, 'node_modules') } }),
    ),
  );
  const results = builds.map(() => ({ rps: [] as number[], p99: [] as number[], cpu: [] as number[] }));
  const parallel = process.env.AB_PARALLEL === '1';
  for (let round = 0; round <= rounds; round++) {
    const order = round % 2 ? [...servers.keys()].reverse() : [...servers.keys()];
    if (parallel) {
      // All at once: every build sees the same moment of a noisy machine; the cheaper one answers more.
      const before = servers.map((s) => processCpuUs(s.info.pid)!);
      const figures = await Promise.all(
        servers.map((s) =>
          runLoad({ url: `${s.info.url}/checkout/session`, headers: { 'content-type': 'application/json' }, body: '{}', connections, durationSeconds: duration }),
        ),
      );
      if (round === 0) continue;
      figures.forEach((f, i) => {
        const cpu = (processCpuUs(servers[i]!.info.pid)! - before[i]!) / f.requests;
        results[i]!.rps.push(f.rps);
        results[i]!.p99.push(f.p99Ms);
        results[i]!.cpu.push(cpu);
        console.log(`  ${builds[i]}: ${f.rps.toFixed(0)} req/s p99 ${f.p99Ms} ms cpu ${cpu.toFixed(0)} µs/req`);
      });
      continue;
    }
    for (const i of order) {
      const spec = { url: `${servers[i]!.info.url}/checkout/session`, headers: { 'content-type': 'application/json' }, body: '{}', connections, durationSeconds: duration, overallRate: envNumber('AB_RATE', 0, 0) };
      const before = processCpuUs(servers[i]!.info.pid)!;
      const standInBefore = processCpuUs(standIn.info.pid)!;
      const selfBefore = process.cpuUsage();
      const f = await runLoad(spec);
      const cpu = (processCpuUs(servers[i]!.info.pid)! - before) / f.requests;
      const standInCpu = (processCpuUs(standIn.info.pid)! - standInBefore) / f.requests;
      const selfCpu = process.cpuUsage(selfBefore);
      const loadCpu = (selfCpu.user + selfCpu.system) / f.requests;
      if (round === 0) continue; // warm-up
      if (f.non2xx + f.errors > 0) console.log(`!! ${builds[i]}: ${f.non2xx} non-2xx, ${f.errors} errors`);
      results[i]!.rps.push(f.rps);
      results[i]!.p99.push(f.p99Ms);
      results[i]!.cpu.push(cpu);
      console.log(`  ${builds[i]}: ${f.rps.toFixed(0)} req/s p99 ${f.p99Ms} ms cpu ${cpu.toFixed(0)} µs/req; stand-in ${standInCpu.toFixed(0)}, autocannon ${loadCpu.toFixed(0)} µs/req`);
    }
  }
  const base = results[0]!;
  builds.forEach((b, i) => {
    const r = results[i]!;
    console.log(
      `${b}: median ${median(r.rps).toFixed(0)} req/s (${(median(r.rps) / median(base.rps)).toFixed(3)}), p99 ${median(r.p99)} ms (${(median(r.p99) / median(base.p99)).toFixed(3)}), ` +
        `cpu ${median(r.cpu).toFixed(0)} µs/req (${(median(r.cpu) / median(base.cpu)).toFixed(3)})`,
    );
  });
  await Promise.all(servers.map((s) => s.stop()));
  await standIn.stop();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
