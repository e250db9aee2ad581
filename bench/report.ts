/**
 * bench/results.json (the contract's format, plus `ratios`, `environment` and `soak`) and
 * bench/RESULTS.md, rendered from it. `npm run bench` writes the runs, `npm run bench:soak` the
 * soak; each keeps the other's part of the file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const RESULTS_JSON = path.join(__dirname, 'results.json');
export const RESULTS_MD = path.join(__dirname, 'RESULTS.md');

export type Target = 'ceiling' | 'limit' | 'express-undici' | 'baseline' | 'router-axios-http' | 'router' | 'router-reuse';
export const TARGETS: readonly Target[] = ['ceiling', 'limit', 'express-undici', 'baseline', 'router-axios-http', 'router', 'router-reuse'];

export interface Run {
  target: Target;
  upstreamLatencyMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /**
   * CPU time (user + system) the serving process spent per request over the measured window, in
   * µs: from process.cpuUsage() inside the target; from /proc for `ceiling` (the stand-in). Optional:
   * older results and other platforms have none.
   */
  cpuUsPerRequest?: number | undefined;
}

/** A run as measured (the same as a stored one). */
export type MeasuredRun = Run;

export interface Ratios {
  upstreamLatencyMs: number;
  /** CPU time the process under test spent per request, in µs (Linux; the stand-in's for `ceiling`). */
  cpuUsPerRequest: Partial<Record<Target, number | null>>;
  /** router CPU per request / baseline CPU per request: the router's own cost, steadier than rps. */
  routerVsBaselineCpu: number | null;
  /** router rps / baseline rps (target >= 0.95 at 0 ms; issue 14: >= 1.5). */
  routerVsBaselineRps: number | null;
  /** router p99 / baseline p99 (target <= 1.1 at 0 ms). */
  routerVsBaselineP99: number | null;
  routerVsCeilingRps: number | null;
  routerVsCeilingP99: number | null;
  /** router-reuse rps / router rps (reuse on vs off). */
  reuseVsRouterRps: number | null;
  reuseVsRouterP99: number | null;
  /** router CPU per request / limit's (node:http + undici, nothing else): what the package adds over the floor. */
  routerVsLimitCpu?: number | null;
  routerVsLimitRps?: number | null;
  /** router (default transport) / router-axios-http (axios' http adapter, as with `httpAgent`). */
  routerVsAxiosHttpCpu?: number | null;
  routerVsAxiosHttpRps?: number | null;
  /** router / express-undici (Express 5 + express.json + undici, nothing else): what the package's own features cost. */
  routerVsExpressUndiciCpu?: number | null;
  /** express-undici CPU per request / baseline's: how far below the hand-written endpoint Express itself allows. */
  expressUndiciVsBaselineCpu?: number | null;
}

export interface Soak {
  date: string;
  sessions: number;
  concurrency: number;
  durationSeconds: number;
  failures: number;
  heapUsedMB: { before: number; after: number; afterGc: number };
  rssMB: { before: number; after: number; afterGc: number };
  heapGrowthAfterGcMB: number;
  limitMB: number;
  passed: boolean;
}

export interface Environment {
  cores: number;
  platform: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  rounds: number;
  note: string;
  /** Set when the router targets loaded another build than dist/ (BENCH_ROUTER_MODULE). */
  routerModule?: string;
}

/**
 * Issue 14's three goal ratios in each round (router over baseline, both measured in that round):
 * how far the medians can be trusted on a noisy machine.
 */
export interface GoalRounds {
  /** 0 ms: router CPU per request / baseline's (goal <= 0.6). */
  cpuAt0: number[];
  /** 0 ms: router rps / baseline rps (goal >= 1.5). */
  rpsAt0: number[];
  /** 50 ms: router p99 / baseline p99 (goal <= 1). */
  p99At50: number[];
}

export interface Results {
  node: string;
  cpu: string;
  date: string;
  environment?: Environment;
  runs: Run[];
  ratios?: Ratios[];
  goalRounds?: GoalRounds;
  soak?: Soak;
}

export function readResults(): Results | undefined {
  if (!existsSync(RESULTS_JSON)) return undefined;
  try {
    return JSON.parse(readFileSync(RESULTS_JSON, 'utf8')) as Results;
  } catch {
    return undefined;
  }
}

export function machine(): { node: string; cpu: string; cores: number; platform: string } {
  const cpus = os.cpus();
  return { node: process.version, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, platform: `${os.platform()} ${os.release()} ${os.arch()}` };
}

const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 1000) / 1000);

export function computeRatios(runs: MeasuredRun[]): Ratios[] {
  const latencies = [...new Set(runs.map((r) => r.upstreamLatencyMs))];
  return latencies.map((upstreamLatencyMs) => {
    const get = (target: Target) => runs.find((r) => r.target === target && r.upstreamLatencyMs === upstreamLatencyMs);
    const [ceiling, limit, expressUndici, baseline, axiosHttp, router, reuse] = TARGETS.map(get);
    const cpu: Partial<Record<Target, number | null>> = {};
    for (const r of [ceiling, limit, expressUndici, baseline, axiosHttp, router, reuse]) if (r) cpu[r.target] = r.cpuUsPerRequest ?? null;
    return {
      upstreamLatencyMs,
      cpuUsPerRequest: cpu,
      routerVsBaselineCpu: ratio(router?.cpuUsPerRequest, baseline?.cpuUsPerRequest),
      routerVsBaselineRps: ratio(router?.rps, baseline?.rps),
      routerVsBaselineP99: ratio(router?.p99Ms, baseline?.p99Ms),
      routerVsCeilingRps: ratio(router?.rps, ceiling?.rps),
      routerVsCeilingP99: ratio(router?.p99Ms, ceiling?.p99Ms),
      reuseVsRouterRps: ratio(reuse?.rps, router?.rps),
      reuseVsRouterP99: ratio(reuse?.p99Ms, router?.p99Ms),
      routerVsLimitCpu: ratio(router?.cpuUsPerRequest, limit?.cpuUsPerRequest),
      routerVsLimitRps: ratio(router?.rps, limit?.rps),
      routerVsAxiosHttpCpu: ratio(router?.cpuUsPerRequest, axiosHttp?.cpuUsPerRequest),
      routerVsAxiosHttpRps: ratio(router?.rps, axiosHttp?.rps),
      routerVsExpressUndiciCpu: ratio(router?.cpuUsPerRequest, expressUndici?.cpuUsPerRequest),
      expressUndiciVsBaselineCpu: ratio(expressUndici?.cpuUsPerRequest, baseline?.cpuUsPerRequest),
    };
  });
}

/** The goal ratios of each round, from that round's runs alone (`rounds[i]`: every target measured in round i). */
export function goalRounds(rounds: MeasuredRun[][]): GoalRounds {
  const perRound = rounds.map(computeRatios);
  const pick = (ms: number, key: 'routerVsBaselineCpu' | 'routerVsBaselineRps' | 'routerVsBaselineP99'): number[] =>
    perRound.map((ratios) => ratios.find((r) => r.upstreamLatencyMs === ms)?.[key]).filter((v): v is number => typeof v === 'number');
  return { cpuAt0: pick(0, 'routerVsBaselineCpu'), rpsAt0: pick(0, 'routerVsBaselineRps'), p99At50: pick(50, 'routerVsBaselineP99') };
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? '–' : n.toFixed(digits));

export function runsTable(runs: Run[], ratios?: Ratios[]): string {
  const cpuOf = (r: Run) => r.cpuUsPerRequest ?? ratios?.find((x) => x.upstreamLatencyMs === r.upstreamLatencyMs)?.cpuUsPerRequest?.[r.target];
  const withCpu = runs.some((r) => typeof cpuOf(r) === 'number');
  const lines = [
    '| target | upstream latency | requests/s | p50 ms | p99 ms |' + (withCpu ? ' CPU µs/request |' : ''),
    '|---|---:|---:|---:|---:|' + (withCpu ? '---:|' : ''),
  ];
  for (const r of runs) {
    lines.push(
      `| ${r.target} | ${r.upstreamLatencyMs} ms | ${r.rps.toFixed(0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} |` + (withCpu ? ` ${fmt(cpuOf(r), 0)} |` : ''),
    );
  }
  return lines.join('\n');
}

export function ratiosTable(ratios: Ratios[]): string {
  const lines = [
    '| upstream latency | router/baseline rps | router/baseline p99 | router/baseline CPU per request | express-undici/baseline CPU per request | router/express-undici CPU per request | router/limit rps | router/limit CPU per request | router/router-axios-http rps | router/router-axios-http CPU per request | router/ceiling rps | router/ceiling p99 | router-reuse/router rps | router-reuse/router p99 |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of ratios) {
    lines.push(
      `| ${r.upstreamLatencyMs} ms | ${fmt(r.routerVsBaselineRps, 3)} | ${fmt(r.routerVsBaselineP99, 3)} | ${fmt(r.routerVsBaselineCpu, 3)} | ` +
        `${fmt(r.expressUndiciVsBaselineCpu, 3)} | ${fmt(r.routerVsExpressUndiciCpu, 3)} | ` +
        `${fmt(r.routerVsLimitRps, 3)} | ${fmt(r.routerVsLimitCpu, 3)} | ${fmt(r.routerVsAxiosHttpRps, 3)} | ${fmt(r.routerVsAxiosHttpCpu, 3)} | ` +
        `${fmt(r.routerVsCeilingRps, 3)} | ${fmt(r.routerVsCeilingP99, 3)} | ${fmt(r.reuseVsRouterRps, 3)} | ${fmt(r.reuseVsRouterP99, 3)} |`,
    );
  }
  return lines.join('\n');
}

/** ` (rounds 0.60, 0.68, 0.68: met in 1 of 3)`, or nothing with fewer than two rounds. */
function roundsNote(values: number[] | undefined, ok: (v: number) => boolean): string {
  if (!values || values.length < 2) return '';
  return ` (rounds ${values.map((v) => v.toFixed(2)).join(', ')}: met in ${values.filter(ok).length} of ${values.length})`;
}

/** The targets, checked against one run's ratios (medians of rounds), with each round's own ratio when given. */
export function targetLines(ratios: Ratios[], rounds?: GoalRounds): string {
  const at = (ms: number) => ratios.find((r) => r.upstreamLatencyMs === ms);
  const verdict = (ok: boolean | null) => (ok === null ? 'not measured' : ok ? 'met' : '**missed**');
  const check = (value: number | null | undefined, ok: (v: number) => boolean) => (value === null || value === undefined ? null : ok(value));
  const zero = at(0);
  const fifty = at(50);
  const cpuGoal = (v: number) => v <= 0.6;
  const rpsGoal = (v: number) => v >= 1.5;
  const p99Goal = (v: number) => v <= 1;
  return [
    `- 0 ms: router throughput ≥ 0.95 × baseline: ${fmt(zero?.routerVsBaselineRps, 3)}, ${verdict(check(zero?.routerVsBaselineRps, (v) => v >= 0.95))}.`,
    `- 0 ms: router p99 ≤ 1.1 × baseline: ${fmt(zero?.routerVsBaselineP99, 3)}, ${verdict(check(zero?.routerVsBaselineP99, (v) => v <= 1.1))}.`,
    `- 50 ms: no measurable difference (rps within 5 %, p99 within 10 %): rps ${fmt(fifty?.routerVsBaselineRps, 3)}, p99 ${fmt(fifty?.routerVsBaselineP99, 3)}, ` +
      verdict(
        fifty?.routerVsBaselineRps == null || fifty.routerVsBaselineP99 == null
          ? null
          : Math.abs(fifty.routerVsBaselineRps - 1) <= 0.05 && fifty.routerVsBaselineP99 <= 1.1,
      ) +
      '.',
    `- 0 ms (issue 14): router CPU per request ≤ 0.6 × baseline: ${fmt(zero?.routerVsBaselineCpu, 3)}, ${verdict(check(zero?.routerVsBaselineCpu, cpuGoal))}${roundsNote(rounds?.cpuAt0, cpuGoal)}.`,
    `- 0 ms (issue 14): router throughput ≥ 1.5 × baseline: ${fmt(zero?.routerVsBaselineRps, 3)}, ${verdict(check(zero?.routerVsBaselineRps, rpsGoal))}${roundsNote(rounds?.rpsAt0, rpsGoal)}.`,
    `- 50 ms (issue 14): router p99 not worse than baseline: ${fmt(fifty?.routerVsBaselineP99, 3)}, ${verdict(check(fifty?.routerVsBaselineP99, p99Goal))}${roundsNote(rounds?.p99At50, p99Goal)}.`,
  ].join('\n');
}

export function soakLines(soak: Soak): string {
  const row = (name: string, v: { before: number; after: number; afterGc: number }) =>
    `| ${name} | ${v.before.toFixed(1)} | ${v.after.toFixed(1)} | ${v.afterGc.toFixed(1)} |`;
  return [
    `${soak.sessions.toLocaleString('en-US')} sessions through the router (default options, in-process, ${soak.concurrency} concurrent keep-alive requests) against the stand-in in a child process, in ${soak.durationSeconds.toFixed(1)} s; ${soak.failures} failed. Measured ${soak.date}.`,
    '',
    '| MB | before | after | after forced GC |',
    '|---|---:|---:|---:|',
    row('heapUsed', soak.heapUsedMB),
    row('RSS', soak.rssMB),
    '',
    `Heap growth after GC: **${soak.heapGrowthAfterGcMB.toFixed(2)} MB** (limit ${soak.limitMB} MB): **${soak.passed ? 'pass' : 'FAIL'}**.`,
  ].join('\n');
}

export function renderMarkdown(results: Results): string {
  const env = results.environment;
  const m = machine();
  const out: string[] = ['# Benchmark results', ''];
  if (results.runs.length > 0) {
    out.push(
      `Measured ${results.date} on ${results.cpu}, ${env?.cores ?? m.cores} cores, Node ${results.node}` +
        (env ? `, ${env.platform}` : '') +
        '.',
      '',
    );
    if (env) {
      out.push(
        `Each target runs in its own process, as does the Resurs stand-in; autocannon runs in the parent with ${env.connections} connections, ` +
          `${env.warmupSeconds} s warm-up (1 s after the first round) then ${env.durationSeconds} s measured per run` +
          (env.rounds > 1 ? `, in ${env.rounds} rounds (the order reversed every other round; median per target)` : '') +
          '. Loopback only. ' +
          env.note +
          (env.routerModule ? ` The router targets ran the build in \`${env.routerModule}\` (BENCH_ROUTER_MODULE), not dist/.` : ''),
        '',
      );
    }
    const ratios = results.ratios ?? computeRatios(results.runs);
    out.push(runsTable(results.runs, ratios), '', '## Ratios (same run)', '', ratiosTable(ratios), '', '### Targets', '', targetLines(ratios, results.goalRounds), '');
    out.push(
      '- `ceiling`: the stand-in hit directly (POST Create Session with a valid JWT): no Express, no second hop.',
      '- `limit`: the same hop with nothing around it: `node:http` + undici `Pool.request` to the stand-in, no Express, no axios (`bench/baseline.ts`): the floor for any proxying endpoint.',
      '- `express-undici`: the hand-written endpoint on undici `Pool.request` instead of axios (Express 5 + `express.json()`, `bench/baseline.ts`): what Express itself costs, with no validation, deadline, retries, breaker, telemetry or axios.',
      '- `baseline`: a hand-written Express + axios endpoint doing the same call over a keep-alive agent (`bench/baseline.ts`): what a merchant would write without this package.',
      '- `router-axios-http`: `createCheckoutRouter` with `httpAgent`/`httpsAgent` given (keep-alive agents like the package\'s own), so the call goes through axios\' http adapter as it did before the undici transport.',
      '- `router`: `createCheckoutRouter` with default options (built `dist/`, imported by package name).',
      '- `router-reuse`: the same with `reuse: {key: req => req.get(\'x-cart-id\')}`, autocannon rotating through 100 cart ids, so nearly every request is served from the in-memory store.',
      '',
    );
  }
  if (results.soak) out.push('## Memory soak', '', soakLines(results.soak), '');
  out.push(
    '## Reproduce',
    '',
    '```sh',
    'npm run bench          # env: BENCH_DURATION=10 (s per measured run), BENCH_WARMUP=2, BENCH_CONNECTIONS=50, BENCH_ROUNDS=3, BENCH_TARGETS, BENCH_CPU_PROF=dir',
    'npm run bench:soak     # SOAK_SESSIONS=100000, SOAK_CONCURRENCY=32, SOAK_LIMIT_MB=2',
    '```',
    '',
    'Machines shared with other work are noisy: compare ratios from one run, not absolute numbers across runs.',
    '',
  );
  return out.join('\n');
}

/** Writes both files from `results`. */
export function writeResults(results: Results): void {
  writeFileSync(RESULTS_JSON, JSON.stringify(results, null, 2) + '\n');
  writeFileSync(RESULTS_MD, renderMarkdown(results));
}
