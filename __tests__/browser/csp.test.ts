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

  test.each([
    ['index.html', '/app.js'],
    ['confirmation.html', '/confirmation.js'],
  ])('%s: no inline scripts, inline styles or inline event handlers', (file, script) => {
    const page = file === 'index.html' ? html : fs.readFileSync(path.join(PUBLIC_DIR, file), 'utf8');
    const scripts = page.match(/<script\b[^>]*>/gi) ?? [];
    expect(scripts).toEqual([`<script src="${script}" defer>`]);
    expect(page).not.toMatch(/<style\b/i);
    expect(page).not.toMatch(/\sstyle\s*=/i);
    expect(page).not.toMatch(/\son[a-z]+\s*=/i);
    expect(page).not.toMatch(/javascript:/i);
  });

  test.each(['app.js', 'confirmation.js'])('%s never writes HTML or style attributes', (file) => {
    const js = fs.readFileSync(path.join(PUBLIC_DIR, file), 'utf8');
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
    expect(local.body).toEqual({ baseUrl: standIn.baseUrl, scriptOrigins: [standIn.scriptOrigin], standIn: true, payments: false });
    const remote = await request(shopFor('https://api.checkout.int.resurs.cloud/mock/payment/public/v1', ['https://static.checkout.dev.resurs.cloud/x.js'])).get(
      '/demo/config',
    );
    expect(remote.body).toEqual({
      baseUrl: 'https://api.checkout.int.resurs.cloud/mock/payment/public/v1',
      scriptOrigins: ['https://static.checkout.dev.resurs.cloud'],
      standIn: false,
      payments: false,
    });
    expect(remote.headers['content-security-policy']).toContain(
      "script-src 'self' https://static.checkout.dev.resurs.cloud; connect-src 'self' https://api.checkout.int.resurs.cloud https://static.checkout.dev.resurs.cloud;",
    );
  });

  test('payments: the order comes from the server-side cart, and its state is shown to that cart only', async () => {
    const app = createDemoShop({
      baseUrl: standIn.baseUrl,
      merchantApiUrl: standIn.merchantApiUrl,
      auth: { token: standIn.issueToken() },
      payments: { publicUrl: 'http://127.0.0.1:9', callbackSecret: 'x'.repeat(64) },
    });
    const config = await request(app).get('/demo/config').expect(200);
    expect(config.body).toMatchObject({ payments: true });

    const cart = await request(app).get('/demo/cart').expect(200);
    expect(cart.body).toMatchObject({ total: 926, currency: 'SEK' });
    const setCookie = ([] as string[]).concat(cart.headers['set-cookie'] ?? []);
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^ng_cart=[0-9a-f]{32}; Path=\/; HttpOnly; SameSite=Lax$/);
    const cookie = setCookie[0].split(';')[0];

    // Amounts in the body are not read: only paymentMethodId is.
    const paid = await request(app)
      .post('/checkout/payment')
      .set('Cookie', cookie)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ paymentMethodId: '6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a04' }))
      .expect(201);
    const payment = standIn.merchant.payment((paid.body as { paymentId: string }).paymentId)!;
    expect(payment.order.totalOrderAmount).toBe(926);
    const ref = payment.order.orderReference;
    const options = standIn.merchant.paymentOptions(payment.id)!;
    expect(options.successUrl).toBe(`http://127.0.0.1:9/order/confirmation?ref=${encodeURIComponent(ref)}`);
    expect(options.failUrl).toBe(`http://127.0.0.1:9/order/declined?ref=${encodeURIComponent(ref)}`);
    expect(options.authorizationCallbackUrl).toMatch(/^http:\/\/127\.0\.0\.1:9\/checkout\/callbacks\/authorization\?ref=/);

    const mine = await request(app).get(`/demo/orders/${encodeURIComponent(ref)}`).set('Cookie', cookie).expect(200);
    expect(mine.body).toEqual({ orderReference: ref, state: 'waiting', paymentStatus: null });
    await request(app).get(`/demo/orders/${encodeURIComponent(ref)}`).expect(404);
    await request(app).get(`/demo/orders/${encodeURIComponent(ref)}`).set('Cookie', `ng_cart=${'0'.repeat(32)}`).expect(404);
  });

  test('the router refuses a script origin the CSP would block (502, not a broken page)', async () => {
    const app = shopFor(standIn.baseUrl, ['https://static.checkout.dev.resurs.cloud']);
    const answer = await request(app).post('/checkout/session').set('Content-Type', 'application/json').send('{}').expect(502);
    expect(answer.body).toMatchObject({ code: 'upstream_error' });
  });
});
