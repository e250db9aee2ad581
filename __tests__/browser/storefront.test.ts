/**
 * The demo storefront end to end: real headless Chromium, the real demo shop (router mounted with
 * one app.use()) and the real Resurs stand-in, all on 127.0.0.1.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page, Request as PwRequest } from 'playwright-core';
import { startStandIn, groupsFor, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, FAULT_RAW_SECRET_MARKER } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { createDemoShop, listenShop } from '../../demo-app/shop/server';
import type { DemoShopOptions, RunningShop } from '../../demo-app/shop/server';
import { buildContentSecurityPolicy } from '../../demo-app/shop/csp';
import { describeWithChromium, launchChromium } from '../helpers/chromium';
import { watchContext, nonLoopbackRequests } from './page-watch';
import type { PageWatch } from './page-watch';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
/** 1 × 499 + 2 × 149 + 1 × 129, as the page's cart adds up. */
const CART_TOTAL = 926;

interface Opened {
  context: BrowserContext;
  page: Page;
  watch: PageWatch;
}

interface CheckoutResult {
  request: PwRequest;
  status: number;
  body: Record<string, unknown>;
  requestIdHeader: string | undefined;
}

describeWithChromium('demo storefront in headless Chromium', () => {
  let standIn: StandIn;
  let browser: Browser;
  const shops: RunningShop[] = [];
  const contexts: BrowserContext[] = [];
  let shop: RunningShop;

  async function startShop(overrides: Partial<DemoShopOptions> = {}): Promise<RunningShop> {
    const running = await listenShop(
      createDemoShop({
        baseUrl: standIn.baseUrl,
        auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: standIn.tokenUrl, scope: 'mock-merchant-api' },
        ...overrides,
      }),
    );
    shops.push(running);
    return running;
  }

  async function open(target: RunningShop = shop): Promise<Opened> {
    const context = await browser.newContext({ locale: 'en-GB' });
    contexts.push(context);
    const watch = await watchContext(context);
    const page = await context.newPage();
    await page.goto(`${target.url}/`);
    await page.waitForSelector('body[data-checkout="idle"]');
    return { context, page, watch };
  }

  /** Picks `campaign` ('' for none), presses "Go to checkout" and waits for the page to settle. */
  async function checkout(page: Page, campaign: string): Promise<CheckoutResult> {
    await page.selectOption('#campaign', campaign);
    const responsePromise = page.waitForResponse((r) => r.url().endsWith('/checkout/session'));
    await page.click('#go-to-checkout');
    const response = await responsePromise;
    await page.waitForSelector('body[data-checkout="ready"], body[data-checkout="error"]');
    return {
      request: response.request(),
      status: response.status(),
      body: (await response.json()) as Record<string, unknown>,
      requestIdHeader: (await response.allHeaders())['x-request-id'],
    };
  }

  async function shownMethods(page: Page): Promise<{ types: string[]; ids: string[] }> {
    return page.$$eval('#payment-methods [data-method-type]', (labels) => ({
      types: labels.map((l) => l.getAttribute('data-method-type') ?? ''),
      ids: labels.map((l) => l.getAttribute('data-group-id') ?? ''),
    }));
  }

  function expectClean(watch: PageWatch): void {
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(watch.requests.length).toBeGreaterThan(0);
    expect(nonLoopbackRequests(watch)).toEqual([]);
  }

  beforeAll(async () => {
    standIn = await startStandIn();
    shop = await startShop();
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    for (const running of shops) await running.close();
    await standIn?.close();
  });

  afterEach(() => {
    standIn.setFaults(null);
  });

  test('shows the cart and which Resurs base URL the shop talks to', async () => {
    const { page, watch } = await open();
    expect(await page.locator('#cart-items tr').count()).toBe(3);
    expect(await page.textContent('#cart-total')).toMatch(/^926\s*kr$/);
    await page.waitForSelector('#upstream[data-state="ready"]');
    expect(await page.textContent('#upstream-base-url')).toBe(standIn.baseUrl);
    expect(await page.textContent('#upstream')).toContain('local Resurs stand-in');
    expectClean(watch);
  });

  test('without a campaign: only the everyday payment methods, the expiry, and a screenshot', async () => {
    const { page, watch } = await open();
    const result = await checkout(page, '');

    expect(result.status).toBe(201);
    expect(result.request.method()).toBe('POST');
    expect(result.request.headers()['content-type']).toBe('application/json');
    expect(result.request.postData()).toBe('{}');

    await page.waitForSelector('#payment-methods[data-state="ready"]');
    const expected = groupsFor(undefined, 'NATURAL', CART_TOTAL);
    const shown = await shownMethods(page);
    expect(shown.types).toEqual(expected.map((g) => g.type));
    expect(shown.ids).toEqual(expected.map((g) => g.id));
    expect(shown.ids.some((id) => /sale|friday|spring/.test(id))).toBe(false);
    // The cart total reached the script as `amount`: part payment quotes a monthly sum from it.
    const partPayment = expected.find((g) => g.id === 'part-payment');
    expect(partPayment?.subtitle).toContain('per month');
    expect(await page.textContent('[data-group-id="part-payment"] [data-role="subtitle"]')).toBe(partPayment?.subtitle);

    expect(await page.getAttribute('#checkout', 'data-session-id')).toBe(result.body.id);
    expect(await page.getAttribute('#session-expiry time', 'datetime')).toBe(result.body.expiresAt);
    expect(await page.textContent('#session-expiry')).toMatch(/^Complete your payment by \d{2}:\d{2} \(about \d+ minutes? left\)$/);
    expect(await page.isVisible('#message')).toBe(false);

    await page.click('[data-group-id="card"] input');
    expect(await page.textContent('#chosen-method')).toBe('Selected: Card');

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'checkout.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(1000);
    expectClean(watch);
  });

  test('with SUMMER_SALE: only the campaign payment methods', async () => {
    const { page, watch } = await open();
    const result = await checkout(page, 'SUMMER_SALE');
    expect(result.status).toBe(201);
    expect(result.request.postData()).toBe('{"campaign":"SUMMER_SALE"}');
    await page.waitForSelector('#payment-methods[data-state="ready"]');
    const expected = groupsFor('SUMMER_SALE', 'NATURAL', CART_TOTAL);
    expect(expected.length).toBeGreaterThan(0);
    const shown = await shownMethods(page);
    expect(shown.types).toEqual(expected.map((g) => g.type));
    expect(shown.ids).toEqual(['summer-sale-part-payment']);
    expect(await page.getAttribute('#session-expiry time', 'datetime')).toBe(result.body.expiresAt);
    expectClean(watch);
  });

  test.each([
    ['SPRING_2025', 'campaign_expired', 'This campaign has ended.'],
    ['NOT_A_CAMPAIGN', 'campaign_not_allowed', "This campaign isn't available in our shop."],
  ])('with %s: the friendly message for %s, no session, no call to Resurs', async (campaign, code, message) => {
    const { page, watch } = await open();
    const callsBefore = standIn.sessionRequests.length;
    const result = await checkout(page, campaign);

    expect(result.status).toBe(422);
    expect(result.body.code).toBe(code);
    expect(await page.getAttribute('#message', 'data-code')).toBe(code);
    expect(await page.textContent('#message-text')).toBe(message);
    expect(await page.textContent('#message-reference')).toBe(`Reference: ${result.requestIdHeader}`);
    // The friendly text, not the raw problem detail.
    expect(await page.textContent('#message')).not.toContain(String(result.body.detail));
    expect(await page.isVisible('#checkout')).toBe(false);
    expect(await page.locator('[data-method-type]').count()).toBe(0);
    expect(standIn.sessionRequests.length).toBe(callsBefore);
    expectClean(watch);
  });

  test('switching campaigns re-mounts the methods and loads embed.src only once', async () => {
    const { page, watch } = await open();
    const first = await checkout(page, '');
    await page.waitForSelector('#payment-methods[data-state="ready"]');
    expect((await shownMethods(page)).ids).toEqual(groupsFor(undefined, 'NATURAL').map((g) => g.id));

    await page.selectOption('#campaign', 'BLACK_FRIDAY');
    expect(await page.getAttribute('#message', 'data-code')).toBe('campaign_changed');
    expect(await page.isVisible('#checkout')).toBe(false);

    const second = await checkout(page, 'BLACK_FRIDAY');
    await page.waitForSelector('#payment-methods[data-state="ready"]');
    expect(second.body.id).not.toBe(first.body.id);
    expect((await shownMethods(page)).ids).toEqual(groupsFor('BLACK_FRIDAY', 'NATURAL').map((g) => g.id));
    expect(await page.getAttribute('#checkout', 'data-session-id')).toBe(second.body.id);

    const embed = first.body.embed as { src: string };
    expect(watch.requests.filter((url) => url === embed.src)).toHaveLength(1);
    expect(await page.locator(`script[src="${embed.src}"]`).count()).toBe(1);
    expectClean(watch);
  });

  describe('when Resurs fails', () => {
    let faultShop: RunningShop;
    beforeAll(async () => {
      // Its own router, so the breaker it opens cannot touch the other tests.
      faultShop = await startShop({ router: { breaker: false } });
    });

    test('503 from Resurs: "Payments are temporarily unavailable", nothing of the raw body', async () => {
      standIn.setFaults({ always: { kind: 'status', status: 503 } });
      const { page, watch } = await open(faultShop);
      const result = await checkout(page, '');
      expect(result.status).toBe(503);
      expect(result.body.code).toBe('upstream_unavailable');
      expect(await page.textContent('#message-text')).toMatch(/^Payments are temporarily unavailable, please try again in a moment\./);
      expect(await page.textContent('body')).not.toContain(FAULT_RAW_SECRET_MARKER);
      expect(await page.isVisible('#checkout')).toBe(false);
      expectClean(watch);
    });

    test('500 from Resurs: a friendly upstream_error message', async () => {
      standIn.setFaults({ always: { kind: 'status', status: 500 } });
      const { page, watch } = await open(faultShop);
      const result = await checkout(page, 'SUMMER_SALE');
      expect(result.status).toBe(502);
      expect(await page.getAttribute('#message', 'data-code')).toBe('upstream_error');
      expect(await page.textContent('#message-text')).toBe(
        "We couldn't start the payment right now. Please try again, or contact us if it keeps happening.",
      );
      expect(await page.textContent('body')).not.toContain(FAULT_RAW_SECRET_MARKER);
      expectClean(watch);
    });
  });

  test('the CSP is enforced: without the script origin in script-src, Chromium blocks embed.src', async () => {
    // Control for the "no CSP violations" checks above: the same page under a policy that
    // leaves out the stand-in's origin must report a violation and show the friendly fallback.
    const strict = await startShop({
      contentSecurityPolicy: buildContentSecurityPolicy({ scriptOrigins: [], connectOrigins: [standIn.baseUrl] }),
    });
    const { page, watch } = await open(strict);
    const result = await checkout(page, '');
    expect(result.status).toBe(201);
    expect(await page.getAttribute('#message', 'data-code')).toBe('payment_elements_failed');
    expect(await page.textContent('#message-text')).toBe('The payment form could not be loaded. Please try again in a moment.');
    const blocked = (): boolean => watch.cspViolations.some((v) => v.includes('script-src') && v.includes(standIn.scriptOrigin));
    // Violation reports arrive through a CDP binding, a moment after the page has shown its message.
    for (let i = 0; i < 100 && !blocked(); i++) await page.waitForTimeout(20);
    expect(blocked()).toBe(true);
    expect(await page.locator('[data-method-type]').count()).toBe(0);
  });
});
