/**
 * What the logs say during faults: every line carries the request id; attempt lines carry the
 * attempt number, upstream status and latency; no line holds the JWT, the client secret or
 * Resurs' raw error body (the stand-in's default error body carries a secret-looking marker).
 */
import request from 'supertest';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FAULT_RAW_SECRET_MARKER } from '../../demo-app/resurs-stand-in';
import type { Fault } from '../../demo-app/resurs-stand-in';
import type { CheckoutRouterOptions } from '../../src';
import { useHarness } from '../helpers/checkout-app';
import { logText } from '../helpers/recording-logger';

const harness = useHarness();

const status = (code: number, body?: unknown): Fault => ({ kind: 'status', status: code, ...(body !== undefined ? { body } : {}) });

interface Scenario {
  name: string;
  faults?: Fault[];
  tokenFaults?: Fault[];
  options?: Partial<CheckoutRouterOptions>;
}

const credentials = () => ({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl });

const scenarios = (): Scenario[] => [
  { name: 'success' },
  { name: '503 twice, then success', faults: [status(503), status(503)] },
  { name: '500 with the default raw body', faults: [status(500)] },
  { name: '502 with a text body', faults: [status(502, `upstream said ${FAULT_RAW_SECRET_MARKER}`), status(502), status(502)] },
  { name: '400 echoing the token', faults: [status(400, { message: `bad token ${harness.token}` })] },
  { name: 'malformed JSON', faults: [{ kind: 'malformed-json' }] },
  { name: 'wrong shape', faults: [{ kind: 'wrong-shape' }] },
  { name: 'foreign script', faults: [{ kind: 'foreign-script' }] },
  { name: 'drop then reset mid-answer', faults: [{ kind: 'drop' }, { kind: 'reset-mid-answer' }] },
  { name: 'endless', faults: [{ kind: 'endless' }] },
  { name: 'hang past the deadline', faults: [{ kind: 'hang' }], options: { deadlineMs: 150 } },
  { name: 'static 401', faults: [status(401)] },
  { name: 'client credentials, 401 then success', faults: [status(401)], options: { auth: credentials() } },
  {
    name: 'token endpoint refuses, echoing the secret',
    tokenFaults: [status(401, { error: 'invalid_client', error_description: `secret ${DEMO_CLIENT_SECRET} is wrong` })],
    options: { auth: credentials() },
  },
  { name: 'token endpoint 500', tokenFaults: [status(500)], options: { auth: credentials() } },
  { name: 'expired static token' }, // its auth is set in the test, where the token is issued
];

describe('log lines during faults', () => {
  it('every line carries the request id, attempt lines carry attempt/status/latency, and no secret leaks', async () => {
    const expiredToken = harness.standIn.issueToken({ expiresInSeconds: -60 });
    const seenIds: string[] = [];
    for (const [i, scenario] of scenarios().entries()) {
      harness.standIn.reset();
      harness.lines.length = 0;
      if (scenario.faults) harness.standIn.setFaults({ queue: scenario.faults });
      if (scenario.tokenFaults) harness.standIn.setTokenFaults({ queue: scenario.tokenFaults });
      const options = scenario.name === 'expired static token' ? { auth: { token: expiredToken } } : scenario.options;
      const requestId = `log-test-${i}`;
      const res = await request(harness.app({ breaker: false, ...options }))
        .post('/checkout/session')
        .set('X-Request-Id', requestId)
        .set('Content-Type', 'application/json')
        .send('{}');
      seenIds.push(res.headers['x-request-id'] as string);
      expect(res.headers['x-request-id']).toBe(requestId);

      const lines = harness.lines;
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect([scenario.name, line.fields.requestId]).toEqual([scenario.name, requestId]);

      for (const line of lines.filter((l) => /^Resurs (attempt failed|answered create session)\.$/.test(l.message))) {
        expect(line.fields.attempt).toEqual(expect.any(Number));
        expect(line.fields.latencyMs).toEqual(expect.any(Number));
        expect(line.fields).toHaveProperty('upstreamStatus');
      }
      for (const recorded of harness.standIn.sessionRequests) {
        expect(recorded.headers['x-request-id']).toBe(requestId); // forwarded to Resurs
      }

      const text = logText(lines) + res.text + JSON.stringify(res.headers);
      const secrets = [
        FAULT_RAW_SECRET_MARKER,
        'hunter2',
        DEMO_CLIENT_SECRET,
        harness.token,
        expiredToken,
        ...harness.standIn.sessionRequests.map((r) => String(r.headers.authorization).replace(/^Bearer /, '')),
      ];
      for (const secret of secrets) expect([scenario.name, text.includes(secret)]).toEqual([scenario.name, false]);
    }
    expect(new Set(seenIds).size).toBe(scenarios().length);
  });

  it('attempt lines number the attempts and carry the status Resurs answered', async () => {
    harness.standIn.setFaults({ queue: [status(503), status(502)] });
    const res = await request(harness.app({ breaker: false })).post('/checkout/session');
    expect(res.status).toBe(201);
    const attempts = harness.lines
      .filter((l) => /^Resurs (attempt failed|answered create session)\.$/.test(l.message))
      .map((l) => [l.fields.attempt, l.fields.upstreamStatus]);
    expect(attempts).toEqual([
      [1, 503],
      [2, 502],
      [3, 201],
    ]);
  });

  it('connection failures log the attempt without a status, and say why in our words', async () => {
    harness.standIn.setFaults({ queue: [{ kind: 'drop' }] });
    await request(harness.app({ breaker: false })).post('/checkout/session').expect(201);
    const failed = harness.lines.find((l) => l.message === 'Resurs attempt failed.');
    expect(failed?.fields).toMatchObject({ attempt: 1, upstreamStatus: undefined, reason: expect.stringMatching(/could not be reached/) });
  });
});
