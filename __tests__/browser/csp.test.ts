/** The demo shop's Content-Security-Policy: the pure builder, and the header the shop sends. */
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { buildContentSecurityPolicy, originOf } from '../../demo-app/shop/csp';
import { createDemoShop } from '../../demo-app/shop/server';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';

const PUBLIC_DIR = path.join(__dirname, '..', '..', 'demo-app', 'shop', 'public');

describe('buildContentSecurityPolicy', () => {
  test('allows the Resurs script and API origins, and nothing inline', () => {
    expect(
      buildContentSecurityPolicy({
        scriptOrigins: ['https://static.checkout.dev.resurs.cloud'],
        connectOrigins: ['https://api.checkout.int.resurs.cloud/mock/payment/public/v1'],
      }),
    ).toBe(
      "default-src 'self'; script-src 'self' https://static.checkout.dev.resurs.cloud; " +
        "connect-src 'self' https://api.checkout.int.resurs.cloud; style-src 'self'; img-src 'self' data:; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
  });

  test('reduces URLs to origins and lists each origin once', () => {
    const policy = buildContentSecurityPolicy({
      scriptOrigins: ['http://127.0.0.1:4011/payment/standin/resurs-payment-elements.js', 'http://127.0.0.1:4011'],
      connectOrigins: ['http://127.0.0.1:4011/mock/payment/public/v1', 'http://127.0.0.1:4011'],
    });
    expect(policy).toContain("script-src 'self' http://127.0.0.1:4011;");
    expect(policy).toContain("connect-src 'self' http://127.0.0.1:4011;");
    expect(policy).not.toContain('unsafe-inline');
  });

  test("without origins only 'self' is allowed", () => {
    const policy = buildContentSecurityPolicy({ scriptOrigins: [], connectOrigins: [] });
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("connect-src 'self';");
  });

  test('refuses anything that is not an http(s) URL', () => {
    expect(() => originOf('javascript:alert(1)')).toThrow(TypeError);
    expect(() => originOf('static.resurs.cloud')).toThrow(TypeError);
    expect(() => buildContentSecurityPolicy({ scriptOrigins: ['data:text/javascript,1'], connectOrigins: [] })).toThrow(TypeError);
  });
});

describe('the storefront files work under that policy', () => {
  const html = fs.readFileSync(path.join(PUBLIC_DIR, 'index.html'), 'utf8');

  test('no inline scripts, inline styles or inline event handlers', () => {
    const scripts = html.match(/<script\b[^>]*>/gi) ?? [];
    expect(scripts).toEqual(['<script src="/app.js" defer>']);
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:/i);
  });

  test('the script never writes HTML or style attributes', () => {
    const js = fs.readFileSync(path.join(PUBLIC_DIR, 'app.js'), 'utf8');
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    expect(js).not.toMatch(/setAttribute\(\s*['"]style['"]/);
  });
});

describe('createDemoShop', () => {
  let standIn: StandIn;
  beforeAll(async () => {
    standIn = await startStandIn();
  });
  afterAll(async () => {
    await standIn.close();
  });

  const shopFor = (baseUrl: string, scriptOrigins?: string[]) =>
    createDemoShop({ baseUrl, auth: { token: standIn.issueToken() }, ...(scriptOrigins ? { scriptOrigins } : {}) });

  test('sends the CSP built from its base URL on the page, its assets and the checkout answer', async () => {
    const app = shopFor(standIn.baseUrl);
    const expected = buildContentSecurityPolicy({ scriptOrigins: [standIn.scriptOrigin], connectOrigins: [standIn.baseUrl] });
    const page = await request(app).get('/').expect(200).expect('Content-Type', /text\/html/);
    expect(page.headers['content-security-policy']).toBe(expected);
    expect(page.text).toContain('id="payment-methods"');
    await request(app).get('/app.js').expect(200).expect('Content-Type', /javascript/).expect('Content-Security-Policy', expected);
    await request(app).get('/styles.css').expect(200).expect('Content-Type', /text\/css/);
    const session = await request(app).post('/checkout/session').set('Content-Type', 'application/json').send('{}').expect(201);
    expect(session.headers['content-security-policy']).toBe(expected);
    expect(new URL((session.body as { embed: { src: string } }).embed.src).origin).toBe(standIn.scriptOrigin);
  });

  test('GET /demo/config tells the page which base URL the shop talks to', async () => {
    const local = await request(shopFor(standIn.baseUrl)).get('/demo/config').expect(200);
    expect(local.body).toEqual({ baseUrl: standIn.baseUrl, scriptOrigins: [standIn.scriptOrigin], standIn: true });
    const remote = await request(shopFor('https://api.checkout.int.resurs.cloud/mock/payment/public/v1', ['https://static.checkout.dev.resurs.cloud/x.js'])).get(
      '/demo/config',
    );
    expect(remote.body).toEqual({
      baseUrl: 'https://api.checkout.int.resurs.cloud/mock/payment/public/v1',
      scriptOrigins: ['https://static.checkout.dev.resurs.cloud'],
      standIn: false,
    });
    expect(remote.headers['content-security-policy']).toContain(
      "script-src 'self' https://static.checkout.dev.resurs.cloud; connect-src 'self' https://api.checkout.int.resurs.cloud https://static.checkout.dev.resurs.cloud;",
    );
  });

  test('the router refuses a script origin the CSP would block (502, not a broken page)', async () => {
    const app = shopFor(standIn.baseUrl, ['https://static.checkout.dev.resurs.cloud']);
    const answer = await request(app).post('/checkout/session').set('Content-Type', 'application/json').send('{}').expect(502);
    expect(answer.body).toMatchObject({ code: 'upstream_error' });
  });
});
