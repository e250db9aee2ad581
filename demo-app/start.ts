/**
 * `npm start`: the demo shop on http://127.0.0.1:3000 (PORT overrides; a busy port falls back to
 * a free one), talking to the local Resurs stand-in on 127.0.0.1:4011 (or a free port), or, when
 * RESURS_* variables are set, to Resurs itself through `optionsFromEnv(process.env)`.
 * DEMO_SCRIPT_ORIGINS (comma-separated) sets the script origins allowed in the CSP for real Resurs.
 * Stops cleanly on SIGINT / SIGTERM.
 *
 * Payments: the shop's port is bound first, then the app is built, because the router needs the
 * shop's own URL as a string at createCheckoutRouter time (redirect URLs and `callbackBaseUrl`).
 * - With the stand-in: Merchant API at the stand-in's `merchantApiUrl`, callbacks to the shop's
 *   own loopback URL (http://127.0.0.1:PORT; http is allowed on loopback only).
 * - With real Resurs: RESURS_MERCHANT_API_URL / RESURS_ENVIRONMENT are read by optionsFromEnv, and
 *   DEMO_PUBLIC_URL must be the shop's public https origin (Resurs sends the shopper back there
 *   and POSTs its callbacks to it, e.g. a tunnel to this machine). Without DEMO_PUBLIC_URL the
 *   shop shows the payment methods but takes no payment.
 * The callback secret is random per start (crypto.randomBytes(32)): callback URLs signed by an
 * earlier run are refused, which suits a demo that forgets its orders on restart anyway.
 */
import './telemetry'; // DEMO_OTEL=1: a real OpenTelemetry SDK, registered before the router is made
import { randomBytes } from 'node:crypto';
import { optionsFromEnv, RESURS_ENVIRONMENTS, ConfigError } from 'express-resurs-checkout';
import type { Logger } from 'express-resurs-checkout';
import { startStandIn, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET } from './resurs-stand-in';
import type { StandIn } from './resurs-stand-in';
import { createDemoShop, listenShop } from './shop/server';
import type { DemoShopOptions, RunningShop } from './shop/server';
import { DEMO_CAMPAIGNS } from './shop/campaigns';

const STAND_IN_PORT = 4011;
const DEFAULT_SHOP_PORT = 3000;
/** Origin of `embed.src` in Resurs' documentation; override with DEMO_SCRIPT_ORIGINS. */
const RESURS_SCRIPT_ORIGIN = 'https://static.checkout.dev.resurs.cloud';

const consoleLogger: Logger = {
  debug: () => undefined,
  info: (fields, message) => console.log(`[checkout] ${message}`, JSON.stringify(fields)),
  warn: (fields, message) => console.warn(`[checkout] WARN ${message}`, JSON.stringify(fields)),
  error: (fields, message) => console.error(`[checkout] ERROR ${message}`, JSON.stringify(fields)),
};

function usesRealResurs(env: NodeJS.ProcessEnv): boolean {
  return Object.keys(env).some((name) => name.startsWith('RESURS_') && (env[name] ?? '').trim() !== '');
}

function list(value: string | undefined): string[] | undefined {
  const items = value?.split(',').map((s) => s.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

async function startLocalStandIn(port: number): Promise<StandIn> {
  try {
    return await startStandIn({ port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw error;
    return startStandIn({ port: 0 });
  }
}

function shopPort(env: NodeJS.ProcessEnv): number {
  if (env.PORT === undefined || env.PORT === '') return DEFAULT_SHOP_PORT;
  const port = Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return port;
}

/** What `startDemo` takes; `npm start` uses the defaults. */
export interface StartDemoOptions {
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The stand-in's port; default 4011 (a free one when taken); 0 for a random one. */
  standInPort?: number;
  /** Default: one console line per router log entry. */
  logger?: Logger;
}

/** A running demo: the shop, and the stand-in when not talking to Resurs. */
export interface RunningDemo {
  shop: RunningShop;
  standIn: StandIn | undefined;
  /** The shop's options (without its URL-dependent payments part). */
  options: DemoShopOptions;
  /** True when the shop takes payments. */
  payments: boolean;
  close(): Promise<void>;
}

/** Starts what `npm start` starts (the browser suite drives exactly this set-up). */
export async function startDemo({ env = process.env, standInPort = STAND_IN_PORT, logger = consoleLogger }: StartDemoOptions = {}): Promise<RunningDemo> {
  let standIn: StandIn | undefined;
  let options: DemoShopOptions;
  /** The shop's public URL for redirects and callbacks; undefined = the URL it listens on. */
  let publicUrl: string | undefined;
  let payments = true;
  const callbackSecret = randomBytes(32).toString('hex');
  if (usesRealResurs(env)) {
    const fromEnv = optionsFromEnv(env);
    const column = RESURS_ENVIRONMENTS[fromEnv.environment ?? 'test'];
    options = {
      storeId: fromEnv.storeId,
      baseUrl: fromEnv.baseUrl ?? column.baseUrl,
      merchantApiUrl: fromEnv.merchantApiUrl ?? column.merchantApiUrl,
      ...(fromEnv.environment ? { environment: fromEnv.environment } : {}),
      auth: fromEnv.auth,
      campaigns: fromEnv.campaigns ?? DEMO_CAMPAIGNS,
      scriptOrigins: list(env.DEMO_SCRIPT_ORIGINS) ?? [RESURS_SCRIPT_ORIGIN],
      logger,
    };
    publicUrl = env.DEMO_PUBLIC_URL?.trim() || undefined;
    payments = publicUrl !== undefined;
  } else {
    standIn = await startLocalStandIn(standInPort);
    options = {
      baseUrl: standIn.baseUrl,
      merchantApiUrl: standIn.merchantApiUrl,
      auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: standIn.tokenUrl, scope: 'mock-merchant-api' },
      logger,
    };
  }

  let shop: RunningShop;
  try {
    // Bind the port first: the router needs the shop's own URL when it is created.
    shop = await listenShop(
      (url: string) => createDemoShop({ ...options, ...(payments ? { payments: { publicUrl: publicUrl ?? url, callbackSecret } } : {}) }),
      { port: shopPort(env), fallbackToRandomPort: true },
    );
  } catch (error) {
    await standIn?.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    shop,
    standIn,
    options,
    payments,
    close: () => {
      closing ??= Promise.all([shop.close(), standIn?.close()]).then(() => undefined);
      return closing;
    },
  };
}

async function main(): Promise<void> {
  const demo = await startDemo();
  const { shop, standIn, options } = demo;

  console.log(standIn ? `Resurs stand-in:  ${standIn.url} (client credentials "${DEMO_CLIENT_ID}")` : 'Resurs:           from RESURS_* environment variables');
  console.log(`Resurs base URL:  ${options.baseUrl}`);
  console.log(`Merchant API:     ${options.merchantApiUrl ?? '(from RESURS_ENVIRONMENT)'}`);
  console.log(`Payments:         ${demo.payments ? 'on' : 'off (set DEMO_PUBLIC_URL to the shop\'s public https origin)'}`);
  console.log(`Demo shop:        ${shop.url}/`);
  console.log('Press Ctrl+C to stop.');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the demo shop${standIn ? ' and the stand-in' : ''}.`);
    demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof ConfigError) console.error(`Demo configuration problem:\n${error.message}`);
    else console.error(`Demo failed to start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
