/**
 * `npm run bench:soak`: does the router hold on to memory? Sends SOAK_SESSIONS (100 000) Create
 * Session requests through `createCheckoutRouter` (default options, imported by package name from
 * the built dist/) in this process, over a keep-alive client at SOAK_CONCURRENCY (32), against the
 * stand-in in a child process (which keeps only its last 1 000 sessions). Reports heapUsed and RSS
 * before (after a warm-up and a forced GC), after, and after a forced GC; exits 1 when the heap grew
 * by more than SOAK_LIMIT_MB (2, MiB: issue 14's bound) after GC. Needs `node --expose-gc`.
 * Writes its result into bench/results.json (`soak`) and bench/RESULTS.md, keeping the runs there.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { createCheckoutRouter } from 'express-resurs-checkout';
import { STORE_ID, envNumber, fetchToken, requireBuild, startStandIn } from './common';
import { ROOT } from './processes';
import { machine, readResults, soakLines, writeResults } from './report';
import type { Results, Soak } from './report';

const MB = 1024 * 1024;
const round = (n: number) => Math.round(n * 100) / 100;

function forceGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (npm run bench:soak does)');
  // A few passes with turns of the event loop between them, so finalizers and weak callbacks settle.
  return (async () => {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
}

function snapshot(): { heapUsed: number; rss: number } {
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed / MB, rss: m.rss / MB };
}

/** Sends `count` requests, `concurrency` at a time; resolves with the number that did not answer 201. */
function drive(port: number, agent: http.Agent, count: number, concurrency: number): Promise<number> {
  let started = 0;
  let finished = 0;
  let failures = 0;
  return new Promise((resolve) => {
    const one = (): void => {
      if (started >= count) return;
      started++;
      const req = http.request(
        { host: '127.0.0.1', port, path: '/checkout/session', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': '2' } },
        (res) => {
          if (res.statusCode !== 201) failures++;
          res.resume();
          res.on('end', done);
        },
      );
      req.on('error', () => {
        failures++;
        done();
      });
      req.end('{}');
    };
    const done = (): void => {
      finished++;
      if (finished === count) resolve(failures);
      else one();
    };
    for (let i = 0; i < Math.min(concurrency, count); i++) one();
  });
}

async function main(): Promise<void> {
  requireBuild();
  const sessions = envNumber('SOAK_SESSIONS', 100_000, 1);
  const concurrency = envNumber('SOAK_CONCURRENCY', 32, 1);
  const limitMB = envNumber('SOAK_LIMIT_MB', 2, 0);
  const warmup = Math.min(5_000, sessions);
  const watchdog = setTimeout(() => {
    console.error('soak: still running after 10 minutes; giving up');
    process.exit(1);
  }, 600_000);
  watchdog.unref();

  const standIn = await startStandIn(0, 1_000);
  const token = await fetchToken(standIn.info.tokenUrl);
  const app = express();
  app.use(createCheckoutRouter({ storeId: STORE_ID, baseUrl: standIn.info.baseUrl, auth: { token } }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

  console.log(`soak: ${warmup} warm-up requests, then ${sessions} through the router, ${concurrency} at a time`);
  let failures = await drive(port, agent, warmup, concurrency);
  await forceGc();
  const before = snapshot();
  const started = Date.now();
  failures += await drive(port, agent, sessions, concurrency);
  const durationSeconds = (Date.now() - started) / 1000;
  const after = snapshot();
  await forceGc();
  const afterGc = snapshot();

  agent.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await standIn.stop();

  const growth = afterGc.heapUsed - before.heapUsed;
  const soak: Soak = {
    date: new Date().toISOString(),
    sessions,
    concurrency,
    durationSeconds: round(durationSeconds),
    failures,
    heapUsedMB: { before: round(before.heapUsed), after: round(after.heapUsed), afterGc: round(afterGc.heapUsed) },
    rssMB: { before: round(before.rss), after: round(after.rss), afterGc: round(afterGc.rss) },
    heapGrowthAfterGcMB: round(growth),
    limitMB,
    passed: growth <= limitMB && failures === 0,
  };
  console.log('\n' + soakLines(soak) + '\n');

  const m = machine();
  const previous = readResults();
  const results: Results = previous ?? { node: m.node, cpu: m.cpu, date: soak.date, runs: [] };
  results.soak = soak;
  writeResults(results);
  console.log(`wrote ${path.relative(ROOT, path.join(__dirname, 'results.json'))} and bench/RESULTS.md`);

  if (failures > 0) {
    console.error(`soak: FAIL: ${failures} of ${sessions + warmup} requests did not answer 201`);
    process.exitCode = 1;
  } else if (growth > limitMB) {
    console.error(`soak: FAIL: the heap grew by ${growth.toFixed(2)} MB after GC, over the ${limitMB} MB noise bound: something is kept per request`);
    process.exitCode = 1;
  } else {
    console.log(`soak: pass: the heap grew by ${growth.toFixed(2)} MB after GC (bound ${limitMB} MB)`);
  }
}

main()
  .then(() => process.exit())
  .catch((error: unknown) => {
    console.error(`soak: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  });
