/**
 * When the storefront's request closes before the answer, the upstream attempt is aborted (the
 * socket to the stand-in closes) and no further attempt is made, even with retryable faults queued.
 *
 * "No further attempt" is checked without sleeping: the retry loop logs "The caller went away"
 * only once it has ended, and every Create Session request the client makes passes through the
 * test's agent the moment it is made. A loop that went on (another attempt, or a wait that
 * ignored the abort) would either make a request the agent sees or not end in time.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import type { Fault } from '../../demo-app/resurs-stand-in';
import { createResursClient } from '../../src';
import type { CheckoutRouterOptions } from '../../src';
import { useHarness } from '../helpers/checkout-app';
import { recordingLogger } from '../helpers/recording-logger';
import type { LogLine } from '../helpers/recording-logger';

/**
 * An agent that keeps every socket it opens, so a test can see the upstream connection close,
 * and the path of every request made through it (counted when made, before any byte is sent).
 */
class RecordingAgent extends http.Agent {
  readonly opened: Duplex[] = [];
  readonly paths: string[] = [];
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    this.paths.push(req.path);
    // @ts-expect-error addRequest is not in @types/node, but http.Agent has it
    super.addRequest(req, options);
  }
  /** Create Session requests made so far (token requests not counted). */
  sessionRequests(): number {
    return this.paths.filter((p) => p.endsWith('/sessions')).length;
  }
  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    if (socket) this.opened.push(socket);
    return socket;
  }
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 10 ms; fails after `limitMs` (a safety net, not a timing assertion). */
async function until(check: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  for (let waited = 0; !check(); waited += 10) {
    if (waited >= limitMs) throw new Error(`gave up waiting for ${what}`);
    await wait(10);
  }
}

const harness = useHarness();

/** The retry loop has ended because the caller went away (logged once it is over). */
const wentAway = (lines: LogLine[]) => () => lines.some((l) => l.message.startsWith('The caller went away'));
let server: http.Server | undefined;

afterEach(async () => {
  if (!server) return;
  server.closeAllConnections();
  await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

const calls = (): number => harness.standIn.sessionRequests.length;
const status = (code: number, headers?: Record<string, string>): Fault => ({ kind: 'status', status: code, ...(headers ? { headers } : {}) });

async function listen(options: Partial<CheckoutRouterOptions>): Promise<string> {
  server = http.createServer(harness.app({ breaker: false, ...options }));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/checkout/session`;
}

/** Starts a POST the test can destroy; resolves with the status if an answer does come. */
function startPost(url: string): { req: http.ClientRequest; answered: Promise<number | 'closed'> } {
  const req = http.request(url, { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json' } });
  const answered = new Promise<number | 'closed'>((resolve) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve('closed'));
    req.on('close', () => resolve('closed'));
  });
  req.end('{}');
  return { req, answered };
}

function normalPost(url: string): Promise<number> {
  return startPost(url).answered.then((s) => (s === 'closed' ? 0 : s));
}

describe('the storefront going away', () => {
  it('aborts the attempt in flight: the upstream socket closes and no retry follows', async () => {
    harness.standIn.setFaults({ queue: [{ kind: 'hang' }], always: status(503) });
    const agent = new RecordingAgent({ keepAlive: true });
    const url = await listen({ httpAgent: agent });
    const { req, answered } = startPost(url);
    await until(() => calls() === 1, 'the first attempt to reach the stand-in');
    req.destroy();
    expect(await answered).toBe('closed');
    expect(agent.opened).toHaveLength(1);
    await until(() => agent.opened[0]!.destroyed, 'the upstream socket to close');
    await until(wentAway(harness.lines), 'the retry loop to end');
    expect(agent.sessionRequests()).toBe(1);
    expect(calls()).toBe(1);
    expect(harness.lines.some((l) => l.message.startsWith('The caller went away') && typeof l.fields.requestId === 'string')).toBe(true);
    harness.standIn.setFaults(null);
    expect(await normalPost(url)).toBe(201); // the app is fine afterwards
    agent.destroy();
  });

  it('during latency before the answer: aborted, one call only', async () => {
    harness.standIn.setFaults({ queue: [{ kind: 'latency', ms: 1_000 }, status(503), status(503)] });
    const agent = new RecordingAgent({ keepAlive: true });
    const url = await listen({ httpAgent: agent });
    const { req } = startPost(url);
    await until(() => calls() === 1, 'the first attempt');
    req.destroy();
    await until(() => agent.opened.every((s) => s.destroyed), 'the upstream socket to close');
    await until(wentAway(harness.lines), 'the retry loop to end');
    expect(agent.sessionRequests()).toBe(1);
    expect(calls()).toBe(1);
    agent.destroy();
  });

  it('while waiting out a Retry-After: no further attempt is made, and the wait ends at once', async () => {
    // 10 s is within the default 15 s deadline, so it is waited out; a wait that ignored the abort
    // would keep the loop going past `until`'s 5 s limit.
    harness.standIn.setFaults({ always: status(429, { 'Retry-After': '10' }) });
    const agent = new RecordingAgent({ keepAlive: true });
    const url = await listen({ httpAgent: agent });
    const { req } = startPost(url);
    await until(() => harness.lines.some((l) => l.message === 'Resurs attempt failed.'), 'the first attempt to fail');
    req.destroy();
    await until(wentAway(harness.lines), 'the retry loop to end');
    expect(agent.sessionRequests()).toBe(1);
    expect(calls()).toBe(1);
    agent.destroy();
  });

  it('while the token is being fetched: Create Session is never called', async () => {
    harness.standIn.setTokenFaults({ queue: [{ kind: 'latency', ms: 300 }] });
    const agent = new RecordingAgent({ keepAlive: true });
    const url = await listen({
      httpAgent: agent,
      auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl },
    });
    const { req } = startPost(url);
    await until(() => harness.standIn.tokenRequests.length === 1, 'the token request');
    req.destroy();
    await until(wentAway(harness.lines), 'the request to end');
    expect(agent.sessionRequests()).toBe(0);
    expect(calls()).toBe(0);
    // The shared fetch itself finished and was cached for the next shopper.
    expect(await normalPost(url)).toBe(201);
    expect(harness.standIn.tokenRequests).toHaveLength(1);
  });
});

describe('createResursClient with a signal', () => {
  it("rejects with the signal's reason and aborts the attempt", async () => {
    harness.standIn.setFaults({ queue: [{ kind: 'hang' }], always: status(503) });
    const agent = new RecordingAgent({ keepAlive: true });
    const { logger, lines } = recordingLogger();
    const client = createResursClient({
      storeId: 'test-store',
      baseUrl: harness.standIn.baseUrl,
      auth: { token: harness.token },
      httpAgent: agent,
      breaker: false,
      logger,
    });
    const controller = new AbortController();
    const pending = client.createSession({}, { signal: controller.signal });
    await until(() => calls() === 1, 'the first attempt');
    const reason = new Error('shopper left');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(wentAway(lines)()).toBe(true); // the loop itself ended, not just the promise
    await until(() => agent.opened.every((s) => s.destroyed), 'the upstream socket to close');
    expect(agent.sessionRequests()).toBe(1);
    expect(calls()).toBe(1);
    agent.destroy();
  });

  it('an already-aborted signal makes no call at all', async () => {
    const client = createResursClient({ storeId: 'test-store', baseUrl: harness.standIn.baseUrl, auth: { token: harness.token } });
    await expect(client.createSession({}, { signal: AbortSignal.abort('gone') })).rejects.toBe('gone');
    expect(calls()).toBe(0);
  });
});
