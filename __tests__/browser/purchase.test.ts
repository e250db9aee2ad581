/**
 * A whole purchase in real headless Chromium, with exactly what `npm start` starts (startDemo:
 * the demo shop and the Resurs stand-in, on 127.0.0.1): pick a method, Pay, approve or decline on
 * the stand-in's page, land on the shop's confirmation page. "Paid" must wait for the shop's
 * onPaymentUpdate, which only a verified callback calls.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PAYMENT_METHOD_CATALOG, APPROVAL_PAGE_PATH } from '../../demo-app/resurs-stand-in';
import type { CallbackRecord, StandIn } from '../../demo-app/resurs-stand-in';
import { startDemo } from '../../demo-app/start';
import type { RunningDemo } from '../../demo-app/start';
import type { Logger } from 'express-resurs-checkout';
import { describeWithChromium, launchChromium } from '../helpers/chromium';
import { watchContext, nonLoopbackRequests } from './page-watch';
import type { PageWatch } from './page-watch';

// Screenshots go to test-artifacts/; UPDATE_DOCS=1 writes the README's pictures in docs/ instead.
const DOCS = path.join(__dirname, '..', '..', process.env.UPDATE_DOCS === '1' ? 'docs' : 'test-artifacts');
const WAIT = { timeout: 10_000 };
const WAITING_TEXT = "Waiting for Resurs' confirmation…";
const CARD_METHOD_ID = PAYMENT_METHOD_CATALOG.find((group) => group.id === 'card')!.methodIds[0];

interface LogEntry {
  level: string;
  message: string;
  fields: Record<string, unknown>;
  at: number;
}

interface Observation {
  state: string | null;
  text: string;
  at: number;
}

interface AtResurs {
  paymentId: string;
  orderReference: string;
}

describeWithChromium("a purchase in headless Chromium, with npm start's set-up", () => {
  let demo: RunningDemo;
  let standIn: StandIn;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const logs: LogEntry[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: (fields, message) => logs.push({ level: 'info', message, fields: fields as Record<string, unknown>, at: Date.now() }),
    warn: (fields, message) => logs.push({ level: 'warn', message, fields: fields as Record<string, unknown>, at: Date.now() }),
    error: (fields, message) => logs.push({ level: 'error', message, fields: fields as Record<string, unknown>, at: Date.now() }),
  };

  beforeAll(async () => {
    // No RESURS_* variables: the stand-in, as `npm start` without configuration. Random ports.
    demo = await startDemo({ env: { PORT: '0' }, standInPort: 0, logger });
    standIn = demo.standIn!;
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await demo?.close();
  });

  afterEach(() => {
    standIn.merchant.setCallbackMode(null);
  });

  async function newPage(): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
    const context = await browser.newContext({ locale: 'en-GB' });
    contexts.push(context);
    const watch = await watchContext(context);
    return { context, page: await context.newPage(), watch };
  }

  /** Shop → "Go to checkout" → Card → Pay → the stand-in's approval page. */
  async function payAtResurs(page: Page, { screenshot }: { screenshot?: string } = {}): Promise<AtResurs> {
    await page.goto(`${demo.shop.url}/`);
    await page.waitForSelector('body[data-checkout="idle"]', WAIT);
    await page.waitForSelector('#upstream[data-state="ready"]', WAIT);
    await page.click('#go-to-checkout');
    await page.waitForSelector('#payment-methods[data-state="ready"]', WAIT);
    expect(await page.isVisible('#pay-area')).toBe(true);
    expect(await page.isDisabled('#pay')).toBe(true);
    await page.click('[data-group-id="card"] input');
    await page.locator('#pay:enabled').waitFor(WAIT);
    expect(await page.textContent('#pay')).toMatch(/^Pay 926\s*kr$/);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

    const paymentResponse = page.waitForResponse((r) => r.url() === `${demo.shop.url}/checkout/payment`, WAIT);
    await page.click('#pay');
    const response = await paymentResponse;
    expect(response.status()).toBe(201);
    const sent = response.request();
    expect(sent.method()).toBe('POST');
    expect(sent.headers()['content-type']).toBe('application/json');
    // Only the picked method leaves the browser: the order comes from the shop's cart.
    expect(JSON.parse(sent.postData() ?? 'null')).toEqual({ paymentMethodId: CARD_METHOD_ID });

    await page.waitForURL((url) => url.href.startsWith(`${standIn.url}${APPROVAL_PAGE_PATH}/`), WAIT);
    await page.locator('#approve').waitFor(WAIT);
    const paymentId = decodeURIComponent(new URL(page.url()).pathname.slice(APPROVAL_PAGE_PATH.length + 1));
    const payment = standIn.merchant.payment(paymentId);
    expect(payment).toBeDefined();
    expect(page.url()).toBe(payment!.taskRedirectionUrls?.customerUrl);
    expect(payment!.status).toBe('TASK_REDIRECTION_REQUIRED');
    expect(payment!.paymentMethodId).toBe(CARD_METHOD_ID);
    expect(payment!.order.totalOrderAmount).toBe(926);
    expect(payment!.order.orderLines.map((l) => [l.description, l.quantity, l.totalAmountIncludingVat])).toEqual([
      ['Linen shirt', 1, 499],
      ['Canvas tote bag', 2, 298],
      ['Ceramic mug', 1, 129],
    ]);
    const orderReference = payment!.order.orderReference;
    expect(await page.textContent('#order-reference')).toBe(orderReference);
    return { paymentId, orderReference };
  }

  function authorizationDeliveries(orderReference: string): CallbackRecord[] {
    return standIn.merchant
      .callbacks()
      .filter((c) => c.kind === 'authorization' && !c.forged && new URL(c.url).searchParams.get('ref') === orderReference);
  }

  function expectClean(watch: PageWatch): void {
    expect(watch.cspViolations).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(nonLoopbackRequests(watch)).toEqual([]);
  }

  test('approve: Pay, approve on the stand-in page, land on the confirmation page, "Paid"', async () => {
    const { context, page, watch } = await newPage();
    fs.mkdirSync(DOCS, { recursive: true });
    const { paymentId, orderReference } = await payAtResurs(page, { screenshot: path.join(DOCS, 'checkout.png') });

    const cookies = await context.cookies(demo.shop.url);
    const cart = cookies.find((c) => c.name === 'ng_cart');
    expect(cart).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cart!.value).toMatch(/^[0-9a-f]{32}$/);

    await page.click('#approve');
    await page.waitForURL(`${demo.shop.url}/order/confirmation?ref=${encodeURIComponent(orderReference)}`, WAIT);
    await page.waitForSelector('#order-status[data-state="paid"]', WAIT);
    expect(await page.textContent('#order-status')).toBe('Paid');
    expect(await page.textContent('#order-reference')).toBe(orderReference);
    expect(await page.isVisible('#try-again')).toBe(false);

    expect(standIn.merchant.payment(paymentId)!.status).toBe('ACCEPTED');
    const deliveries = authorizationDeliveries(orderReference);
    expect(deliveries.map((d) => [(d.body as { status: string }).status, d.status])).toEqual([['AUTHORIZED', 204]]);

    const file = path.join(DOCS, 'purchase-paid.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(1000);
    expectClean(watch);
  });

  test('decline: "Payment declined", and "Try again" pays with a new order reference', async () => {
    const { page, watch } = await newPage();
    const first = await payAtResurs(page);

    await page.click('#decline');
    await page.waitForURL(`${demo.shop.url}/order/declined?ref=${encodeURIComponent(first.orderReference)}`, WAIT);
    await page.waitForSelector('#order-status[data-state="declined"]', WAIT);
    expect(await page.textContent('#order-status')).toBe('Payment declined');
    expect(await page.isVisible('#try-again')).toBe(true);
    expect(standIn.merchant.payment(first.paymentId)!.status).toBe('REJECTED');
    expect(authorizationDeliveries(first.orderReference).map((d) => [(d.body as { status: string }).status, d.status])).toEqual([['REJECTED', 204]]);

    const file = path.join(DOCS, 'purchase-declined.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(1000);

    // Same cart, new attempt: the declined order reference is not reused.
    await page.click('#try-again');
    await page.waitForURL(`${demo.shop.url}/`, WAIT);
    const second = await payAtResurs(page);
    expect(second.orderReference).not.toBe(first.orderReference);
    expect(second.paymentId).not.toBe(first.paymentId);
    await page.click('#approve');
    await page.waitForSelector('#order-status[data-state="paid"]', WAIT);
    expectClean(watch);
  });

  test('delayed callback: the page waits for onPaymentUpdate, and shows "Paid" only after the callback was handled', async () => {
    standIn.merchant.setCallbackMode({ mode: 'delay', ms: 1500 });
    const { context, page, watch } = await newPage();

    // Every change of the status line, stamped when the test hears of it.
    const observations: Observation[] = [];
    await context.exposeFunction('__orderStatus', (state: string | null, text: string) => {
      observations.push({ state, text, at: Date.now() });
    });
    await context.addInitScript(() => {
      document.addEventListener('DOMContentLoaded', () => {
        const line = document.getElementById('order-status');
        if (!line) return;
        const report = (window as unknown as { __orderStatus: (state: string | null, text: string) => void }).__orderStatus;
        const send = (): void => void report(line.getAttribute('data-state'), line.textContent ?? '');
        send();
        new MutationObserver(send).observe(line, { attributes: true, childList: true, characterData: true, subtree: true });
      });
    });
    // Every answer the page's polling got.
    const polls: { state: string; at: number }[] = [];
    page.on('response', (response) => {
      if (!response.url().startsWith(`${demo.shop.url}/demo/orders/`)) return;
      response.json().then(
        (body: { state: string }) => polls.push({ state: body.state, at: Date.now() }),
        () => undefined,
      );
    });

    const { orderReference } = await payAtResurs(page);
    const approvedAt = Date.now();
    await page.click('#approve');
    await page.waitForURL(`${demo.shop.url}/order/confirmation?ref=${encodeURIComponent(orderReference)}`, WAIT);

    // Right after landing: waiting, and Resurs has not called the shop yet.
    expect(await page.textContent('#order-status')).toBe(WAITING_TEXT);
    expect(await page.getAttribute('#order-status', 'data-state')).toBe('waiting');
    expect(authorizationDeliveries(orderReference)).toEqual([]);
    await page.screenshot({ path: path.join(DOCS, 'purchase-waiting.png'), fullPage: true });
    expect(authorizationDeliveries(orderReference)).toEqual([]);

    await page.waitForSelector('#order-status[data-state="paid"]', WAIT);
    const paidAt = Date.now();
    expect(await page.textContent('#order-status')).toBe('Paid');

    // By the time "Paid" shows, the delivery has been answered 204 ...
    const deliveries = authorizationDeliveries(orderReference);
    expect(deliveries).toHaveLength(1);
    const delivery = deliveries[0];
    expect(delivery.status).toBe(204);
    expect((delivery.body as { status: string }).status).toBe('AUTHORIZED');
    expect(delivery.at).toBeGreaterThanOrEqual(approvedAt + 1400);
    expect(delivery.at + delivery.durationMs).toBeLessThanOrEqual(paidAt);
    // ... and onPaymentUpdate saw ACCEPTED (the fetched status) during that delivery.
    const hook = logs.find((l) => l.message === 'Order updated.' && l.fields.orderReference === orderReference);
    expect(hook?.fields).toMatchObject({ paymentStatus: 'ACCEPTED', state: 'paid' });
    expect(hook!.at).toBeGreaterThanOrEqual(delivery.at);

    // Before the delivery the page showed nothing but the waiting text, and its polls said so.
    const before = observations.filter((o) => o.at < delivery.at);
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((o) => o.state === 'waiting' && o.text === WAITING_TEXT)).toBe(true);
    const pendingPolls = polls.filter((p) => p.at < delivery.at);
    expect(pendingPolls.length).toBeGreaterThan(0);
    expect(pendingPolls.every((p) => p.state === 'waiting')).toBe(true);
    const firstPaid = observations.find((o) => o.state === 'paid');
    expect(firstPaid).toBeDefined();
    expect(firstPaid!.at).toBeGreaterThanOrEqual(hook!.at);
    expect(firstPaid!.text).toBe('Paid');
    expectClean(watch);
  });
});
