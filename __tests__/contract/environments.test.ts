/** Going live: the environments table, the one-word switch, the production warning, warm start. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { ConfigError, RESURS_ENVIRONMENTS, RESURS_MOCK_BASE_URL, createCheckoutRouter, optionsFromEnv } from '../../src';
import type { CheckoutRouterOptions } from '../../src';
import { resolveRouterOptions } from '../../src/options/options';
import { VERSION } from '../../src/version';
import { DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from '../../demo-app/resurs-stand-in';
import { useHarness } from '../helpers/checkout-app';
import { recordingLogger } from '../helpers/recording-logger';

const token = { token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' };

describe('RESURS_ENVIRONMENTS', () => {
  it('holds the contract table', () => {
    expect(RESURS_ENVIRONMENTS.test).toEqual({
      baseUrl: RESURS_MOCK_BASE_URL,
      merchantApiUrl: 'https://merchant-api.integration.resurs.com',
      tokenUrl: 'https://merchant-api.integration.resurs.com/oauth2/token',
    });
    expect(RESURS_ENVIRONMENTS.production).toEqual({
      baseUrl: 'https://api.checkout.prod.resurs.cloud/payment/public/v1',
      merchantApiUrl: 'https://merchant-api.resurs.com',
      tokenUrl: 'https://merchant-api.resurs.com/oauth2/token',
    });
    expect(Object.isFrozen(RESURS_ENVIRONMENTS.production)).toBe(true);
  });

  it('switches sessions, payments and tokens to production with one word', () => {
    const resolved = resolveRouterOptions({ storeId: 's', environment: 'production', auth: { clientId: 'c', clientSecret: 'x' } });
    expect(resolved.baseUrl).toBe(RESURS_ENVIRONMENTS.production.baseUrl);
    expect(resolved.merchantApiUrl).toBe(RESURS_ENVIRONMENTS.production.merchantApiUrl);
    expect(resolved.auth).toMatchObject({ tokenUrl: RESURS_ENVIRONMENTS.production.tokenUrl });
  });

  it('defaults to the test column, and each URL overrides its own row', () => {
    const resolved = resolveRouterOptions({
      storeId: 's',
      environment: 'production',
      merchantApiUrl: 'http://127.0.0.1:9/merchant-api/',
      auth: { clientId: 'c', clientSecret: 'x', tokenUrl: 'https://tokens.example/oauth2/token' },
    });
    expect(resolved.baseUrl).toBe(RESURS_ENVIRONMENTS.production.baseUrl);
    expect(resolved.merchantApiUrl).toBe('http://127.0.0.1:9/merchant-api');
    expect(resolved.auth).toMatchObject({ tokenUrl: 'https://tokens.example/oauth2/token' });
    const plain = resolveRouterOptions({ storeId: 's', auth: token });
    expect(plain.environment).toBe('test');
    expect(plain.merchantApiUrl).toBe(RESURS_ENVIRONMENTS.test.merchantApiUrl);
  });

  it('needs auth.tokenUrl only without environment', () => {
    expect(() => createCheckoutRouter({ storeId: 's', auth: { clientId: 'c', clientSecret: 'x' } })).toThrow(ConfigError);
    expect(() => createCheckoutRouter({ storeId: 's', environment: 'test', auth: { clientId: 'c', clientSecret: 'x' } })).not.toThrow();
    expect(() => createCheckoutRouter({ storeId: 's', environment: 'staging' as never, auth: token })).toThrow(/environment/);
  });
});

describe('optionsFromEnv', () => {
  it('reads RESURS_ENVIRONMENT and RESURS_MERCHANT_API_URL; RESURS_TOKEN_URL is optional with an environment', () => {
    const options = optionsFromEnv({
      RESURS_STORE_ID: 'store',
      RESURS_ENVIRONMENT: 'production',
      RESURS_MERCHANT_API_URL: 'https://merchant-api.example',
      RESURS_CLIENT_ID: 'id',
      RESURS_CLIENT_SECRET: 'secret',
    });
    expect(options).toMatchObject({ environment: 'production', merchantApiUrl: 'https://merchant-api.example', auth: { clientId: 'id' } });
    expect('tokenUrl' in options.auth).toBe(false);
  });

  it('refuses an unknown RESURS_ENVIRONMENT and a missing token URL without one', () => {
    expect(() => optionsFromEnv({ RESURS_STORE_ID: 's', RESURS_TOKEN: token.token, RESURS_ENVIRONMENT: 'prod' })).toThrow(/RESURS_ENVIRONMENT/);
    expect(() => optionsFromEnv({ RESURS_STORE_ID: 's', RESURS_CLIENT_ID: 'id', RESURS_CLIENT_SECRET: 'x' })).toThrow(/RESURS_TOKEN_URL/);
  });
});

describe('the start-up warning under NODE_ENV=production', () => {
  const previous = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = previous;
  });
  const warningsFor = (options: Partial<CheckoutRouterOptions>) => {
    const { logger, warns } = recordingLogger();
    createCheckoutRouter({ storeId: 's', auth: token, logger, ...options });
    return warns().filter((w) => /test environment/.test(w.message));
  };

  it('is logged once when the router still talks to the test column', () => {
    process.env.NODE_ENV = 'production';
    expect(warningsFor({})).toHaveLength(1);
    expect(warningsFor({ environment: 'test' })).toHaveLength(1);
  });

  it('is not logged for production, nor outside NODE_ENV=production', () => {
    process.env.NODE_ENV = 'production';
    expect(warningsFor({ environment: 'production' })).toHaveLength(0);
    process.env.NODE_ENV = 'development';
    expect(warningsFor({})).toHaveLength(0);
  });
});

describe('warm start', () => {
  const harness = useHarness();
  const credentials = () => ({ clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: harness.standIn.tokenUrl, scope: 'mock-merchant-api' });

  it('router.warmUp() fetches the token, so the first shopper makes no token request', async () => {
    const router = createCheckoutRouter({ storeId: 's', baseUrl: harness.standIn.baseUrl, auth: credentials() });
    try {
      await router.warmUp();
      expect(harness.standIn.tokenRequests).toHaveLength(1);
      const app = express().use(router);
      expect((await request(app).post('/checkout/session')).status).toBe(201);
      expect(harness.standIn.tokenRequests).toHaveLength(1);
    } finally {
      router.close();
    }
  });

  it('router.warmUp() rejects with upstream_error when Resurs refuses the credentials', async () => {
    const router = createCheckoutRouter({ storeId: 's', baseUrl: harness.standIn.baseUrl, auth: { ...credentials(), clientSecret: 'wrong' } });
    await expect(router.warmUp()).rejects.toMatchObject({ name: 'ResursCheckoutError', code: 'upstream_error' });
    router.close();
  });
});

describe('the User-Agent version', () => {
  it('is package.json\'s version', () => {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});
