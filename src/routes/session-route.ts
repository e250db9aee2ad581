/**
 * `POST {path}`: a checkout session. Request check → campaign rule → reuse → Resurs "create
 * session" → 201. Built once; the handler only does what depends on the request.
 */
import type { Request, RequestHandler } from 'express';
import type { ResolvedRouterOptions } from '../options/options';
import type { Logger } from '../logger';
import { errorName } from '../logger';
import { toCheckoutError } from '../problem';
import type { ResursClient } from '../resurs/client';
import type { CheckoutSession } from '../resurs/session';
import { isLoopbackHost } from '../net';
import { checkSession } from '../resurs/session';
import { createSessionReuse } from '../reuse/session-reuse';
import { compileCampaignRule } from '../rules/campaigns';
import { parseSessionRequest } from '../rules/session-request';
import { MemorySessionStore } from '../store/memory-store';
import { noteSession } from '../telemetry/route';
import type { Fail } from './exchange';
import { callHook, exchangeOf } from './exchange';
import { runMerchantCode } from './merchant-code';
import { sendSession } from './respond';

/** What the storefront sends, for problem details. */
export const SESSION_BODY = { shape: '{} or {"campaign": "<name>"}', limitBytes: 1024 } as const;

export function createSessionHandler(settings: ResolvedRouterOptions, resurs: ResursClient, fail: Fail): RequestHandler {
  const checkCampaign = compileCampaignRule<Request>(settings.campaigns);
  const sessionRules = {
    baseUrlIsLoopback: isLoopbackHost(new URL(settings.baseUrl).hostname),
    allowedScriptOrigins: settings.allowedScriptOrigins,
  };
  const reuse = settings.reuse && {
    key: settings.reuse.key,
    sessions: createSessionReuse({
      store: settings.reuse.store ?? new MemorySessionStore(),
      marginSeconds: settings.reuse.marginSeconds,
      namespace: `${settings.baseUrl}/stores/${settings.storeId}`,
      // A creating instance is done within its deadline; a lock older than that is a crashed one's.
      lockTtlMs: settings.deadlineMs + 1000,
      logger: settings.logger,
      // A stored session is served only if this router would accept it from Resurs itself.
      check: (stored: unknown) => checkSession(stored, sessionRules),
    }),
  };

  return async function createSession(req, res) {
    const exchange = exchangeOf(res);
    // Listen before any await: a shopper who leaves during the campaign rule costs no Resurs call.
    const gone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) gone.abort(new Error('the storefront closed the request'));
    };
    res.on('close', onClose);
    try {
      const input = parseSessionRequest(req.body); // {} or {campaign}: the client's input as is
      const { campaign } = input;
      exchange.campaign = campaign;
      if (campaign !== undefined) await runMerchantCode('campaigns', () => checkCampaign(campaign, req));
      if (gone.signal.aborted) return;

      let session: CheckoutSession;
      let reused = false;
      const key = reuse && reuseKey(reuse.key, req, campaign, exchange.log);
      if (reuse && key !== undefined) {
        let created = false;
        // Shared by every request with this key: not tied to one storefront connection.
        session = await reuse.sessions.get(
          key,
          campaign,
          () => {
            created = true;
            return resurs.createSession(input, { requestId: exchange.requestId });
          },
          exchange.log,
          // This shopper waits no longer than its own budget, and stops waiting when it leaves.
          { signal: gone.signal, budgetMs: settings.deadlineMs - (Date.now() - exchange.startedAt) },
        );
        reused = !created;
      } else {
        session = await resurs.createSession(input, { requestId: exchange.requestId, signal: gone.signal });
      }
      if (gone.signal.aborted) return;

      const durationMs = Date.now() - exchange.startedAt;
      noteSession(exchange.telemetry, reused);
      exchange.log.info({ status: 201, campaign, reused, durationMs }, 'Checkout session created.');
      callHook(exchange.log, 'onSessionCreated', () =>
        settings.onSessionCreated?.({ session, campaign, requestId: exchange.requestId, reused, durationMs }),
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
