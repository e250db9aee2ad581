/** The cross-site guard: browsers mark other sites' requests with Sec-Fetch-Site: cross-site. */
import request from 'supertest';
import { useHarness } from '../helpers/checkout-app';
import { expectProblem } from '../helpers/problem';

const harness = useHarness();
const post = (app: ReturnType<typeof harness.app>, headers: Record<string, string>) =>
  request(app).post('/checkout/session').set('Content-Type', 'application/json').set(headers).send('{}');

describe('Sec-Fetch-Site', () => {
  it('refuses a cross-site request with 403 before anything reaches Resurs', async () => {
    const app = harness.app();
    expectProblem(await post(app, { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://evil.example' }), 403, 'cross_site_request');
    expect(harness.standIn.sessionRequests).toHaveLength(0);
    expect(harness.standIn.tokenRequests).toHaveLength(0);
  });

  it.each(['same-origin', 'same-site', 'none'])('lets %s through', async (site) => {
    expect((await post(harness.app(), { 'Sec-Fetch-Site': site })).status).toBe(201);
  });

  it('lets requests without the header follow the other rules', async () => {
    expect((await post(harness.app(), {})).status).toBe(201);
    expectProblem(await request(harness.app()).post('/checkout/session').set('Content-Type', 'text/plain').send('x'), 415, 'unsupported_media_type');
  });

  it('allows the listed origins of the shop\'s other sites, and only them', async () => {
    const app = harness.app({ crossSiteOrigins: ['https://shop.example.no'] });
    expect((await post(app, { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://shop.example.no' })).status).toBe(201);
    expectProblem(await post(app, { 'Sec-Fetch-Site': 'cross-site', Origin: 'https://shop.example.se' }), 403, 'cross_site_request');
    expectProblem(await post(app, { 'Sec-Fetch-Site': 'cross-site' }), 403, 'cross_site_request');
  });

  it('is checked before the rate limit, so refused requests do not spend the shopper\'s quota', async () => {
    const app = harness.app({ rateLimit: { windowMs: 60_000, limit: 1 } });
    for (let i = 0; i < 3; i++) expect((await post(app, { 'Sec-Fetch-Site': 'cross-site' })).status).toBe(403);
    expect((await post(app, {})).status).toBe(201);
  });

  it('refuses a crossSiteOrigins entry that is not an origin at start-up', () => {
    expect(() => harness.app({ crossSiteOrigins: ['shop.example.no/path'] })).toThrow(/crossSiteOrigins/);
  });
});
