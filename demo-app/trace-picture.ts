/**
 * Makes docs/trace.png: the demo's traces as a waterfall. Registers a real OpenTelemetry SDK
 * (in-memory exporter), starts the demo (shop + Resurs stand-in on loopback), runs one purchase
 * the way the browser would (cart, session with a campaign, payment, the shopper approves at
 * "Resurs", the authorization callback), then draws every span on one time axis in a small HTML
 * page and screenshots it with headless Chromium.
 *
 *   npm run build && node -r ts-node/register/transpile-only demo-app/trace-picture.ts [out.png]
 *
 * To make the picture tell something, the stand-in answers the first Create Session with a 503
 * (the router retries it) and every call with 30-60 ms of simulated latency. CHROMIUM_PATH
 * overrides /usr/bin/chromium.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { chromium } from 'playwright-core';
import type * as Start from './start';
import type * as Telemetry from './telemetry';

const OUT = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'docs', 'trace.png'));
const INVOICE = '6f6a3c4e-0b1a-4c59-9d2e-1a1c5e1b0a01';
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;

async function runPurchase(exporter: InMemorySpanExporter): Promise<void> {
  // Loaded after the SDK is registered, as a merchant's app registers it before making the router.
  const { startDemo } = require('./start') as typeof Start;
  const demo = await startDemo({ env: { PORT: '0' }, standInPort: 0, logger: silent });
  try {
    const standIn = demo.standIn!;
    const base = demo.shop.url;
    standIn.setLatency(40);
    standIn.setFaults({ queue: [{ kind: 'status', status: 503 }] });
    standIn.merchant.setPaymentFaults({ queue: [{ kind: 'latency', ms: 60 }] });
    standIn.merchant.setLookupFaults({ queue: [{ kind: 'latency', ms: 30 }] });

    const cart = await fetch(`${base}/demo/cart`);
    const cookie = cart.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const headers = { 'content-type': 'application/json', cookie };
    const session = await fetch(`${base}/checkout/session`, { method: 'POST', headers, body: JSON.stringify({ campaign: 'SUMMER_SALE' }) });
    if (session.status !== 201) throw new Error(`session answered ${session.status}`);
    const payment = await fetch(`${base}/checkout/payment`, { method: 'POST', headers, body: JSON.stringify({ paymentMethodId: INVOICE }) });
    const { paymentId } = (await payment.json()) as { paymentId?: string };
    if (payment.status !== 201 || !paymentId) throw new Error(`payment answered ${payment.status}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // the shopper reads Resurs' page
    await standIn.merchant.approve(paymentId);
    await standIn.merchant.settled();
    const end = Date.now() + 5000;
    while (!exporter.getFinishedSpans().some((s) => s.name === 'resurs.callback.authorization')) {
      if (Date.now() > end) throw new Error('no callback span');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  } finally {
    await demo.close();
  }
}

/** Spans in waterfall order: traces by start, each depth-first by start. */
function ordered(spans: ReadableSpan[]): { span: ReadableSpan; depth: number }[] {
  const byStart = [...spans].sort((a, b) => ms(a.startTime) - ms(b.startTime));
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string, ReadableSpan[]>();
  for (const span of byStart) {
    const parent = span.parentSpanContext?.spanId;
    if (parent && ids.has(parent)) children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const rows: { span: ReadableSpan; depth: number }[] = [];
  const visit = (span: ReadableSpan, depth: number) => {
    rows.push({ span, depth });
    for (const child of children.get(span.spanContext().spanId) ?? []) visit(child, depth + 1);
  };
  for (const root of byStart.filter((s) => !s.parentSpanContext || !ids.has(s.parentSpanContext.spanId))) visit(root, 0);
  return rows;
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The attributes worth a glance, per kind of span. */
function detail(span: ReadableSpan): string {
  const a = span.attributes;
  const parts: string[] = [];
  if (span.kind === SpanKind.CLIENT) {
    // The path's last segments: enough to tell the routes apart.
    parts.push(`…/${new URL(String(a['url.full'])).pathname.split('/').slice(-3).join('/')}`);
    if (a['http.response.status_code'] !== undefined) parts.push(`→ ${String(a['http.response.status_code'])}`);
    if (a['http.request.resend_count'] !== undefined) parts.push(`resend_count=${String(a['http.request.resend_count'])}`);
  } else {
    for (const key of ['http.response.status_code', 'resurs.campaign', 'resurs.reused', 'resurs.attempts', 'resurs.payment.status', 'resurs.callback.outcome']) {
      if (a[key] !== undefined) parts.push(`${key.replace(/^(resurs|http)\./, '')}=${String(a[key])}`);
    }
  }
  if (a['error.type'] !== undefined) parts.push(`error.type=${String(a['error.type'])}`);
  for (const event of span.events) parts.push(`◆ ${event.name}`);
  return parts.join('  ');
}

function render(spans: ReadableSpan[]): string {
  const rows = ordered(spans);
  const t0 = Math.min(...spans.map((s) => ms(s.startTime)));
  const t1 = Math.max(...spans.map((s) => ms(s.endTime)));
  const total = t1 - t0;
  const tick = total > 400 ? 100 : 50;
  const ticks = Array.from({ length: Math.floor(total / tick) + 1 }, (_, i) => i * tick);
  const colour = (span: ReadableSpan) =>
    span.kind === SpanKind.CLIENT ? (span.attributes['error.type'] !== undefined ? '#d9534f' : '#5cb85c') : span.name.startsWith('resurs.checkout') || span.name.startsWith('resurs.callback') ? '#3b6fb6' : '#8e6bbf';
  let previousTrace = '';
  const body = rows
    .map(({ span, depth }) => {
      const left = ((ms(span.startTime) - t0) / total) * 100;
      const width = Math.max(0.3, ((ms(span.endTime) - ms(span.startTime)) / total) * 100);
      const trace = span.spanContext().traceId;
      const header =
        trace !== previousTrace ? `<div class="trace">trace ${trace.slice(0, 12)}…</div>` : '';
      previousTrace = trace;
      const duration = (ms(span.endTime) - ms(span.startTime)).toFixed(1);
      return `${header}<div class="row"><div class="name" style="padding-left:${depth * 18 + 8}px"><b>${escape(span.name)}</b>${span.kind === SpanKind.CLIENT ? ' <i>CLIENT</i>' : ''}<div class="detail">${escape(detail(span))}</div></div>
        <div class="lane">${ticks.map((t) => `<div class="grid" style="left:${(t / total) * 100}%"></div>`).join('')}
        <div class="bar" style="left:${left}%;width:${width}%;background:${colour(span)}"></div><div class="ms" style="left:calc(${left + width}% + 4px)">${duration} ms</div></div></div>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><style>
    * { box-sizing: border-box; }
    body { font: 13px/1.3 system-ui, sans-serif; margin: 0; background: #fff; color: #222; }
    #chart { padding: 16px 20px 12px; width: 1160px; }
    h1 { font-size: 16px; margin: 0 0 2px; } .sub { color: #666; margin-bottom: 10px; }
    .axis, .row { display: flex; } .axis .name { color: #666; }
    .name { width: 440px; flex: none; overflow: hidden; white-space: nowrap; padding: 3px 0; }
    .name i { color: #888; font-size: 11px; } .detail { color: #666; font-size: 11px; }
    .lane { position: relative; flex: 1; border-left: 1px solid #ccc; margin-right: 64px; }
    .grid { position: absolute; top: 0; bottom: 0; border-left: 1px dashed #eee; }
    .bar { position: absolute; top: 9px; height: 14px; border-radius: 3px; }
    .ms { position: absolute; top: 8px; font-size: 11px; color: #444; white-space: nowrap; }
    .tick { position: absolute; font-size: 11px; color: #888; transform: translateX(-50%); white-space: nowrap; }
    .trace { margin-top: 8px; padding: 3px 8px; background: #f4f4f6; color: #555; font-size: 11px; font-family: monospace; }
    .legend span { display: inline-block; width: 12px; height: 10px; border-radius: 2px; margin: 0 4px 0 14px; vertical-align: middle; }
  </style></head><body><div id="chart">
    <h1>express-resurs-checkout: one purchase in traces</h1>
    <div class="sub">Demo shop + Resurs stand-in on loopback, simulated latency 30–60 ms; the first Create Session attempt got a 503 and was retried.
      The client-credentials token fetch is an operation of its own. Each attempt, the token fetch too, sent its own span to Resurs as W3C <code>traceparent</code>.</div>
    <div class="sub legend"><span style="background:#3b6fb6"></span>route <span style="background:#8e6bbf"></span>Resurs operation <span style="background:#5cb85c"></span>HTTP attempt <span style="background:#d9534f"></span>failed attempt</div>
    <div class="axis"><div class="name"></div><div class="lane" style="height:16px;border:0">${ticks.map((t) => `<div class="tick" style="left:${(t / total) * 100}%">${t} ms</div>`).join('')}</div></div>
    ${body}
  </div></body></html>`;
}

async function main(): Promise<void> {
  delete process.env.DEMO_OTEL; // this script registers its own SDK
  const exporter = new InMemorySpanExporter();
  new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).register();
  await runPurchase(exporter);
  const spans = exporter.getFinishedSpans();
  const { spanLine } = require('./telemetry') as typeof Telemetry;
  for (const span of [...spans].sort((a, b) => ms(a.startTime) - ms(b.startTime))) console.log(spanLine(span));

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
    await page.setContent(render(spans));
    mkdirSync(path.dirname(OUT), { recursive: true });
    await page.locator('#chart').screenshot({ path: OUT });
  } finally {
    await browser.close();
  }
  console.log(`wrote ${path.relative(process.cwd(), OUT)} (${spans.length} spans)`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`trace-picture: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  },
);
