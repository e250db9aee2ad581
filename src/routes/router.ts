/**
 * `createCheckoutRouter`: the only part that knows Express. It mounts the session route, and with
 * `payments` the payment route and the two callback routes, each as a line of named stages.
 * Everything that can be built once is built here, when the factory is called.
 */
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { createFactMarks } from '../callbacks/exactly-once';
import { compileIpAllowList } from '../callbacks/ip-allow-list';
import { createCallbackSigner } from '../callbacks/signature';
import { usesTestEnvironment } from '../options/environments';
import type { CheckoutRouterOptions, ResolvedPaymentsOptions, ResolvedRouterOptions } from '../options/options';
import { resolveRouterOptions } from '../options/options';
import { toCheckoutError } from '../problem';
import { buildUpstream } from '../resurs/client';
import type { StoreCalls } from '../resurs/client';
import { MemorySessionStore } from '../store/memory-store';
import { canLock } from '../store/lock';
import { CALLBACK_BODY, callbackIpGate, createCallbackHandler } from './callback-route';
import { createBegin, createFail, hasExchange, inRouteContext } from './exchange';
import type { Fail } from './exchange';
import { bodyError, jsonOnly, limitReadBody, logOf, onlyPost, parseJsonBody, sameSiteOnly } from './guards';
import type { BodyRules } from './guards';
import { PAYMENT_BODY, createPaymentHandler, paymentPartsFor } from './payment-route';
import { createRateLimit } from './rate-limit';
import { SESSION_BODY, createSessionHandler, sessionPartsFor } from './session-route';
import { inSequence } from './stages';
import { buildStores } from './stores';
import type { RouteName } from '../telemetry/route';
import type { Transport } from '../transport/transport';

export { BODY_LIMIT_BYTES } from './guards';

/** The router `createCheckoutRouter` returns. */
export interface CheckoutRouter extends Router {
  /**
   * Fetches the Resurs token now (client credentials), so the first shopper does not wait for it.
   * Rejects with ResursCheckoutError when Resurs refuses, so a deploy can fail fast.
   */
  warmUp(): Promise<void>;
  /** Stops the background token refresh (graceful shutdown, tests). */
  close(): void;
}

/**
 * Creates the router. Validates `options` at once and throws ConfigError listing every problem.
 *
 * ```ts
 * app.use(createCheckoutRouter({ storeId: process.env.RESURS_STORE_ID!, auth: { token: process.env.RESURS_TOKEN! } }));
 * ```
 */
export function createCheckoutRouter(options: CheckoutRouterOptions): CheckoutRouter {
  const settings = resolveRouterOptions(options);
  const upstream = buildUpstream(settings);
  // One token source and transport for all stores; each store's calls built once.
  const calls = new Map<string, StoreCalls>(settings.stores.map((id) => [id, upstream.store(id)]));
  const callsOf = (id: string) => calls.get(id)!;
  warnIfTestInProduction(settings);
  const fail = createFail(settings.onError);
  const rateLimit = settings.rateLimit && createRateLimit(settings.rateLimit, { logger: settings.logger, logOf, fail });
  const sameSite = sameSiteOnly(fail, settings.crossSiteOrigins);
  const router = express.Router() as CheckoutRouter;

  /**
   * One route: request id, POST only, (for the storefront's routes: same site, rate limit,) JSON
   * only, body limit, parser, handler; and its error stage. `route` names it in traces and metrics.
   */
  const mount = (path: string, route: RouteName, body: BodyRules, handler: RequestHandler, storefront: boolean, gates: RequestHandler[] = []): void => {
    // Gates (the callbacks' IP allow-list) come before the body is read: a refused caller gets 403, not 415 or 413.
    const stages: RequestHandler[] = [createBegin(settings.logger, route, path), onlyPost(fail), ...gates];
    if (storefront) stages.push(sameSite);
    if (storefront && rateLimit) stages.push(rateLimit);
    stages.push(jsonOnly(fail, body), limitReadBody(fail, body, settings.logger), parseJsonBody(body), inRouteContext(handler));
    router.all(path, inSequence(stages));
    // Errors on our path only: a body-parser error, or a bug. Nothing else of the app's passes here.
    router.use(path, (error: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (!hasExchange(res)) return next(error);
      const mapped = typeof error === 'object' && error !== null ? bodyError(error, body) : undefined;
      fail(res, mapped ?? toCheckoutError(error), error);
    });
  };

  const sessionParts = sessionPartsFor(settings);
  mount(settings.path, 'session', SESSION_BODY, createSessionHandler(settings, buildStores(settings, (id) => sessionParts(callsOf(id))), fail), true);
  if (settings.payments) mountPayments(settings, settings.payments, callsOf, upstream.transport, fail, mount);

  router.warmUp = () => upstream.warmUp();
  router.close = () => upstream.close();
  return router;
}

function mountPayments(
  settings: ResolvedRouterOptions,
  payments: ResolvedPaymentsOptions,
  callsOf: (storeId: string) => StoreCalls,
  transport: Transport,
  fail: Fail,
  mount: (path: string, route: RouteName, body: BodyRules, handler: RequestHandler, storefront: boolean, gates?: RequestHandler[]) => void,
): void {
  // Checked with the options: a payments store (or the reuse store it defaults to) has add.
  const store = payments.store ?? (settings.reuse?.store && canLock(settings.reuse.store) ? settings.reuse.store : new MemorySessionStore({ maxEntries: 100_000 }));
  if (!canLock(store)) throw new TypeError('payments.store must have add');
  const paymentParts = paymentPartsFor(settings, payments, store);
  const paymentStores = buildStores(settings, (id) => paymentParts(callsOf(id)));
  const signer = createCallbackSigner(payments.callbackSecret, `${payments.callbackBaseUrl}${payments.callbackPath}`, paymentStores.several);
  mount(payments.path, 'payment', PAYMENT_BODY, createPaymentHandler({ settings, payments, stores: paymentStores, transport, signer, fail }), true);
  // Marks are kept per store, like the payments: one shared store, a namespace each.
  const callbackStores = buildStores(settings, (id) => ({
    operations: callsOf(id).payments,
    marks: createFactMarks(store, `${settings.merchantApiUrl}/stores/${id}`),
  }));
  const allowIp = compileIpAllowList(payments.callbackIps);
  for (const kind of ['authorization', 'management'] as const) {
    mount(
      `${payments.callbackPath}/${kind}`,
      `callback.${kind}`,
      CALLBACK_BODY,
      createCallbackHandler({ kind, payments, stores: callbackStores, signer, allowIp, fail }),
      false,
      payments.callbackIps ? [callbackIpGate(allowIp, kind, fail)] : [],
    );
  }
}

/** One warning at start-up (never per request) when production code still talks to Resurs' test column. */
function warnIfTestInProduction(settings: ResolvedRouterOptions): void {
  if (process.env.NODE_ENV !== 'production') return;
  const tokenUrl = 'tokenUrl' in settings.auth ? settings.auth.tokenUrl : undefined;
  if (!usesTestEnvironment({ baseUrl: settings.baseUrl, merchantApiUrl: settings.merchantApiUrl, tokenUrl })) return;
  settings.logger.warn(
    { environment: settings.environment },
    "NODE_ENV is production, but the checkout router talks to Resurs' test environment: set environment: 'production' (or RESURS_ENVIRONMENT=production) when you go live.",
  );
}
