/**
 * The circuit breaker: unit behaviour of createBreaker, then the contract through the router
 * against the stand-in (opens after consecutive failures, answers 503 without calling Resurs,
 * one probe after resetAfterMs, what does not count, and a breaker that opens mid-retry).
 *
 * Time: the breaker (and cockatiel under it) reads `Date.now()`. Tests that wait out
 * `resetAfterMs` fake `Date` only and move it forward; timers, sockets and I/O stay real.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import type { Response } from 'supertest';
import type { Fault } from '../../demo-app/resurs-stand-in';
import { createCheckoutRouter } from '../../src';
import type { CheckoutRouterOptions } from '../../src';
import { BreakerOpen, createBreaker } from '../../src/resilience/breaker';
import { useHarness } from '../helpers/checkout-app';
import { expectProblem } from '../helpers/problem';
import { recordingLogger } from '../helpers/recording-logger';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Fakes `Date` alone (frozen until moved); timers, sockets and I/O stay real. */
const clock = {
  freeze(): void {
    jest.useFakeTimers({
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
  },
  advance(ms: number): void {
    jest.setSystemTime(Date.now() + ms);
  },
};

afterEach(() => {
  jest.useRealTimers();
});

/**
 * A tiny Create Session upstream on 127.0.0.1 that the test steers call by call: `fail` answers
 * 503, `hold` keeps the answer back until `release()`, anything else answers a valid session.
 */
interface Gate {
  baseUrl: string;
  next: Array<'fail' | 'hold'>;
  calls: number;
  /** Resolves once `count` calls are being held. */
  held(count: number): Promise<void>;
  release(): void;
  close(): Promise<void>;
}

async function startGate(): Promise<Gate> {
  const holding: http.ServerResponse[] = [];
  const waiters: Array<() => void> = [];
  let port = 0;
  const answer = (res: http.ServerResponse) => {
    const session = { id: `gate-${gate.calls}`, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), embed: { src: `http://127.0.0.1:${port}/pe.js` } };
    res.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify(session));
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      gate.calls++;
      const what = gate.next.shift();
      if (what === 'fail') res.writeHead(503, { 'Content-Type': 'application/json' }).end('{}');
      else if (what === 'hold') {
        holding.push(res);
        for (const wake of waiters.splice(0)) wake();
      } else answer(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  const gate: Gate = {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    next: [],
    calls: 0,
    async held(count) {
      while (holding.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    release() {
      for (const res of holding.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return gate;
}

describe('createBreaker (unit)', () => {
  const isFailure = (error: unknown) => error === 'sick';
  const fail = (what: unknown) => () => Promise.reject(what);
  const ok = () => Promise.resolve('ok');

  async function outcome(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      (value) => value,
      (error: unknown) => error,
    );
  }

  it('opens after failureThreshold consecutive failures and then fails at once without calling', async () => {
    const breaker = createBreaker({ failureThreshold: 3, resetAfterMs: 60_000 }, isFailure);
    for (let i = 0; i < 3; i++) expect(await outcome(breaker.execute(fail('sick')))).toBe('sick');
    expect(breaker.isOpen()).toBe(true);
    const fn = jest.fn(ok);
    const error = await outcome(breaker.execute(fn));
    expect(error).toBeInstanceOf(BreakerOpen);
    expect((error as BreakerOpen).retryAfterMs).toBeGreaterThan(59_000);
    expect((error as BreakerOpen).retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(fn).not.toHaveBeenCalled();
  });

  it('a success resets the count; errors that are not failures neither count nor reset', async () => {
    const breaker = createBreaker({ failureThreshold: 3, resetAfterMs: 60_000 }, isFailure);
    await outcome(breaker.execute(fail('sick')));
    await outcome(breaker.execute(fail('sick')));
    await breaker.execute(ok);
    await outcome(breaker.execute(fail('sick')));
    await outcome(breaker.execute(fail('sick')));
    for (let i = 0; i < 5; i++) expect(await outcome(breaker.execute(fail('client error')))).toBe('client error');
    expect(breaker.isOpen()).toBe(false);
    await outcome(breaker.execute(fail('sick')));
    expect(breaker.isOpen()).toBe(true);
  });

  it('tells the call whose failure opened it, and the probe whose success closed it', async () => {
    clock.freeze();
    const breaker = createBreaker({ failureThreshold: 2, resetAfterMs: 50 }, isFailure);
    const first = { onOpen: jest.fn(), onClose: jest.fn() };
    const second = { onOpen: jest.fn(), onClose: jest.fn() };
    await outcome(breaker.execute(fail('sick'), first));
    await outcome(breaker.execute(fail('sick'), second));
    expect(first.onOpen).not.toHaveBeenCalled();
    expect(second.onOpen).toHaveBeenCalledTimes(1);
    clock.advance(49);
    expect(breaker.isOpen()).toBe(true);
    expect(await outcome(breaker.execute(ok))).toBeInstanceOf(BreakerOpen);
    clock.advance(1);
    expect(breaker.isOpen()).toBe(false);
    const probe = { onOpen: jest.fn(), onClose: jest.fn() };
    await breaker.execute(ok, probe);
    expect(probe.onClose).toHaveBeenCalledTimes(1);
    const after = { onOpen: jest.fn(), onClose: jest.fn() };
    await breaker.execute(ok, after);
    expect(after.onClose).not.toHaveBeenCalled();
  });

  it('while the probe is in flight it still counts as open, and a failed probe opens it again', async () => {
    clock.freeze();
    const breaker = createBreaker({ failureThreshold: 1, resetAfterMs: 50 }, isFailure);
    await outcome(breaker.execute(fail('sick')));
    clock.advance(50);
    let release: (value: unknown) => void = () => undefined;
    const probe = breaker.execute(() => new Promise((_, reject) => (release = reject)));
    expect(breaker.isOpen()).toBe(true);
    expect(breaker.retryAfterMs()).toBeGreaterThanOrEqual(1000);
    release('sick');
    expect(await outcome(probe)).toBe('sick');
    expect(breaker.isOpen()).toBe(true);
    expect(await outcome(breaker.execute(ok))).toBeInstanceOf(BreakerOpen);
  });

  it('a probe abandoned by its caller does not close it', async () => {
    clock.freeze();
    const breaker = createBreaker({ failureThreshold: 1, resetAfterMs: 50 }, isFailure);
    await outcome(breaker.execute(fail('sick')));
    clock.advance(50);
    const controller = new AbortController();
    const probe = breaker.execute(
      () =>
        new Promise((_, reject) => {
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason));
        }),
      { signal: controller.signal },
    );
    const reason = new Error('the storefront went away');
    controller.abort(reason);
    expect(await outcome(probe)).toBe(reason); // the caller gets its own reason back
    expect(breaker.isOpen()).toBe(true);
  });

  it('a probe answered with an error that is not a failure (a 4xx) closes it, tells the probe, and the count starts from 0', async () => {
    clock.freeze();
    const breaker = createBreaker({ failureThreshold: 3, resetAfterMs: 1_000 }, isFailure);
    for (let i = 0; i < 3; i++) await outcome(breaker.execute(fail('sick')));
    expect(breaker.isOpen()).toBe(true);
    clock.advance(1_000);
    const probe = { onOpen: jest.fn(), onClose: jest.fn() };
    expect(await outcome(breaker.execute(fail('client error'), probe))).toBe('client error'); // the caller still gets it
    expect(probe.onClose).toHaveBeenCalledTimes(1);
    expect(probe.onOpen).not.toHaveBeenCalled();
    expect(breaker.isOpen()).toBe(false);
    // Closed with a fresh count: two failures leave it closed, the third (the threshold) opens it.
    const fn = jest.fn(() => Promise.reject('sick'));
    for (let i = 0; i < 2; i++) {
      expect(await outcome(breaker.execute(fn))).toBe('sick');
      expect(breaker.isOpen()).toBe(false);
    }
    const third = { onOpen: jest.fn(), onClose: jest.fn() };
    expect(await outcome(breaker.execute(fn, third))).toBe('sick');
    expect(third.onOpen).toHaveBeenCalledTimes(1);
    expect(breaker.isOpen()).toBe(true);
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('a successful probe also starts the count from 0', async () => {
    clock.freeze();
    const breaker = createBreaker({ failureThreshold: 2, resetAfterMs: 1_000 }, isFailure);
    for (let i = 0; i < 2; i++) await outcome(breaker.execute(fail('sick')));
    clock.advance(1_000);
    await breaker.execute(ok);
    await outcome(breaker.execute(fail('sick')));
    expect(breaker.isOpen()).toBe(false);
    await outcome(breaker.execute(fail('sick')));
    expect(breaker.isOpen()).toBe(true);
  });

  it('only the probe is told of the close, not a call that was already in flight when it opened', async () => {
    clock.freeze();
    const breaker = createBreaker({ failureThreshold: 1, resetAfterMs: 1_000 }, isFailure);
    let finishSlow: (value: string) => void = () => undefined;
    const slowCall = { onOpen: jest.fn(), onClose: jest.fn() };
    const slow = breaker.execute(() => new Promise<string>((resolve) => (finishSlow = resolve)), slowCall);
    await outcome(breaker.execute(fail('sick')));
    clock.advance(1_000);
    const probe = { onOpen: jest.fn(), onClose: jest.fn() };
    await breaker.execute(ok, probe);
    finishSlow('late');
    await expect(slow).resolves.toBe('late');
    expect(probe.onClose).toHaveBeenCalledTimes(1);
    expect(slowCall.onClose).not.toHaveBeenCalled();
  });

  it('a call whose signal aborted before it ran is not made and counts for nothing', async () => {
    const breaker = createBreaker({ failureThreshold: 1, resetAfterMs: 60_000 }, isFailure);
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    const fn = jest.fn(ok);
    expect(await outcome(breaker.execute(fn, { signal: controller.signal }))).toBe(reason);
    expect(fn).not.toHaveBeenCalled();
    expect(breaker.isOpen()).toBe(false);
  });

  it('false turns it off', async () => {
    const breaker = createBreaker(false, isFailure);
    for (let i = 0; i < 20; i++) await outcome(breaker.execute(fail('sick')));
    expect(breaker.isOpen()).toBe(false);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });
});

describe('the breaker through the router', () => {
  const harness = useHarness();

  /** Tags this test's requests: an attempt aborted in an earlier test may still be recorded late. */
  let tag = '';
  let sent = 0;

  beforeEach(() => {
    tag = `t${Math.random().toString(36).slice(2)}`;
  });

  const calls = (): number =>
    harness.standIn.sessionRequests.filter((r) => String(r.headers['x-request-id']).startsWith(`${tag}-`)).length;

  /** Waits (bounded) until the stand-in has recorded `count` calls of this test: on a busy machine it may lag. */
  async function recorded(count: number): Promise<void> {
    for (let i = 0; i < 200 && calls() < count; i++) await wait(10);
  }
  const status = (code: number): Fault => ({ kind: 'status', status: code });

  function checkout(options: Partial<CheckoutRouterOptions>): () => Promise<Response> {
    const app = harness.app(options);
    return () =>
      request(app).post('/checkout/session').set('X-Request-Id', `${tag}-${++sent}`).set('Content-Type', 'application/json').send('{}');
  }


  it('after failureThreshold failed attempts every request answers 503 with Retry-After, without calling Resurs or the token source', async () => {
    harness.standIn.setFaults({ always: status(500) });
    const getToken = jest.fn(() => harness.token);
    const post = checkout({ retries: 0, breaker: { failureThreshold: 3, resetAfterMs: 60_000 }, auth: { getToken } });
    for (let i = 0; i < 3; i++) expectProblem(await post(), 502, 'upstream_error');
    expect(calls()).toBe(3);
    for (let i = 0; i < 5; i++) {
      const res = await post();
      expectProblem(res, 503, 'upstream_unavailable');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(50);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    expect(calls()).toBe(3);
    expect(getToken).toHaveBeenCalledTimes(3);
    const opened = harness.lines.filter((l) => l.message.startsWith('Circuit breaker opened'));
    expect(opened).toHaveLength(1);
    expect(opened[0]!.fields.requestId).toEqual(expect.any(String));
  });

  it('after resetAfterMs one probe goes through; its success closes the breaker', async () => {
    clock.freeze();
    harness.standIn.setFaults({ always: status(503) });
    const post = checkout({ retries: 0, breaker: { failureThreshold: 2, resetAfterMs: 300 } });
    await post();
    await post();
    expectProblem(await post(), 503, 'upstream_unavailable');
    expect(calls()).toBe(2);
    harness.standIn.setFaults(null);
    clock.advance(299);
    expectProblem(await post(), 503, 'upstream_unavailable'); // not yet
    expect(calls()).toBe(2);
    clock.advance(1);
    expect((await post()).status).toBe(201);
    expect(calls()).toBe(3);
    for (let i = 0; i < 3; i++) expect((await post()).status).toBe(201);
    expect(calls()).toBe(6);
    expect(harness.lines.some((l) => l.message.startsWith('Circuit breaker closed') && typeof l.fields.requestId === 'string')).toBe(true);
  });

  it('a failed probe opens it again for another resetAfterMs', async () => {
    clock.freeze();
    harness.standIn.setFaults({ always: status(503) });
    const post = checkout({ retries: 0, breaker: { failureThreshold: 1, resetAfterMs: 250 } });
    await post();
    expect(calls()).toBe(1);
    clock.advance(250);
    expectProblem(await post(), 503, 'upstream_unavailable'); // the probe: Resurs' own 503
    expect(calls()).toBe(2);
    expectProblem(await post(), 503, 'upstream_unavailable'); // open again: no call
    clock.advance(249);
    expectProblem(await post(), 503, 'upstream_unavailable'); // still open
    expect(calls()).toBe(2);
    clock.advance(1);
    expectProblem(await post(), 503, 'upstream_unavailable'); // the next probe
    expect(calls()).toBe(3);
  });

  it('a probe Resurs answers with a 4xx closes it (Resurs was reachable): logged, and one 503 does not reopen it', async () => {
    clock.freeze();
    harness.standIn.setFaults({ always: status(503) });
    const post = checkout({ retries: 0, breaker: { failureThreshold: 3, resetAfterMs: 60_000 } });
    for (let i = 0; i < 3; i++) await post();
    expectProblem(await post(), 503, 'upstream_unavailable');
    expect(calls()).toBe(3);
    clock.advance(60_000);
    harness.standIn.setFaults({ queue: [status(400), status(503), status(503)] });
    expectProblem(await post(), 502, 'upstream_error'); // the probe
    expect(calls()).toBe(4);
    const closed = harness.lines.filter((l) => l.message.startsWith('Circuit breaker closed'));
    expect(closed).toHaveLength(1);
    expect(closed[0]!.fields.requestId).toBe(`${tag}-${sent}`);
    // Closed with the count at 0: two single 503s leave it closed, each one a call to Resurs.
    expectProblem(await post(), 503, 'upstream_unavailable');
    expectProblem(await post(), 503, 'upstream_unavailable');
    expect(calls()).toBe(6);
    expect((await post()).status).toBe(201);
    expect(calls()).toBe(7);
    expect(harness.lines.filter((l) => l.message.startsWith('Circuit breaker opened'))).toHaveLength(1); // only the first opening
  });

  it('while the probe is in flight, other requests answer 503 at once', async () => {
    clock.freeze();
    const gate = await startGate();
    try {
      const { logger } = recordingLogger();
      const app = express().use(
        createCheckoutRouter({
          storeId: 'test-store',
          baseUrl: gate.baseUrl,
          auth: { token: harness.token },
          logger,
          retries: 0,
          breaker: { failureThreshold: 1, resetAfterMs: 200 },
        }),
      );
      const post = () => request(app).post('/checkout/session');
      gate.next.push('fail');
      expectProblem(await post(), 503, 'upstream_unavailable');
      clock.advance(200);
      gate.next.push('hold');
      const probe = post().then((res) => res); // supertest starts on then()
      await gate.held(1);
      expectProblem(await post(), 503, 'upstream_unavailable'); // the probe is held: answered at once
      expect(gate.calls).toBe(2);
      gate.release();
      expect((await probe).status).toBe(201);
      expect((await post()).status).toBe(201);
      expect(gate.calls).toBe(3);
    } finally {
      await gate.close();
    }
  });

  it.each<[string, Fault]>([
    ['400', status(400)],
    ['403', status(403)],
    ['404', status(404)],
    ['an invalid answer', { kind: 'wrong-shape' }],
    ['a past expiry', { kind: 'past-expiry' }],
    ['a redirect', { kind: 'redirect', location: 'http://127.0.0.1:9/' }],
  ])('%s does not count towards opening it', async (_name, fault) => {
    harness.standIn.setFaults({ always: fault });
    const post = checkout({ retries: 0, breaker: { failureThreshold: 2, resetAfterMs: 60_000 } });
    for (let i = 0; i < 5; i++) expectProblem(await post(), 502, 'upstream_error');
    expect(calls()).toBe(5);
  });

  it("a static token's 401 does not count either", async () => {
    harness.standIn.setFaults({ always: status(401) });
    const post = checkout({ retries: 0, breaker: { failureThreshold: 2, resetAfterMs: 60_000 } });
    for (let i = 0; i < 4; i++) expectProblem(await post(), 502, 'upstream_error');
    expect(calls()).toBe(4);
  });

  it.each<[string, Fault]>([
    ['429', status(429)],
    ['a dropped connection', { kind: 'drop' }],
    ['an answer cut short', { kind: 'reset-mid-answer' }],
  ])('%s counts', async (_name, fault) => {
    harness.standIn.setFaults({ always: fault });
    const post = checkout({ retries: 0, breaker: { failureThreshold: 2, resetAfterMs: 60_000 } });
    await post();
    await post();
    expectProblem(await post(), 503, 'upstream_unavailable');
    expect(calls()).toBe(2);
  });

  it('attempts cut off by the deadline count as failures', async () => {
    harness.standIn.setFaults({ always: { kind: 'hang' } });
    const post = checkout({ retries: 0, deadlineMs: 100, breaker: { failureThreshold: 2, resetAfterMs: 60_000 } });
    expectProblem(await post(), 504, 'upstream_timeout');
    expectProblem(await post(), 504, 'upstream_timeout');
    expectProblem(await post(), 503, 'upstream_unavailable');
    await recorded(2);
    await wait(50);
    expect(calls()).toBe(2);
  });

  it.each([
    [503, 503, 'upstream_unavailable'],
    [502, 502, 'upstream_error'],
    [504, 504, 'upstream_timeout'],
  ])('opening while a request retries stops its retries; Resurs %i answers %i from the last failure', async (code, answer, errorCode) => {
    harness.standIn.setFaults({ always: status(code) });
    const post = checkout({ retries: 2, breaker: { failureThreshold: 2, resetAfterMs: 60_000 } });
    const res = await post();
    expectProblem(res, answer, errorCode);
    expect(calls()).toBe(2); // not the 3 that retries: 2 allows
    expectProblem(await post(), 503, 'upstream_unavailable');
    expect(calls()).toBe(2);
  });

  it('breaker: false turns it off', async () => {
    harness.standIn.setFaults({ always: status(503) });
    const post = checkout({ retries: 0, breaker: false });
    for (let i = 0; i < 8; i++) await post();
    expect(calls()).toBe(8);
  });

  it('the default (5 failed attempts) opens within two requests of 3 attempts each', async () => {
    harness.standIn.setFaults({ always: status(503) });
    const post = checkout({});
    await post();
    await post();
    expect(calls()).toBe(5);
    expectProblem(await post(), 503, 'upstream_unavailable');
    expect(calls()).toBe(5);
  });
});
