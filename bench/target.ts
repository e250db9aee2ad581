/**
 * Child entry: one benchmark target on 127.0.0.1 and a free port.
 *   limit              node:http + undici Pool.request, nothing else (bench/baseline.ts)
 *   baseline           the hand-written Express + axios endpoint (bench/baseline.ts)
 *   express-undici     the same endpoint on undici Pool.request instead of axios
 *   router-axios-http  express-resurs-checkout with httpAgent/httpsAgent given: axios' http adapter
 *   router             express-resurs-checkout with default options
 *   router-reuse       the same with reuse keyed on the X-Cart-Id header
 * Every target also answers `GET /__bench/cpu` (ahead of Express) with `{"cpuUs"}`: its
 * process.cpuUsage() so far, user + system, so the parent can take the delta over a measured run.
 * The package is imported by its name, as a merchant would: it resolves through the package's
 * self-reference to the built dist/ (run `npm run build` first).
 * Args: <target> <json {baseUrl, storeId, token}>. Prints one line `{"url", "pid"}` once listening.
 * BENCH_ROUTER_MODULE (a path to another build's dist/) loads the router from there instead, to
 * compare two builds side by side; BENCH_ROUTER_OPTIONS (JSON) adds options, e.g. '{"breaker": false}'.
 * On exit, BENCH_GC_STATS=1 prints GC pauses and BENCH_UNDICI_WAIT=1 how long undici held each
 * request before writing it (both on stderr). BENCH_UNDICI_NO_YIELD=1 runs undici without its two
 * yields before a write (an experiment: bench/undici-no-yield.ts).
 */
import './target-preload'; // first: it may change how undici loads
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import express from 'express';
import type * as checkout from 'express-resurs-checkout';
import { createBaselineApp, createExpressUndiciApp, createLimitHandler } from './baseline';
import { exitWithParent } from './processes';
import { recordUndiciWaits, summariseWaits } from './undici-wait';

interface TargetConfig {
  baseUrl: string;
  storeId: string;
  token: string;
}

function createHandler(target: string, config: TargetConfig): http.RequestListener {
  if (target === 'limit') return createLimitHandler(config);
  if (target === 'baseline') return createBaselineApp(config);
  if (target === 'express-undici') return createExpressUndiciApp(config);
  // Loaded only for the router targets (and only the build asked for).
  const { createCheckoutRouter } = require(process.env.BENCH_ROUTER_MODULE ? path.resolve(process.env.BENCH_ROUTER_MODULE) : 'express-resurs-checkout') as typeof checkout;
  const app = express();
  const extra = process.env.BENCH_ROUTER_OPTIONS ? (JSON.parse(process.env.BENCH_ROUTER_OPTIONS) as object) : {};
  const common = { storeId: config.storeId, baseUrl: config.baseUrl, auth: { token: config.token }, ...extra };
  if (target === 'router') app.use(createCheckoutRouter(common));
  else if (target === 'router-axios-http') {
    // Agents like the package's own shared ones: giving either keeps the call on axios' http adapter.
    const agents = {
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 }),
    };
    app.use(createCheckoutRouter({ ...common, ...agents }));
  } else if (target === 'router-reuse') app.use(createCheckoutRouter({ ...common, reuse: { key: (req) => req.get('x-cart-id') } }));
  else throw new Error(`unknown target "${target}"`);
  return app;
}

/** BENCH_GC_STATS=1: on exit, GC pauses by kind on stderr (count, total ms, longest ms). */
function watchGc(name: string): void {
  const kinds = new Map<number, { count: number; total: number; max: number }>();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0;
      const k = kinds.get(kind) ?? { count: 0, total: 0, max: 0 };
      k.count++;
      k.total += entry.duration;
      k.max = Math.max(k.max, entry.duration);
      kinds.set(kind, k);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const names: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
  process.on('exit', () => {
    const parts = [...kinds].map(([kind, k]) => `${names[kind] ?? kind}: ${k.count}× ${k.total.toFixed(0)} ms (max ${k.max.toFixed(1)})`);
    process.stderr.write(`gc ${name}: ${parts.join(', ')}\n`);
  });
}

/** BENCH_UNDICI_WAIT=1: on exit, how long undici held each request before writing it (bench/undici-wait.ts). */
function watchUndiciWait(name: string): void {
  const recording = recordUndiciWaits();
  process.on('exit', () => {
    const s = summariseWaits(recording.stop());
    process.stderr.write(
      s ? `undici wait ${name}: ${s.count} requests, mean ${s.meanUs} µs, p50 ${s.p50Us}, p90 ${s.p90Us}, p99 ${s.p99Us}, max ${s.maxUs}\n` : `undici wait ${name}: no undici requests\n`,
    );
  });
}

function main(): void {
  const [target, json] = process.argv.slice(2);
  if (!target || !json) throw new Error('usage: target.ts <limit|baseline|router-axios-http|router|router-reuse> <json config>');
  const name = `${target} ${process.env.BENCH_ROUTER_MODULE ?? ''}`.trim();
  if (process.env.BENCH_GC_STATS === '1') watchGc(name);
  if (process.env.BENCH_UNDICI_WAIT === '1') watchUndiciWait(name);
  const handler = createHandler(target, JSON.parse(json) as TargetConfig);
  const server = http.createServer((req, res) => {
    if (req.url !== '/__bench/cpu') return handler(req, res);
    const { user, system } = process.cpuUsage();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ cpuUs: user + system }));
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid }) + '\n');
  });
  server.keepAliveTimeout = 65_000;
  exitWithParent(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench target: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
