/**
 * The demo shop: an Express app that serves a small storefront and mounts the checkout router
 * with one `app.use()`, exactly as the README tells a merchant to.
 */
import path from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Express } from 'express';
import { createCheckoutRouter } from 'express-resurs-checkout';
import type { AuthOptions, CampaignRule, CheckoutRouterOptions, Logger } from 'express-resurs-checkout';
import { DEMO_CAMPAIGNS } from './campaigns';
import { buildContentSecurityPolicy, originOf } from './csp';

/** Store id the demo uses against the stand-in. */
export const DEMO_STORE_ID = 'demo-store';

const PUBLIC_DIR = path.join(__dirname, 'public');

/** Router options the demo passes through untouched (timeouts, retries, hooks, ...). */
export type ExtraRouterOptions = Omit<CheckoutRouterOptions, 'storeId' | 'baseUrl' | 'auth' | 'campaigns' | 'logger' | 'allowedScriptOrigins'>;

export interface DemoShopOptions {
  /** Resurs API base URL (the stand-in's `baseUrl`, or Resurs' own). */
  baseUrl: string;
  /** How the router gets its merchant JWT. */
  auth: AuthOptions;
  /** Default `DEMO_STORE_ID`. */
  storeId?: string;
  /** Default `DEMO_CAMPAIGNS` (time windows). */
  campaigns?: CampaignRule;
  /**
   * Origins `embed.src` may come from: allowed in the CSP's `script-src` and passed to the router
   * as `allowedScriptOrigins`, so the two always agree. Default: the origin of `baseUrl`.
   */
  scriptOrigins?: string[];
  /** Replace the Content-Security-Policy header (default: built by `buildContentSecurityPolicy`). */
  contentSecurityPolicy?: string;
  logger?: Logger;
  /** Further router options. */
  router?: ExtraRouterOptions;
}

/** What `GET /demo/config` answers: where the shop sends its checkout requests. */
export interface DemoConfig {
  baseUrl: string;
  scriptOrigins: string[];
  /** True when `baseUrl` is the local stand-in (a loopback host). */
  standIn: boolean;
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Builds the demo shop's Express app (not listening). */
export function createDemoShop(options: DemoShopOptions): Express {
  const scriptOrigins = (options.scriptOrigins ?? [options.baseUrl]).map(originOf);
  const csp =
    options.contentSecurityPolicy ??
    buildContentSecurityPolicy({ scriptOrigins, connectOrigins: [options.baseUrl, ...scriptOrigins] });
  const config: DemoConfig = { baseUrl: options.baseUrl, scriptOrigins, standIn: isLoopback(options.baseUrl) };

  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    next();
  });

  // The one line a merchant adds:
  app.use(
    createCheckoutRouter({
      storeId: options.storeId ?? DEMO_STORE_ID,
      baseUrl: options.baseUrl,
      auth: options.auth,
      campaigns: options.campaigns ?? DEMO_CAMPAIGNS,
      allowedScriptOrigins: scriptOrigins,
      ...(options.logger ? { logger: options.logger } : {}),
      ...options.router,
    }),
  );

  app.get('/demo/config', (_req, res) => {
    res.set('Cache-Control', 'no-store').json(config);
  });
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));
  return app;
}

/** A listening demo shop. */
export interface RunningShop {
  /** `http://127.0.0.1:PORT` */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (default 127.0.0.1 and a random port). With `fallbackToRandomPort`, a
 * busy port is replaced by a free one instead of failing.
 */
export async function listenShop(
  app: Express,
  { host = '127.0.0.1', port = 0, fallbackToRandomPort = false }: { host?: string; port?: number; fallbackToRandomPort?: boolean } = {},
): Promise<RunningShop> {
  const server = await new Promise<Server>((resolve, reject) => {
    const attempt = (p: number): void => {
      const candidate = app.listen(p, host);
      candidate.once('listening', () => resolve(candidate));
      candidate.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE' && fallbackToRandomPort && p !== 0) attempt(0);
        else reject(error);
      });
    };
    attempt(port);
  });
  const { port: actual } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${actual}`,
    server,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
