/**
 * `npm start`: the demo shop on http://127.0.0.1:3000 (PORT overrides; a busy port falls back to
 * a free one), talking to the local Resurs stand-in on 127.0.0.1:4011 (or a free port), or, when
 * RESURS_* variables are set, to Resurs itself through `optionsFromEnv(process.env)`.
 * DEMO_SCRIPT_ORIGINS (comma-separated) sets the script origins allowed in the CSP for real Resurs.
 * Stops cleanly on SIGINT / SIGTERM.
 */
import { optionsFromEnv, RESURS_MOCK_BASE_URL, ConfigError } from 'express-resurs-checkout';
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

async function startLocalStandIn(): Promise<StandIn> {
  try {
    return await startStandIn({ port: STAND_IN_PORT });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    return startStandIn({ port: 0 });
  }
}

function shopPort(env: NodeJS.ProcessEnv): number {
  if (env.PORT === undefined || env.PORT === '') return DEFAULT_SHOP_PORT;
  const port = Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return port;
}

async function main(): Promise<void> {
  let standIn: StandIn | undefined;
  let options: DemoShopOptions;
  if (usesRealResurs(process.env)) {
    const fromEnv = optionsFromEnv(process.env);
    options = {
      storeId: fromEnv.storeId,
      baseUrl: fromEnv.baseUrl ?? RESURS_MOCK_BASE_URL,
      auth: fromEnv.auth,
      campaigns: fromEnv.campaigns ?? DEMO_CAMPAIGNS,
      scriptOrigins: list(process.env.DEMO_SCRIPT_ORIGINS) ?? [RESURS_SCRIPT_ORIGIN],
      logger: consoleLogger,
    };
  } else {
    standIn = await startLocalStandIn();
    options = {
      baseUrl: standIn.baseUrl,
      auth: { clientId: DEMO_CLIENT_ID, clientSecret: DEMO_CLIENT_SECRET, tokenUrl: standIn.tokenUrl, scope: 'mock-merchant-api' },
      logger: consoleLogger,
    };
  }

  let shop: RunningShop;
  try {
    shop = await listenShop(createDemoShop(options), { port: shopPort(process.env), fallbackToRandomPort: true });
  } catch (error) {
    await standIn?.close();
    throw error;
  }

  console.log(standIn ? `Resurs stand-in:  ${standIn.url} (client credentials "${DEMO_CLIENT_ID}")` : 'Resurs:           from RESURS_* environment variables');
  console.log(`Resurs base URL:  ${options.baseUrl}`);
  console.log(`Demo shop:        ${shop.url}/`);
  console.log('Press Ctrl+C to stop.');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the demo shop${standIn ? ' and the stand-in' : ''}.`);
    Promise.all([shop.close(), standIn?.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`Demo configuration problem:\n${error.message}`);
  else console.error(`Demo failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
