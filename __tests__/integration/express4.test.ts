/**
 * The peer range includes Express 4: the same router, mounted in an Express 4 app, answers the
 * same way. `express` resolves to Express 4 for this file and everything it loads.
 */
jest.mock('express', () => jest.requireActual('express4'));

import express from 'express';
import request from 'supertest';
import { createCheckoutRouter } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';

describe('with Express 4', () => {
  let standIn: StandIn;
  let app: express.Express;

  beforeAll(async () => {
    standIn = await startStandIn();
    app = express();
    app.use(createCheckoutRouter({ storeId: 'store-4', baseUrl: standIn.baseUrl, auth: { token: standIn.issueToken() }, campaigns: ['SUMMER_SALE'] }));
  });
  afterAll(() => standIn.close());

  it('really runs Express 4', () => {
    expect((jest.requireActual('express4/package.json') as { version: string }).version).toMatch(/^4\./);
    expect(express).toBe(jest.requireActual('express4'));
  });

  it('creates a session', async () => {
    const res = await request(app).post('/checkout/session').send({ campaign: 'SUMMER_SALE' });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body)).toEqual(['id', 'expiresAt', 'embed']);
    expect(standIn.sessionRequests.at(-1)?.body).toBe('{"campaign":"SUMMER_SALE"}');
  });

  it('accepts no body at all as no campaign', async () => {
    const res = await request(app).post('/checkout/session');
    expect(res.status).toBe(201);
    expect(standIn.sessionRequests.at(-1)?.body).toBe('{}');
  });

  it.each([
    ['malformed JSON', (r: request.Test) => r.set('Content-Type', 'application/json').send('{"campaign":'), 400, 'invalid_request'],
    ['a form body', (r: request.Test) => r.type('form').send('campaign=SUMMER_SALE'), 415, 'unsupported_media_type'],
    ['a body over 1 KiB', (r: request.Test) => r.send({ campaign: 'A'.repeat(2000) }), 413, 'payload_too_large'],
    ['a campaign not on the list', (r: request.Test) => r.send({ campaign: 'OTHER' }), 422, 'campaign_not_allowed'],
  ])('answers %s with a problem', async (_name, build, status, code) => {
    const res = await build(request(app).post('/checkout/session'));
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ status, code, requestId: res.headers['x-request-id'] });
  });

  it('answers other methods with 405 and Allow: POST', async () => {
    const res = await request(app).put('/checkout/session');
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });
});
