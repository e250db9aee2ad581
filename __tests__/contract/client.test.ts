/**
 * `createResursClient`: the same upstream call without Express, as any Node program uses it;
 * and the package's public exports.
 */
import https from 'node:https';
import type { Duplex } from 'node:stream';
import * as pkg from '../../src';
import { ConfigError, RESURS_MOCK_BASE_URL, ResursCheckoutError, createResursClient } from '../../src';
import type { ResursClientOptions } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { recordingLogger, logText } from '../helpers/recording-logger';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let standIn: StandIn;
let options: ResursClientOptions;

beforeAll(async () => {
  standIn = await startStandIn();
  options = { storeId: 'client-store', baseUrl: standIn.baseUrl, auth: { token: standIn.issueToken() } };
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(() => standIn.reset());

/** Awaits a rejection and returns it. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('createResursClient', () => {
  it('resolves to a validated session of exactly {id, expiresAt, embed: {src}}', async () => {
    const session = await createResursClient(options).createSession();
    expect(Object.keys(session).sort()).toEqual(['embed', 'expiresAt', 'id']);
    expect(Object.keys(session.embed)).toEqual(['src']);
    expect(Date.parse(session.expiresAt)).toBeGreaterThan(Date.now());
    expect(session.embed.src.startsWith(standIn.scriptOrigin)).toBe(true);
    expect(standIn.sessionRequests[0]!.path).toBe('/mock/payment/public/v1/stores/client-store/sessions');
    expect(JSON.parse(standIn.sessionRequests[0]!.body)).toEqual({});
  });

  it('forwards the campaign and the request id', async () => {
    await createResursClient(options).createSession({ campaign: 'BLACK_FRIDAY' }, { requestId: 'job-7' });
    const [sent] = standIn.sessionRequests;
    expect(JSON.parse(sent!.body)).toEqual({ campaign: 'BLACK_FRIDAY' });
    expect(sent!.headers['x-request-id']).toBe('job-7');
  });

  it('makes up a UUID request id when none is given, and logs with it', async () => {
    const { logger, lines } = recordingLogger();
    await createResursClient({ ...options, logger }).createSession();
    const sent = standIn.sessionRequests[0]!.headers['x-request-id'];
    expect(sent).toMatch(UUID);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.fields.requestId).toBe(sent);
  });

  it('drops extra fields from Resurs’ answer', async () => {
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    standIn.setFaults({
      queue: [{ kind: 'status', status: 201, body: { id: 'x1', expiresAt, embed: { src: 'https://cdn.example/pe.js', nonce: 'n' }, secret: 's' } }],
    });
    expect(await createResursClient(options).createSession()).toEqual({ id: 'x1', expiresAt, embed: { src: 'https://cdn.example/pe.js' } });
  });

  it('rejects with a ResursCheckoutError carrying the error table’s code and status', async () => {
    standIn.setFaults({ always: { kind: 'status', status: 500 } });
    const error = await rejection(createResursClient({ ...options, breaker: false }).createSession());
    expect(error).toBeInstanceOf(ResursCheckoutError);
    expect(error).toMatchObject({ code: 'upstream_error', status: 502, name: 'ResursCheckoutError' });
    expect((error as ResursCheckoutError).retryAfter).toBeUndefined();
    expect((error as Error).message).not.toContain('RAW-UPSTREAM-DETAIL');
  });

  it('sets retryAfter (seconds) where one applies', async () => {
    standIn.setFaults({ always: { kind: 'status', status: 429, headers: { 'Retry-After': '3' } } });
    const error = await rejection(createResursClient({ ...options, retries: 0, breaker: false }).createSession());
    expect(error).toMatchObject({ code: 'upstream_unavailable', status: 503, retryAfter: 3 });
  });

  it('rejects an invalid answer as upstream_error', async () => {
    standIn.setFaults({ queue: [{ kind: 'wrong-shape' }] });
    const error = await rejection(createResursClient(options).createSession());
    expect(error).toMatchObject({ code: 'upstream_error', status: 502 });
  });

  it('stops at once on an aborted signal without calling Resurs', async () => {
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    const error = await rejection(createResursClient(options).createSession({}, { signal: controller.signal }));
    expect(error).toBe(reason);
    expect(standIn.sessionRequests).toHaveLength(0);
  });

  it('cancels the attempt in flight when the signal aborts, and makes no further attempt', async () => {
    standIn.setFaults({ always: { kind: 'hang' } });
    const controller = new AbortController();
    const reason = new Error('shopper left');
    const client = createResursClient({ ...options, timeoutMs: 5_000, deadlineMs: 10_000 });
    const pending = rejection(client.createSession({}, { signal: controller.signal }));
    for (let i = 0; i < 200 && standIn.sessionRequests.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(standIn.sessionRequests).toHaveLength(1);
    controller.abort(reason);
    expect(await pending).toBe(reason);
    standIn.setFaults(null);
    // A later call still works: the cancelled attempt left nothing broken behind.
    expect((await client.createSession()).id).toEqual(expect.any(String));
    expect(standIn.sessionRequests).toHaveLength(2);
  });

  it('throws ConfigError at once for invalid options', () => {
    expect(() => createResursClient({ ...options, storeId: '' })).toThrow(ConfigError);
  });

  it('defaults baseUrl to RESURS_MOCK_BASE_URL and uses the merchant’s httpsAgent', async () => {
    // An agent that records where it was asked to connect and refuses: nothing leaves the machine.
    const seen: Array<{ host: string | undefined; port: number | undefined }> = [];
    class RefusingAgent extends https.Agent {
      override createConnection(
        connect: { host?: string | null; port?: number | null },
        callback?: (error: Error | null, socket: Duplex) => void,
      ): Duplex | null | undefined {
        seen.push({ host: connect.host ?? undefined, port: connect.port ?? undefined });
        const refused = Object.assign(new Error('connect ECONNREFUSED (blocked by test)'), { code: 'ECONNREFUSED' });
        process.nextTick(() => callback?.(refused, undefined as unknown as Duplex));
        return undefined;
      }
    }
    const agent = new RefusingAgent();
    const { logger, lines } = recordingLogger();
    const token = standIn.issueToken();
    const client = createResursClient({ storeId: 'default-base', auth: { token }, httpsAgent: agent, retries: 0, breaker: false, logger });
    const error = await rejection(client.createSession());
    expect(error).toMatchObject({ code: 'upstream_unavailable', status: 503 });
    expect(seen).toEqual([{ host: new URL(RESURS_MOCK_BASE_URL).hostname, port: 443 }]);
    expect(logText(lines)).not.toContain(token);
    agent.destroy();
  });
});

describe('public exports', () => {
  it('exports the documented factories, constants and classes', () => {
    expect(typeof pkg.createCheckoutRouter).toBe('function');
    expect(typeof pkg.createResursClient).toBe('function');
    expect(typeof pkg.optionsFromEnv).toBe('function');
    expect(pkg.RESURS_MOCK_BASE_URL).toBe('https://api.checkout.int.resurs.cloud/mock/payment/public/v1');
    expect(typeof pkg.ResursCheckoutError).toBe('function');
    expect(typeof pkg.ConfigError).toBe('function');
    expect(typeof pkg.MemorySessionStore).toBe('function');
    expect(typeof pkg.RedisSessionStore).toBe('function');
  });

  it('has an error class whose status follows the error table', () => {
    const table: Array<[ConstructorParameters<typeof ResursCheckoutError>[0], number]> = [
      ['invalid_request', 400],
      ['method_not_allowed', 405],
      ['payload_too_large', 413],
      ['unsupported_media_type', 415],
      ['campaign_not_allowed', 422],
      ['campaign_not_started', 422],
      ['campaign_expired', 422],
      ['rate_limited', 429],
      ['upstream_error', 502],
      ['upstream_unavailable', 503],
      ['upstream_timeout', 504],
      ['internal_error', 500],
    ];
    for (const [code, status] of table) {
      const error = new ResursCheckoutError(code, 'detail');
      expect([error.code, error.status]).toEqual([code, status]);
      expect(error).toBeInstanceOf(Error);
    }
    expect(new ResursCheckoutError('rate_limited', 'wait', { retryAfter: 1.2 }).retryAfter).toBe(2);
  });
});
