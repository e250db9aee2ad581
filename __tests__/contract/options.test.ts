/**
 * Options are validated when a factory is called: every problem in one ConfigError, each saying
 * what to change, unknown keys refused, and no secret ever echoed. `optionsFromEnv` maps the
 * documented variables. No network: a factory that throws never calls anything, and the one
 * call made here (to the default baseUrl) is stopped by its agent before it connects.
 */
import {
  ConfigError,
  MemorySessionStore,
  RESURS_MOCK_BASE_URL,
  createCheckoutRouter,
  createResursClient,
  optionsFromEnv,
} from '../../src';
import type { CheckoutRouterOptions, ResursClientOptions } from '../../src';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import jwt from 'jsonwebtoken';

const TOKEN = jwt.sign({ scope: 'mock-merchant-api', exp: Math.floor(Date.now() / 1000) + 3600 }, 'options-test');
const valid: CheckoutRouterOptions = { storeId: 'store-1', auth: { token: TOKEN } };

/** Runs `fn`, expects a ConfigError, and returns it. */
function configError(fn: () => unknown): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const error = caught as ConfigError;
  expect(error).toBeInstanceOf(Error);
  expect(error.name).toBe('ConfigError');
  expect(Array.isArray(error.problems)).toBe(true);
  for (const problem of error.problems) expect(error.message).toContain(problem);
  return error;
}

/** The router factory with loosely typed input, as JavaScript callers would pass it. */
const router = (options: unknown) => createCheckoutRouter(options as CheckoutRouterOptions);
const client = (options: unknown) => createResursClient(options as ResursClientOptions);

describe('valid options', () => {
  it('builds a router from the README minimum and from every documented option', () => {
    expect(typeof createCheckoutRouter(valid)).toBe('function');
    expect(() =>
      createCheckoutRouter({
        storeId: 'store-1',
        baseUrl: 'https://api.example.com/v1',
        auth: { clientId: 'id', clientSecret: 'secret', tokenUrl: 'https://auth.example.com/token', scope: 'merchant-api', store: new MemorySessionStore() },
        campaigns: { SUMMER_SALE: { validFrom: '2025-06-01T00:00:00Z', validUntil: new Date('2025-09-01T00:00:00Z') } },
        path: '/pay/session',
        timeoutMs: 500,
        deadlineMs: 2000,
        retries: 0,
        breaker: false,
        reuse: { key: () => undefined, store: new MemorySessionStore(), marginSeconds: 30 },
        rateLimit: { windowMs: 60_000, limit: 20 },
        allowedScriptOrigins: ['https://static.resurs.example'],
        logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
        onSessionCreated: () => undefined,
        onError: () => undefined,
      }),
    ).not.toThrow();
  });

  it.each(['http://127.0.0.1:8080/v1', 'http://localhost:3000', 'http://[::1]:9000/api', 'https://resurs.example'])(
    'accepts the baseUrl %s',
    (baseUrl) => {
      expect(() => createCheckoutRouter({ ...valid, baseUrl })).not.toThrow();
    },
  );

  it('accepts each campaign rule form', () => {
    expect(() => createCheckoutRouter({ ...valid, campaigns: ['SUMMER_SALE', 'BLACK-FRIDAY_2'] })).not.toThrow();
    expect(() => createCheckoutRouter({ ...valid, campaigns: () => true })).not.toThrow();
    expect(() => createCheckoutRouter({ ...valid, campaigns: { SUMMER_SALE: {} } })).not.toThrow();
  });

  it('accepts a getToken function', () => {
    expect(() => createCheckoutRouter({ ...valid, auth: { getToken: async () => TOKEN } })).not.toThrow();
  });

  it('calls the documented mock base URL when baseUrl is left out, and exports it', async () => {
    // Offline: the agent records where the request would go and fails it before any connection.
    const seen: string[] = [];
    class OfflineAgent extends https.Agent {
      addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
        seen.push(`https://${req.host}${req.path}`);
        // @ts-expect-error addRequest is not in @types/node, but https.Agent has it
        super.addRequest(req, options);
      }
      override createConnection(): net.Socket {
        const socket = new net.Socket();
        process.nextTick(() => socket.destroy(Object.assign(new Error('offline'), { code: 'ECONNREFUSED' })));
        return socket;
      }
    }
    const agent = new OfflineAgent();
    const resurs = createResursClient({ storeId: 'store-1', auth: { token: TOKEN }, httpsAgent: agent, retries: 0, breaker: false });
    await expect(resurs.createSession({})).rejects.toMatchObject({ code: 'upstream_unavailable' });
    expect(seen).toEqual(['https://api.checkout.int.resurs.cloud/mock/payment/public/v1/stores/store-1/sessions']);
    expect(seen[0]!.startsWith(`${RESURS_MOCK_BASE_URL}/`)).toBe(true);
    agent.destroy();
  });
});

describe('invalid options', () => {
  it.each([undefined, null, 'store-1', 42])('refuses %p as options', (options) => {
    configError(() => router(options));
    configError(() => client(options));
  });

  it('lists every problem at once', () => {
    const error = configError(() => router({ storeId: '', auth: {}, timeoutMs: 0, retries: -1, path: 'no-slash' }));
    const text = error.problems.join('\n');
    for (const name of ['storeId', 'auth', 'timeoutMs', 'retries', 'path']) expect(text).toContain(name);
    expect(error.problems.length).toBeGreaterThanOrEqual(5);
  });

  it('lists a token that is not a JWT together with the other problems', () => {
    const error = configError(() => router({ storeId: '', auth: { token: 'not-a-jwt' }, retries: 99 }));
    const text = error.problems.join('\n');
    expect(text).toContain('storeId');
    expect(text).toContain('retries');
    expect(text).toContain('auth.token');
  });

  it('requires storeId and auth', () => {
    const text = configError(() => router({})).problems.join('\n');
    expect(text).toContain('storeId');
    expect(text).toContain('auth');
  });

  it('refuses a typo such as `campaign:` and suggests `campaigns`', () => {
    const error = configError(() => router({ ...valid, campaign: ['SUMMER_SALE'] }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain('`campaign`');
    expect(error.problems[0]).toContain('`campaigns`');
  });

  it('refuses unknown keys inside nested options too', () => {
    const text = configError(() =>
      router({ ...valid, breaker: { failureThreshold: 3, resetAfterMs: 1000, resetMs: 5 }, reuse: { key: () => 'k', margin: 5 } }),
    ).problems.join('\n');
    expect(text).toContain('resetMs');
    expect(text).toContain('margin');
  });

  it('refuses router-only options in createResursClient, saying where they belong', () => {
    const error = configError(() => client({ ...valid, campaigns: ['SUMMER_SALE'], path: '/x' }));
    expect(error.problems.join('\n')).toMatch(/campaigns.*createCheckoutRouter/);
  });

  it.each([
    ['http: on a public host', 'http://api.example.com/v1'],
    ['a relative URL', '/v1'],
    ['ftp:', 'ftp://api.example.com'],
    ['not a URL', 'resurs'],
    ['http: on a host that only starts like loopback', 'http://127.0.0.1.example.com/v1'],
  ])('refuses a baseUrl that is %s', (_what, baseUrl) => {
    expect(configError(() => router({ ...valid, baseUrl })).problems.join('\n')).toContain('baseUrl');
  });

  it.each(['.', '..'])('refuses the storeId %p: it would change the path it is encoded into', (storeId) => {
    const error = configError(() => router({ ...valid, storeId }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain('storeId');
    configError(() => client({ ...valid, storeId }));
  });

  it.each(['...', '.a', 'a..b'])('accepts the storeId %p (only "." and ".." are path segments of their own)', (storeId) => {
    expect(() => createCheckoutRouter({ ...valid, storeId })).not.toThrow();
  });

  it.each([
    ['a query', 'https://api.example.com/v1?store=1'],
    ['an empty query', 'https://api.example.com/v1?'],
    ['a fragment', 'https://api.example.com/v1#top'],
    ['an empty fragment', 'https://api.example.com/v1#'],
    ['a query on loopback', 'http://127.0.0.1:8080/v1?x=1'],
  ])('refuses a baseUrl with %s (paths are appended to it)', (_what, baseUrl) => {
    const error = configError(() => router({ ...valid, baseUrl }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toContain('baseUrl');
    expect(error.problems[0]).toMatch(/query|fragment/);
    configError(() => client({ ...valid, baseUrl }));
  });

  it.each<[string, unknown]>([
    ['a US-style date', '12/01/2026'],
    ['a date without a time', '2026-12-01'],
    ['a local time without a zone', '2026-12-01T00:00:00'],
    ['an HTTP date', 'Tue, 01 Dec 2026 00:00:00 GMT'],
    ['an impossible date', '2026-02-30T00:00:00Z'],
    ['an epoch number', 1_780_000_000_000],
    ['an invalid Date', new Date('not a date')],
  ])('refuses a campaign window given as %s', (_what, value) => {
    for (const field of ['validFrom', 'validUntil']) {
      const error = configError(() => router({ ...valid, campaigns: { SUMMER_SALE: { [field]: value } } }));
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toContain('campaigns');
    }
  });

  it('accepts campaign windows as Date objects or strict ISO 8601 instants with a zone', () => {
    expect(() =>
      createCheckoutRouter({
        ...valid,
        campaigns: {
          A: { validFrom: new Date('2026-12-01T00:00:00Z') },
          B: { validFrom: '2026-12-01T00:00:00Z', validUntil: '2026-12-24T18:00:00.500+01:00' },
          C: { validUntil: '2028-02-29T23:59:59Z' },
        },
      }),
    ).not.toThrow();
  });

  it('refuses an http: token URL on a public host', () => {
    const error = configError(() =>
      router({ ...valid, auth: { clientId: 'id', clientSecret: 'secret', tokenUrl: 'http://auth.example.com/token' } }),
    );
    expect(error.problems.join('\n')).toContain('tokenUrl');
  });

  it('refuses a mix of auth forms', () => {
    configError(() => router({ ...valid, auth: { token: TOKEN, getToken: () => TOKEN } }));
    configError(() => router({ ...valid, auth: { token: TOKEN, clientId: 'id', clientSecret: 's', tokenUrl: 'https://a.example/t' } }));
  });

  it('names what client credentials lack', () => {
    const text = configError(() => router({ ...valid, auth: { clientId: 'id' } })).problems.join('\n');
    expect(text).toContain('clientSecret');
    expect(text).toContain('tokenUrl');
  });

  it.each<[string, unknown]>([
    ['timeoutMs', -1],
    ['timeoutMs', 'fast'],
    ['deadlineMs', 0],
    ['deadlineMs', 1.5],
    ['retries', 11],
    ['retries', -1],
    ['breaker', true],
    ['breaker', { failureThreshold: 0, resetAfterMs: 1000 }],
    ['breaker', { failureThreshold: 3 }],
    ['allowedScriptOrigins', []],
    ['allowedScriptOrigins', ['https://cdn.example/path/pe.js']],
    ['allowedScriptOrigins', ['not an origin']],
    ['logger', { info: () => undefined }],
    ['logger', console.log],
    ['httpAgent', {}],
    ['httpsAgent', { keepAlive: true }],
    ['campaigns', ['bad name']],
    ['campaigns', 'SUMMER_SALE'],
    ['campaigns', { 'bad name': {} }],
    ['campaigns', { SUMMER_SALE: { validFrom: 'someday' } }],
    ['campaigns', { SUMMER_SALE: { startsAt: '2025-01-01T00:00:00Z' } }],
    ['path', 'checkout'],
    ['reuse', { store: new MemorySessionStore() }],
    ['reuse', { key: 'cart' }],
    ['reuse', { key: () => 'k', marginSeconds: -1 }],
    ['reuse', { key: () => 'k', store: { get: () => undefined } }],
    ['rateLimit', 20],
    ['onSessionCreated', 'log'],
    ['onError', {}],
  ])('refuses %s: %p', (name, value) => {
    const error = configError(() => router({ ...valid, [name]: value }));
    expect(error.problems.join('\n')).toContain(name);
  });

  it('says what to do for each problem', () => {
    const error = configError(() => router({ storeId: 7, auth: { token: TOKEN }, baseUrl: 'http://api.example.com' }));
    expect(error.problems).toHaveLength(2);
    for (const problem of error.problems) expect(problem).toMatch(/set|must|use|remove/i);
  });

  it('throws when the factory is called, not on the first request', () => {
    expect(() => router({ ...valid, timeoutMs: -5 })).toThrow(ConfigError);
  });
});

describe('secrets in ConfigError', () => {
  const secrets = {
    clientSecret: 'cs-TOP-SECRET-0123456789',
    token: 'tk-TOP-SECRET-not-a-jwt',
  };

  it.each<[string, Record<string, unknown>]>([
    ['a client secret beside a bad tokenUrl', { clientId: 'id', clientSecret: secrets.clientSecret, tokenUrl: 'http://auth.example.com/t' }],
    ['a client secret of the wrong form', { clientId: 'id', clientSecret: secrets.clientSecret, tokenUrl: 'https://a.example/t', token: TOKEN }],
    ['a client secret with an unknown key beside it', { clientId: 'id', clientSecret: secrets.clientSecret, tokenUrl: 'https://a.example/t', secret: secrets.clientSecret }],
    ['a token that is not a JWT', { token: secrets.token }],
    ['a token beside a getToken', { token: secrets.token, getToken: () => secrets.token }],
    ['a JWT with an unknown key', { token: TOKEN, scope: 'x' }],
  ])('never echoes %s', (_what, auth) => {
    const error = configError(() => router({ storeId: 'store-1', auth }));
    const text = `${error.message}\n${error.problems.join('\n')}\n${String(error.stack)}`;
    expect(text).not.toContain(secrets.clientSecret);
    expect(text).not.toContain(secrets.token);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(TOKEN.split('.')[2]!);
  });

  it('never echoes a secret passed as a misspelled option', () => {
    const error = configError(() => router({ ...valid, clientSecret: secrets.clientSecret }));
    expect(error.message).not.toContain(secrets.clientSecret);
  });
});

describe('optionsFromEnv', () => {
  const base = { RESURS_STORE_ID: 'store-9', RESURS_TOKEN: TOKEN };

  it('maps a token set-up', () => {
    expect(optionsFromEnv(base)).toEqual({ storeId: 'store-9', auth: { token: TOKEN } });
  });

  it('maps client credentials with a scope, a base URL and a campaign list', () => {
    const options = optionsFromEnv({
      RESURS_STORE_ID: 'store-9',
      RESURS_BASE_URL: 'https://merchant-api.integration.resurs.example/v2',
      RESURS_CLIENT_ID: 'client-9',
      RESURS_CLIENT_SECRET: 'secret-9',
      RESURS_TOKEN_URL: 'https://apigw.integration.resurs.com/api/oauth2/token',
      RESURS_SCOPE: 'mock-merchant-api',
      RESURS_CAMPAIGNS: ' SUMMER_SALE, BLACK_FRIDAY ,,',
    });
    expect(options).toEqual({
      storeId: 'store-9',
      baseUrl: 'https://merchant-api.integration.resurs.example/v2',
      auth: {
        clientId: 'client-9',
        clientSecret: 'secret-9',
        tokenUrl: 'https://apigw.integration.resurs.com/api/oauth2/token',
        scope: 'mock-merchant-api',
      },
      campaigns: ['SUMMER_SALE', 'BLACK_FRIDAY'],
    });
    expect(() => createCheckoutRouter(options)).not.toThrow();
  });

  it('leaves the scope to its default when RESURS_SCOPE is unset', () => {
    const options = optionsFromEnv({
      RESURS_STORE_ID: 's',
      RESURS_CLIENT_ID: 'c',
      RESURS_CLIENT_SECRET: 'x',
      RESURS_TOKEN_URL: 'https://apigw.resurs.com/api/oauth2/token',
    });
    expect(options.auth).toEqual({ clientId: 'c', clientSecret: 'x', tokenUrl: 'https://apigw.resurs.com/api/oauth2/token' });
  });

  it('lists every missing variable at once', () => {
    const text = configError(() => optionsFromEnv({})).problems.join('\n');
    expect(text).toContain('RESURS_STORE_ID');
    expect(text).toContain('RESURS_TOKEN');
    expect(text).toContain('RESURS_CLIENT_ID');
  });

  it('treats blank variables as unset', () => {
    const text = configError(() => optionsFromEnv({ RESURS_STORE_ID: '  ', RESURS_TOKEN: '' })).problems.join('\n');
    expect(text).toContain('RESURS_STORE_ID');
    expect(text).toContain('RESURS_TOKEN');
  });

  it('refuses both a token and client credentials', () => {
    configError(() => optionsFromEnv({ ...base, RESURS_CLIENT_ID: 'c', RESURS_CLIENT_SECRET: 'x', RESURS_TOKEN_URL: 'https://a.example/t' }));
  });

  it('names what client credentials lack, without echoing the secret', () => {
    const error = configError(() => optionsFromEnv({ RESURS_STORE_ID: 's', RESURS_CLIENT_ID: 'c', RESURS_CLIENT_SECRET: 'very-secret-value' }));
    expect(error.problems.join('\n')).toContain('RESURS_TOKEN_URL');
    expect(error.message).not.toContain('very-secret-value');
  });

  it('leaves value checks to the factory, which reports them', () => {
    const options = optionsFromEnv({ ...base, RESURS_BASE_URL: 'http://api.example.com', RESURS_CAMPAIGNS: 'ok,not ok' });
    const text = configError(() => createCheckoutRouter(options)).problems.join('\n');
    expect(text).toContain('baseUrl');
    expect(text).toContain('campaigns');
    expect(text).not.toContain(TOKEN);
  });
});

describe('rateLimit options', () => {
  it('are listed with every other problem in one ConfigError', () => {
    const error = configError(() => router({ ...valid, timeoutMs: -1, rateLimit: { windowMS: 1000, handler: () => undefined } }));
    expect(error.problems).toEqual([
      expect.stringMatching(/^`timeoutMs` is invalid/),
      expect.stringMatching(/^`rateLimit\.windowMS` is not an express-rate-limit option/),
      expect.stringMatching(/^remove `rateLimit\.handler`/),
    ]);
  });
});
