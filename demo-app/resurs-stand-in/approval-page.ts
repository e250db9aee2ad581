/**
 * The shopper's approval page at `taskRedirectionUrls.customerUrl`
 * (`GET {url}/merchant-api-ui/payments/{paymentId}`): plain HTML forms, no scripts, so it works
 * under a strict CSP. Buttons: `#approve` "Approve", `#decline` "Decline", and under "Other
 * outcomes" `#approve-frozen` and `#approve-captured`. The forms POST to `.../approve` (field
 * `outcome`: AUTHORIZED, CAPTURED or FROZEN) and `.../decline`, answered with a 303 to
 * `successUrl`/`failUrl`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APPROVAL_PAGE_PATH } from './constants';
import { writable } from './http-util';
import type { Refusal, StoredPayment } from './merchant-payments';
import type { ApprovalOutcome, ApprovalResult } from './types';

/** What the page needs from the Merchant API. */
export interface ApprovalPageDeps {
  find(paymentId: string): StoredPayment | undefined;
  decide(paymentId: string, outcome: ApprovalOutcome | 'REJECTED'): Promise<{ ok: true; result: ApprovalResult } | Refusal>;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;margin:0;background:#f4f6f5;color:#1d2b24}' +
  'main{max-width:32rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:.5rem;box-shadow:0 1px 4px #0002}' +
  'h1{font-size:1.25rem;color:#00643c}form{display:inline-block;margin:.5rem .5rem 0 0}' +
  'button{font-size:1rem;padding:.6rem 1.4rem;border-radius:.3rem;border:1px solid #00643c;cursor:pointer}' +
  '#approve{background:#00643c;color:#fff}#decline{background:#fff;color:#8a1c1c;border-color:#8a1c1c}' +
  'details{margin-top:1.5rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.3rem 1rem}dt{color:#55655c}';
const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/** Headers of every page: a CSP with no scripts at all (the style is allowed by its hash). */
export const APPROVAL_PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; base-uri 'none'; frame-ancestors 'none'`,
});

const OUTCOMES: readonly ApprovalOutcome[] = ['AUTHORIZED', 'CAPTURED', 'FROZEN'];

/** Escape text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function sendHtml(res: ServerResponse, status: number, title: string, body: string, headers: Record<string, string> = {}): void {
  if (!writable(res)) return;
  const html =
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>\n`;
  res.writeHead(status, { ...APPROVAL_PAGE_HEADERS, 'Content-Length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

function message(res: ServerResponse, status: number, text: string): void {
  sendHtml(res, status, 'Resurs Bank (stand-in)', `<h1>Resurs Bank (stand-in)</h1><p id="message">${escapeHtml(text)}</p>`);
}

function button(action: string, id: string, label: string, outcome?: ApprovalOutcome): string {
  const value = outcome ? ` name="outcome" value="${outcome}"` : '';
  return `<form method="post" action="${escapeHtml(action)}"><button type="submit" id="${id}"${value}>${escapeHtml(label)}</button></form>`;
}

function renderPage(res: ServerResponse, stored: StoredPayment): void {
  const { payment } = stored;
  const base = `${APPROVAL_PAGE_PATH}/${encodeURIComponent(payment.id)}`;
  const amount = payment.order.totalOrderAmount.toFixed(2);
  const facts =
    `<dl><dt>Store</dt><dd id="store">${escapeHtml(payment.storeId)}</dd>` +
    `<dt>Order</dt><dd id="order-reference">${escapeHtml(payment.order.orderReference)}</dd>` +
    `<dt>Amount</dt><dd id="amount">${amount}</dd>` +
    `<dt>Payment method</dt><dd id="payment-method">${escapeHtml(payment.paymentMethod.name)}</dd>` +
    `<dt>Status</dt><dd id="status" data-status="${payment.status}">${payment.status}</dd></dl>`;
  let actions = '';
  if (payment.status === 'TASK_REDIRECTION_REQUIRED') {
    actions =
      `<p>Do you want to pay ${amount} for this order?</p>` +
      button(`${base}/approve`, 'approve', 'Approve', 'AUTHORIZED') +
      button(`${base}/decline`, 'decline', 'Decline') +
      `<details><summary>Other outcomes</summary>` +
      button(`${base}/approve`, 'approve-frozen', 'Approve, but frozen for review', 'FROZEN') +
      button(`${base}/approve`, 'approve-captured', 'Approve and capture at once', 'CAPTURED') +
      `</details>`;
  } else if (payment.status === 'FROZEN') {
    actions = `<p>This payment is frozen for review.</p>` + button(`${base}/approve`, 'approve', 'Approve', 'AUTHORIZED') + button(`${base}/decline`, 'decline', 'Decline');
  } else {
    actions = `<p id="message">This payment is ${payment.status}; there is nothing to decide.</p>`;
  }
  sendHtml(res, 200, 'Resurs Bank (stand-in): approve payment', `<h1>Resurs Bank (stand-in)</h1>${facts}${actions}`);
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Answer one request under `APPROVAL_PAGE_PATH`; `subPath` is what follows it. */
export async function handleApprovalPage(req: IncomingMessage, res: ServerResponse, subPath: string, body: string, deps: ApprovalPageDeps): Promise<void> {
  const match = /^\/([^/]+)(?:\/(approve|decline))?\/?$/.exec(subPath);
  const paymentId = match ? decodeSegment(match[1]) : undefined;
  if (!match || paymentId === undefined) return message(res, 404, 'No such page.');
  const step = match[2];
  if (!step) {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendHtml(res, 405, 'Method not allowed', '<p id="message">Use GET.</p>', { Allow: 'GET, HEAD' });
    }
    const stored = deps.find(paymentId);
    if (!stored) return message(res, 404, 'This payment does not exist (or the stand-in was reset).');
    return renderPage(res, stored);
  }
  if (req.method !== 'POST') return sendHtml(res, 405, 'Method not allowed', '<p id="message">Use POST.</p>', { Allow: 'POST' });
  let outcome: ApprovalOutcome | 'REJECTED' = 'REJECTED';
  if (step === 'approve') {
    const asked = new URLSearchParams(body).get('outcome') ?? 'AUTHORIZED';
    const known = OUTCOMES.find((o) => o === asked);
    if (!known) return message(res, 400, `Unknown outcome "${asked}".`);
    outcome = known;
  }
  const decided = await deps.decide(paymentId, outcome);
  if (!decided.ok) return message(res, decided.status, decided.message);
  const { location, payment } = decided.result;
  if (location !== undefined) {
    if (!writable(res)) return;
    res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': 0 });
    res.end();
    return;
  }
  message(res, 200, `Payment ${payment.status}. You can close this window.`);
}
