/**
 * Nothing is ever left as an unhandled rejection: a call that rejects after its timeout, a store
 * that fails late, and the router under every kind of upstream fault and storefront abort.
 *
 * Jest 30 takes `unhandledRejection` for itself, so a spy registered in a test never fires. Each
 * case runs in its own Node process instead, whose `unhandledRejection` listener exits with 3,
 * and the first case shows that listener does catch one.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const UNHANDLED_EXIT = 3;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `body` (TypeScript-free JavaScript; `require` paths relative to the repository) in a fresh Node. */
function runIsolated(body: string, timeoutMs = 60_000): Promise<Run> {
  const script = `
    process.on('unhandledRejection', (reason) => {
      process.stderr.write('UNHANDLED ' + (reason instanceof Error ? reason.message : String(reason)) + '\\n');
      process.exit(${UNHANDLED_EXIT});
    });
    const settle = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    (async () => {
      ${body}
      await settle(); // any unhandled rejection is reported before this resolves
      process.stdout.write('\\nDONE\\n');
      process.exit(0);
    })().catch((error) => {
      process.stderr.write('SCRIPT FAILED ' + (error && error.stack || String(error)) + '\\n');
      process.exit(1);
    });
  `;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', script],
      { cwd: ROOT, timeout: timeoutMs, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: 'true' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Expects a clean run and returns the JSON the script printed on its first line, if any. */
function expectClean(run: Run): unknown {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(run.stdout).toContain('DONE');
  const first = run.stdout.split('\n')[0]!;
  return first.startsWith('{') ? JSON.parse(first) : undefined;
}

describe('the isolated run', () => {
  it('does catch an unhandled rejection (the check can fail)', async () => {
    const run = await runIsolated(`
      Promise.reject(new Error('nobody handles me'));
    `);
    expect(run.code).toBe(UNHANDLED_EXIT);
    expect(run.stderr).toContain('UNHANDLED nobody handles me');
    expect(run.stdout).not.toContain('DONE');
  });

  it('does catch one that comes after a timeout won a race handled only for the winner', async () => {
    // What withTimeout must not do: watch only the race's result, not the call's own rejection.
    const run = await runIsolated(`
      let fail;
      const call = new Promise((_, reject) => (fail = reject));
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 5));
      await timeout.catch(() => undefined);
      call.then(() => undefined); // a handler for the value only
      fail(new Error('after the timeout'));
    `);
    expect(run.code).toBe(UNHANDLED_EXIT);
    expect(run.stderr).toContain('UNHANDLED after the timeout');
  });
});

describe('withTimeout', () => {
  it('a call that rejects after the timeout is swallowed', async () => {
    const run = await runIsolated(`
      const { withTimeout } = require('./src/resilience/timeout');
      let fail;
      const late = () => new Promise((_, reject) => (fail = reject));
      const outcome = await withTimeout(late, 5, () => new Error('late')).then(() => 'resolved', (e) => e.message);
      if (outcome !== 'late') throw new Error('expected the timeout error, got ' + outcome);
      fail(new Error('after the timeout'));
      await new Promise((resolve) => setTimeout(resolve, 20));
    `);
    expectClean(run);
  });

  it('a synchronous throw becomes a rejection of the result, and nothing else', async () => {
    const run = await runIsolated(`
      const { withTimeout } = require('./src/resilience/timeout');
      const outcome = await withTimeout(() => { throw new Error('boom'); }, 1000, () => new Error('late')).then(() => 'resolved', (e) => e.message);
      if (outcome !== 'boom') throw new Error('expected boom, got ' + outcome);
      await new Promise((resolve) => setTimeout(resolve, 20));
    `);
    expectClean(run);
  });
});

describe('guardStore', () => {
  it('store calls that reject after the timeout are swallowed: the fallback, one warning each', async () => {
    const run = await runIsolated(`
      const { guardStore } = require('./src/store/guarded-store');
      const warns = [];
      const logger = { debug() {}, info() {}, warn: (fields) => warns.push(fields.op), error() {} };
      const lateReject = (what) => () => new Promise((_, reject) => setTimeout(() => reject(new Error(what)), 40));
      const late = { get: lateReject('late get'), set: lateReject('late set'), delete: lateReject('late delete'), add: lateReject('late add') };
      const store = guardStore(late, { timeoutMs: 10, lockTimeoutMs: 10, coolDownMs: 0, logger, what: 'x' });
      const got = await store.get('k');
      await store.set('k', 'v', 1000);
      await store.delete('k');
      const hasLock = typeof store.lock === 'function';
      const lock = hasLock ? await store.lock('lock', 1000) : undefined;
      await new Promise((resolve) => setTimeout(resolve, 80)); // every late rejection has happened
      process.stdout.write(JSON.stringify({ got: got === undefined ? 'undefined' : got, hasLock, lock, warns }) + '\\n');
    `);
    const result = expectClean(run) as { got: string; hasLock: boolean; lock: unknown; warns: string[] };
    expect(result.got).toBe('undefined');
    expect(result.warns).toEqual(['get', 'set', 'delete', ...(result.hasLock ? ['lock'] : [])]);
    if (result.hasLock) expect(result.lock).toEqual({ state: 'unavailable' });
  });
});

describe('the router under faults', () => {
  it('every fault, every abort, many at once: only contract answers, nothing unhandled', async () => {
    const run = await runIsolated(
      `
      const http = require('node:http');
      const express = require('express');
      const { createCheckoutRouter } = require('./src');
      const { startStandIn } = require('./demo-app/resurs-stand-in');

      const standIn = await startStandIn({ maxRecordedRequests: 100 });
      const token = standIn.issueToken();
      const silent = { debug() {}, info() {}, warn() {}, error() {} };
      const failingStore = {
        get: () => Promise.reject(new Error('store down')),
        set: () => new Promise((_, reject) => setTimeout(() => reject(new Error('late set')), 30)),
        delete: () => Promise.reject(new Error('store down')),
      };
      const app = express();
      // Several routers, so the breaker, reuse with a failing store and a throwing getToken all run.
      app.use('/plain', createCheckoutRouter({ storeId: 's', baseUrl: standIn.baseUrl, auth: { token }, logger: silent, breaker: false, timeoutMs: 100, deadlineMs: 400 }));
      app.use('/breaker', createCheckoutRouter({ storeId: 's', baseUrl: standIn.baseUrl, auth: { token }, logger: silent, breaker: { failureThreshold: 3, resetAfterMs: 50 }, timeoutMs: 100, deadlineMs: 400 }));
      app.use('/reuse', createCheckoutRouter({ storeId: 's', baseUrl: standIn.baseUrl, auth: { token }, logger: silent, breaker: false, timeoutMs: 100, deadlineMs: 400,
        reuse: { key: (req) => String(req.headers['x-cart'] || ''), store: failingStore } }));
      let n = 0;
      app.use('/token', createCheckoutRouter({ storeId: 's', baseUrl: standIn.baseUrl, logger: silent, breaker: false, timeoutMs: 100, deadlineMs: 400,
        auth: { getToken: () => { n++; if (n % 3 === 0) throw new Error('vault'); if (n % 3 === 1) return Promise.reject(new Error('vault later')); return token; } } }));
      const server = http.createServer(app);
      await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = 'http://127.0.0.1:' + server.address().port;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });

      const statuses = {};
      function post(route, { abortAfterMs, cart } = {}) {
        return new Promise((resolve) => {
          const headers = { 'Content-Type': 'application/json' };
          if (cart) headers['X-Cart'] = cart;
          const req = http.request(base + route + '/checkout/session', { method: 'POST', agent, headers }, (res) => {
            res.resume();
            res.on('end', () => { statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1; resolve(); });
            res.on('error', () => resolve());
          });
          req.on('error', () => { statuses.aborted = (statuses.aborted || 0) + 1; resolve(); });
          req.end('{"campaign":"SUMMER_SALE"}');
          if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
        });
      }

      const faults = [
        { kind: 'status', status: 503 },
        { kind: 'status', status: 429, headers: { 'Retry-After': '0' } },
        { kind: 'status', status: 500 },
        { kind: 'drop' },
        { kind: 'reset-mid-answer' },
        { kind: 'hang' },
        { kind: 'latency', ms: 150 },
        { kind: 'endless' },
        { kind: 'oversized', bytes: 70000, announceLength: false },
        { kind: 'malformed-json' },
        { kind: 'wrong-shape' },
      ];
      const routes = ['/plain', '/breaker', '/reuse', '/token'];
      const PER_FAULT = 24;
      for (const fault of faults) {
        standIn.setFaults({ ratio: { share: 0.5, fault }, seed: 7 });
        const batch = [];
        for (let i = 0; i < PER_FAULT; i++) {
          const route = routes[i % routes.length];
          const abortAfterMs = i % 5 === 0 ? 1 + (i % 3) * 20 : undefined;
          batch.push(post(route, { abortAfterMs, cart: route === '/reuse' ? 'cart-' + (i % 4) : undefined }));
        }
        await Promise.all(batch);
      }
      standIn.setFaults(null);
      await new Promise((resolve) => setTimeout(resolve, 200)); // late store rejections (30 ms) land
      agent.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await standIn.close();
      process.stdout.write(JSON.stringify(statuses) + '\\n');
    `,
      90_000,
    );
    const statuses = expectClean(run) as Record<string, number>;
    const total = Object.values(statuses).reduce((a, b) => a + b, 0);
    expect(total).toBe(11 * 24);
    for (const status of Object.keys(statuses)) expect(['201', '502', '503', '504', 'aborted']).toContain(status);
    expect(statuses['201']).toBeGreaterThan(0);
  }, 120_000);
});
