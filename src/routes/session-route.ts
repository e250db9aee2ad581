/**
 * `POST {path}`: a checkout session. Request check → campaign rule → reuse → Resurs "create
 * session" → 201. Built once; the handler only does what depends on the request.
 */
import type { Request, RequestHandler } from 'express';
import type { ResolvedRouterOptions } from '../options/options';
import type { Logger } from '../logger';
import { errorName } from '../logger';
import { toCheckoutError } from '../problem';
import type { StoreCalls } from '../resurs/client';
import type { CheckoutSession } from '../resurs/session';
import { isLoopbackHost } from '../net';
import { checkSession } from '../resurs/session';
import { Stop } from '../resilience/stop';
import { createSessionReuse } from '../reuse/session-reuse';
import type { SessionReuse } from '../reuse/session-reuse';
import { compileCampaignRule } from '../rules/campaigns';
import { parseSessionRequest } from '../rules/session-request';
import { MemorySessionStore } from '../store/memory-store';
import { noteSession } from '../telemetry/route';
import type { Fail } from './exchange';
import { callHook, exchangeOf } from './exchange';
import { runMerchantCode } from './merchant-code';
import { sendSession } from './respond';
import type { Stores } from './stores';

/** What the storefront sends, for problem details. */
export const SESSION_BODY = { shape: '{} or {"campaign": "<name>"}', limitBytes: 1024 } as const;

/** What the session route needs of each store: its calls and, with reuse, its reused sessions. */
export interface SessionStoreParts {
  calls: StoreCalls;
  reused: SessionReuse | undefined;
}

/** Builds a store's session parts: reuse is kept per store (one shared reuse store, a namespace each). */
export function sessionPartsFor(settings: ResolvedRouterOptions): (calls: StoreCalls) => SessionStoreParts {
  const sessionRules = {
    baseUrlIsLoopback: isLoopbackHost(new URL(settings.baseUrl).hostname),
    allowedScriptOrigins: settings.allowedScriptOrigins,
  };
  const reuseStore = settings.reuse && (settings.reuse.store ?? new MemorySessionStore());
  return (calls) => ({
    calls,
    reused:
      settings.reuse &&
      createSessionReuse({
        store: reuseStore!,
        marginSeconds: settings.reuse.marginSeconds,
        namespace: `${settings.baseUrl}/stores/${calls.storeId}`,
        // A creating instance is done within its deadline; a lock older than that is a crashed one's.
        lockTtlMs: settings.deadlineMs + 1000,
        logger: settings.logger,
        // A stored session is served only if this router would accept it from Resurs itself.
        check: (stored: unknown) => checkSession(stored, sessionRules),
      }),
  });
}

export function createSessionHandler(settings: ResolvedRouterOptions, stores: Stores<SessionStoreParts>, fail: Fail): RequestHandler {
  const checkCampaign = compileCampaignRule<Request>(settings.campaigns);
  const reuseKeyOf = settings.reuse?.key;

  return async function createSession(req, res) {
    const exchange = exchangeOf(res);
    // Listen before any await: a shopper who leaves during the campaign rule costs no Resurs call.
    const gone = new Stop();
    const onClose = () => {
      if (!res.writableFinished) gone.abort(new Error('the storefront closed the request'));
    };
    res.on('close', onClose);
    try {
      const input = parseSessionRequest(req.body); // {} or {campaign}: the client's input as is
      const { campaign } = input;
      exchange.campaign = campaign;
      const store = stores.of(req);
      exchange.storeId = store.id;
      const { calls, reused: reuse } = store.parts;
      if (campaign !== undefined) await runMerchantCode('campaigns', () => checkCampaign(campaign, req));
      if (gone.aborted) return;

      let session: CheckoutSession;
      let reused = false;
      const key = reuse && reuseKeyOf && reuseKey(reuseKeyOf, req, campaign, exchange.log);
      if (reuse && key !== undefined) {
        let created = false;
        // Shared by every request with this key: not tied to one storefront connection.
        session = await reuse.get(
          key,
          campaign,
          () => {
            created = true;
            return calls.createSession(input, { requestId: exchange.requestId });
          },
          exchange.log,
          // This shopper waits no longer than its own budget, and stops waiting when it leaves.
          { signal: gone, budgetMs: settings.deadlineMs - (Date.now() - exchange.startedAt) },
        );
        reused = !created;
      } else {
        session = await calls.createSession(input, { requestId: exchange.requestId, signal: gone });
      }
      if (gone.aborted) return;

      const durationMs = Date.now() - exchange.startedAt;
      noteSession(exchange.telemetry, reused);
      exchange.log.info({ status: 201, campaign, storeId: store.id, reused, durationMs }, 'Checkout session created.');
      callHook(exchange.log, 'onSessionCreated', () =>
        settings.onSessionCreated?.({ session, campaign, requestId: exchange.requestId, reused, storeId: store.id, durationMs }),
      );
      sendSession(res, session);
    } catch (error) {
      if (res.destroyed || res.writableEnded) return; // the storefront went away; nobody to answer
      fail(res, toCheckoutError(error), error);
    } finally {
      res.off('close', onClose);
    }
  };
}

function reuseKey(
  key: (req: Request, campaign: string | undefined) => string | undefined,
  req: Request,
  campaign: string | undefined,
  log: Logger,
): string | undefined {
  try {
    const value = key(req, campaign);
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  } catch (error) {
    log.warn({ errorName: errorName(error) }, 'reuse.key threw; this request does not reuse a session.');
    return undefined;
  }
}
