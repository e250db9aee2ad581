/**
 * Resurs misbehaving, through the router as a merchant mounts it: the stand-in on 127.0.0.1
 * acts out each fault, and every case asserts the exact status, code and number of upstream calls.
 */
import http from 'node:http';
import request from 'supertest';
import type { Response } from 'supertest';
import { MOCK_API_PATH } from '../../demo-app/resurs-stand-in';
import type { Fault } from '../../demo-app/resurs-stand-in';
import { startHarness } from '../helpers/checkout-app';
import type { CheckoutHarness } from '../helpers/checkout-app';
import { closedPort, startRecordingServer, startResettingServer } from '../helpers/loopback-servers';
import type { RecordingServer, ResettingServer } from '../helpers/loopback-servers';
import { logText } from '../helpers/recording-logger';
import { expectProblem as expectProblemBody } from '../helpers/problem';

let harness: CheckoutHarness;
let redirectTarget: RecordingServer;
let resetting: ResettingServer;

beforeAll(async () => {
  harness = await startHarness();
  redirectTarget = await startRecordingServer();
  resetting = await startResettingServer();
});

afterAll(async () => {
  await Promise.all([harness.close(), redirectTarget.close(), resetting.close()]);
});

/** Tags this test's requests: an attempt aborted in an earlier test may still be recorded late. */
let tag = '';
let sent = 0;

beforeEach(() => {
  harness.standIn.reset();
  harness.lines.length = 0;
  tag = `t${Math.random().toString(36).slice(2)}`;
});

/** Create Session calls the stand-in received for this test's requests. */
const calls = (): number =>
  harness.standIn.sessionRequests.filter((r) => String(r.headers['x-request-id']).startsWith(`${tag}-`)).length;

/**
 * Calls once the stand-in has caught up: an attempt our deadline aborted may be recorded a moment
 * after the answer on a busy machine. Waits for at least `atLeast` (bounded), then a little more.
 */
async function settledCalls(atLeast = 1): Promise<number> {
  for (let i = 0; i < 200 && calls() < atLeast; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  await new Promise((resolve) => setTimeout(resolve, 50));
  return calls();
}

function post(options: Parameters<CheckoutHarness['app']>[0] = {}): Promise<Response> {
  // A fresh app per request keeps each case's breaker to itself.
  return request(harness.app({ breaker: false, ...options }))
    .post('/checkout/session')
    .set('X-Request-Id', `${tag}-${++sent}`)
    .set('Content-Type', 'application/json')
    .send('{}');
}

const expectProblem = (res: Response, status: number, code: string) => expectProblemBody(res, status, code, harness.token);

function expectSession(res: Response): void {
  expect(res.status).toBe(201);
  expect(Object.keys(res.body).sort()).toEqual(['embed', 'expiresAt', 'id']);
  expect(res.body.embed.src).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
}

const status = (code: number, headers?: Record<string, string>): Fault => ({ kind: 'status', status: code, ...(headers ? { headers } : {}) });

/** Attempt numbers of the "attempt failed" log lines, in order. */
const failedAttempts = (): unknown[] => harness.lines.filter((l) => l.message === 'Resurs attempt failed.').map((l) => l.fields.attempt);

/**
 * Fake timers and `Date` for tests about waits (Retry-After), so they take no wall-clock time;
 * `setImmediate`, `nextTick` and microtasks stay real, so sockets and streams work as usual.
 * Restored after each test.
 */
function fakeClock(now?: number): { advance(ms: number): Promise<void> } {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask', 'hrtime', 'performance'], ...(now !== undefined ? { now } : {}) });
  return { advance: async (ms) => void (await jest.advanceTimersByTimeAsync(ms)) };
}

afterEach(() => {
  jest.useRealTimers();
});

/** Polls `check` on real turns of the event loop (setImmediate), for use under fake timers. */
async function untilReal(check: () => boolean, turns = 20_000): Promise<void> {
  for (let i = 0; !check(); i++) {
    if (i >= turns) throw new Error('gave up waiting');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** An agent that notes `Date.now()` when each Create Session request is made (before it is sent). */
class TimingAgent extends http.Agent {
  readonly sentAt: number[] = [];
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    if (req.path.endsWith('/sessions')) this.sentAt.push(Date.now());
    // @ts-expect-error addRequest is not in @types/node, but http.Agent has it
    super.addRequest(req, options);
  }
}

describe('Resurs unreachable', () => {
  it('a closed port: 3 attempts (retries 2), then 503 upstream_unavailable with Retry-After', async () => {
    const port = await closedPort();
    const res = await post({ baseUrl: `http://127.0.0.1:${port}${MOCK_API_PATH}` });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(failedAttempts()).toEqual([1, 2, 3]);
  });

  it('a server that resets every connection: 3 connections, then 503', async () => {
    const before = resetting.connections();
    const res = await post({ baseUrl: `${resetting.url}${MOCK_API_PATH}` });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(resetting.connections() - before).toBe(3);
  });

  it('retries 0 means exactly one attempt', async () => {
    const port = await closedPort();
    const res = await post({ baseUrl: `http://127.0.0.1:${port}${MOCK_API_PATH}`, retries: 0 });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(failedAttempts()).toEqual([1]);
  });
});

describe('connections cut short', () => {
  it.each<Fault['kind']>(['drop', 'reset-mid-answer'])('%s once, then success: 201 after 2 calls', async (kind) => {
    harness.standIn.setFaults({ queue: [{ kind } as Fault] });
    const res = await post();
    expectSession(res);
    expect(calls()).toBe(2);
  });

  it.each<Fault['kind']>(['drop', 'reset-mid-answer'])('%s every time: 3 calls, then 503 upstream_unavailable', async (kind) => {
    harness.standIn.setFaults({ always: { kind } as Fault });
    const res = await post();
    expectProblem(res, 503, 'upstream_unavailable');
    expect(calls()).toBe(3);
  });
});

describe('slow answers and the deadline', () => {
  it('a hanging Resurs: 504 upstream_timeout when deadlineMs runs out, after one call', async () => {
    harness.standIn.setFaults({ always: { kind: 'hang' } });
    const res = await post({ deadlineMs: 300 });
    expectProblem(res, 504, 'upstream_timeout');
    expect(res.headers['retry-after']).toBeUndefined();
    expect(await settledCalls()).toBe(1);
    expect(logText(harness.lines)).toContain('ran out of time');
  });

  it('latency past the deadline: 504 after one call', async () => {
    harness.standIn.setFaults({ always: { kind: 'latency', ms: 2_000 } });
    const res = await post({ deadlineMs: 250 });
    expectProblem(res, 504, 'upstream_timeout');
    expect(await settledCalls()).toBe(1);
  });

  it('each attempt timing out (timeoutMs) is retried, and the last timeout answers 504', async () => {
    harness.standIn.setFaults({ always: { kind: 'hang' } });
    const res = await post({ timeoutMs: 100, deadlineMs: 5_000 });
    expectProblem(res, 504, 'upstream_timeout');
    expect(await settledCalls(3)).toBe(3);
  });

  it('one slow attempt, then a quick one: 201 after 2 calls', async () => {
    harness.standIn.setFaults({ queue: [{ kind: 'latency', ms: 1_000 }] });
    const res = await post({ timeoutMs: 100, deadlineMs: 5_000 });
    expectSession(res);
    expect(calls()).toBe(2);
  });

  it('the deadline bounds the retries: no attempt starts after it, the answer is 504', async () => {
    harness.standIn.setFaults({ always: { kind: 'hang' } });
    const res = await post({ timeoutMs: 150, deadlineMs: 200, retries: 5 });
    expectProblem(res, 504, 'upstream_timeout');
    // The first attempt takes 150 of the 200 ms; a second may start in the 50 left, never more.
    const made = await settledCalls(); // also lets a just-aborted second attempt land here, not in the next test
    expect(made).toBeGreaterThanOrEqual(1);
    expect(made).toBeLessThanOrEqual(2);
  });
});

describe('error statuses', () => {
  it('500 is not retried: 1 call, 502 upstream_error', async () => {
    harness.standIn.setFaults({ always: status(500) });
    const res = await post();
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(1);
  });

  it.each([400, 403, 404, 409, 422])('%i is not retried: 1 call, 502 upstream_error', async (code) => {
    harness.standIn.setFaults({ always: status(code) });
    const res = await post();
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(1);
  });

  it('502 is retried: 3 calls, then 502 upstream_error', async () => {
    harness.standIn.setFaults({ always: status(502) });
    const res = await post();
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(3);
  });

  it('503 is retried: 3 calls, then 503 upstream_unavailable with Retry-After', async () => {
    harness.standIn.setFaults({ always: status(503) });
    const res = await post();
    expectProblem(res, 503, 'upstream_unavailable');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(calls()).toBe(3);
  });

  it("503's own Retry-After is passed on", async () => {
    harness.standIn.setFaults({ queue: [status(503), status(503), status(503, { 'Retry-After': '7' })] });
    const res = await post({ retries: 2 });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('7');
    expect(calls()).toBe(3);
  });

  it('504 is retried: 3 calls, then 504 upstream_timeout', async () => {
    harness.standIn.setFaults({ always: status(504) });
    const res = await post();
    expectProblem(res, 504, 'upstream_timeout');
    expect(calls()).toBe(3);
  });

  it.each([502, 503, 504])('%i twice, then success: 201 after 3 calls', async (code) => {
    harness.standIn.setFaults({ queue: [status(code), status(code)] });
    const res = await post();
    expectSession(res);
    expect(calls()).toBe(3);
  });

  it('retries: 1 means at most 2 calls', async () => {
    harness.standIn.setFaults({ always: status(503) });
    const res = await post({ retries: 1 });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(calls()).toBe(2);
  });
});

describe('429 and Retry-After', () => {
  it('429 without Retry-After is retried with backoff: success on the 2nd call', async () => {
    harness.standIn.setFaults({ queue: [status(429)] });
    const res = await post();
    expectSession(res);
    expect(calls()).toBe(2);
  });

  it('429 with Retry-After: 1 waits that long before the next call', async () => {
    const clock = fakeClock();
    const agent = new TimingAgent({ keepAlive: true });
    harness.standIn.setFaults({ queue: [status(429, { 'Retry-After': '1' })] });
    const pending = post({ deadlineMs: 5_000, httpAgent: agent }).then((res) => res); // supertest starts on then()
    await untilReal(() => failedAttempts().length === 1);
    await clock.advance(999);
    expect(agent.sentAt).toHaveLength(1); // still waiting
    await clock.advance(1);
    const res = await pending;
    expectSession(res);
    expect(calls()).toBe(2);
    // Honoured, not shortened to a backoff of at most 100 ms.
    expect(agent.sentAt[1]! - agent.sentAt[0]!).toBe(1_000);
    agent.destroy();
  });

  it('Retry-After as an HTTP date is honoured too', async () => {
    const clock = fakeClock(Math.ceil(Date.now() / 1000) * 1000); // on a whole second, as HTTP dates are
    const agent = new TimingAgent({ keepAlive: true });
    const inTwoSeconds = new Date(Date.now() + 2_000).toUTCString();
    harness.standIn.setFaults({ queue: [status(429, { 'Retry-After': inTwoSeconds })] });
    const pending = post({ deadlineMs: 5_000, httpAgent: agent }).then((res) => res);
    await untilReal(() => failedAttempts().length === 1);
    await clock.advance(1_999);
    expect(agent.sentAt).toHaveLength(1);
    await clock.advance(1);
    const res = await pending;
    expectSession(res);
    expect(agent.sentAt[1]! - agent.sentAt[0]!).toBe(2_000);
    agent.destroy();
  });

  it('a Retry-After past the deadline ends the retries at once: 503 with that Retry-After, 1 call', async () => {
    harness.standIn.setFaults({ always: status(429, { 'Retry-After': '30' }) });
    const res = await post({ deadlineMs: 2_000 });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('30');
    expect(calls()).toBe(1);
  });

  it('the same for a 503 whose Retry-After reaches past the deadline', async () => {
    harness.standIn.setFaults({ always: status(503, { 'Retry-After': '120' }) });
    const res = await post({ deadlineMs: 2_000 });
    expectProblem(res, 503, 'upstream_unavailable');
    expect(res.headers['retry-after']).toBe('120');
    expect(calls()).toBe(1);
  });

  it('429 every time: 3 calls, then 503 upstream_unavailable', async () => {
    harness.standIn.setFaults({ always: status(429) });
    const res = await post();
    expectProblem(res, 503, 'upstream_unavailable');
    expect(calls()).toBe(3);
  });
});

describe('answers that must not pass', () => {
  it('an endless body is refused at 64 KiB: 502 after 1 call', async () => {
    harness.standIn.setFaults({ always: { kind: 'endless' } });
    const res = await post();
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(1);
    expect(logText(harness.lines)).toContain('64 KiB');
  });

  it.each([true, false])('an answer over 64 KiB (Content-Length announced: %s) is refused: 502', async (announceLength) => {
    harness.standIn.setFaults({ always: { kind: 'oversized', bytes: 64 * 1024 + 1, announceLength } });
    const res = await post();
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(1);
  });

  it.each([60 * 1024, 64 * 1024])('an answer of %i bytes is accepted and trimmed to the three fields', async (bytes) => {
    harness.standIn.setFaults({ always: { kind: 'oversized', bytes, announceLength: false } });
    const res = await post();
    expectSession(res);
    expect(res.text).not.toContain('padding');
  });

  it.each([301, 302, 303, 307, 308])('a %i redirect is not followed: 502, and the JWT never reaches the target', async (code) => {
    const before = redirectTarget.hits.length;
    harness.standIn.setFaults({ always: { kind: 'redirect', location: `${redirectTarget.url}/steal`, status: code } });
    const res = await post();
    expectProblem(res, 502, 'upstream_error');
    expect(calls()).toBe(1);
    expect(redirectTarget.hits.length - before).toBe(0);
    expect(logText(harness.lines)).toContain('redirect');
  });
});
