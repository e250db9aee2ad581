/**
 * `createCheckoutRouter`: the only part that knows Express. For `POST {path}` it gives the
 * request an id, guards the method, checks the media type and body, applies the campaign rule,
 * asks the Resurs client (through reuse when configured) and writes the answer.
 * Everything that can be built once is built here, when the factory is called.
 */
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { compileCampaignRule } from '../rules/campaigns';
import { hasBody, isJsonMediaType } from './content-type';
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { errorName, silentLogger, withFields } from '../logger';
import type { CheckoutRouterOptions, ResolvedRouterOptions } from '../options/options';
import { resolveRouterOptions } from '../options/options';
import { toCheckoutError } from '../problem';
import { createRateLimit } from './rate-limit';
import { requestIdFrom } from './request-id';
import { parseSessionRequest } from '../rules/session-request';
import { sendProblem, sendSession } from './respond';
import { buildResursClient } from '../resurs/client';
import type { ResursClient } from '../resurs/client';
import type { CheckoutSession } from '../resurs/session';
import { MemorySessionStore } from '../store/memory-store';
import { createSessionReuse } from '../reuse/session-reuse';

/** The largest body the endpoint reads. */
export const BODY_LIMIT_BYTES = 1024;

/** Per-request state, kept on `res.locals` under one key. */
interface Exchange {
  requestId: string;
  log: Logger;
  startedAt: number;
  campaign?: string;
}

const EXCHANGE = Symbol('express-resurs-checkout');

function exchangeOf(res: Response): Exchange {
  return (res.locals as Record<symbol, Exchange>)[EXCHANGE]!;
}

/** Body-parser's error types, as the contract's answers. */
function bodyError(error: { type?: unknown; status?: unknown }): ResursCheckoutError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new ResursCheckoutError('payload_too_large', `The body is larger than ${BODY_LIMIT_BYTES} bytes; send {} or {"campaign": "<name>"}.`);
    case 'entity.parse.failed':
      return new ResursCheckoutError('invalid_request', 'The body is not valid JSON; send {} or {"campaign": "<name>"}.', {
        errors: [{ path: '', message: 'malformed JSON' }],
      });
    case 'charset.unsupported':
    case 'encoding.unsupported':
      return new ResursCheckoutError('unsupported_media_type', 'Send the body as UTF-8 JSON without a content encoding.');
    case 'request.size.invalid':
    case 'request.aborted':
      return new ResursCheckoutError('invalid_request', 'The body was cut short or its length does not match Content-Length.');
    default:
      // A corrupt gzip/deflate/br body: body-parser passes zlib's error on with status 400 and no type.
      if (error.status === 400) {
        return new ResursCheckoutError('invalid_request', 'The body could not be decompressed; send plain UTF-8 JSON.');
      }
      return undefined;
  }
}

/**
 * Creates the router. Validates `options` at once and throws ConfigError listing every problem.
 *
 * ```ts
 * app.use(createCheckoutRouter({ storeId: process.env.RESURS_STORE_ID!, auth: { token: process.env.RESURS_TOKEN! } }));
 * ```
 */
export function createCheckoutRouter(options: CheckoutRouterOptions): Router {
  const settings = resolveRouterOptions(options);
  const client = buildResursClient(settings);
  const handler = createSessionHandler(settings, client);
  const router = express.Router();

  const begin: RequestHandler = (req, res, next) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const log = settings.logger === silentLogger ? silentLogger : withFields(settings.logger, { requestId });
    (res.locals as Record<symbol, Exchange>)[EXCHANGE] = { requestId, log, startedAt: Date.now() };
    res.set('X-Request-Id', requestId);
    next();
  };

  const onlyPost: RequestHandler = (req, res, next) => {
    if (req.method === 'POST') return next();
    fail(res, new ResursCheckoutError('method_not_allowed', `${req.method} is not allowed here; use POST.`));
  };

  const jsonOnly: RequestHandler = (req, res, next) => {
    const contentType = req.headers['content-type'];
    if (contentType === undefined ? !hasBody(req.headers) : isJsonMediaType(contentType)) return next();
    fail(res, new ResursCheckoutError('unsupported_media_type', 'Send Content-Type: application/json with {} or {"campaign": "<name>"}, or no body at all.'));
  };

  const parseBody = express.json({ limit: BODY_LIMIT_BYTES, strict: true, type: () => true });

  // A shop-wide parser (app.use(express.json())) may have read the body already: hold it to our limit all the same.
  const limitReadBody: RequestHandler = (req, res, next) => {
    if (!req.readableEnded || !hasBody(req.headers)) return next();
    const announced = Number(req.headers['content-length']);
    const size = Number.isFinite(announced) ? announced : Buffer.byteLength(JSON.stringify(req.body) ?? '');
    if (size <= BODY_LIMIT_BYTES) return next();
    fail(res, new ResursCheckoutError('payload_too_large', `The body is larger than ${BODY_LIMIT_BYTES} bytes; send {} or {"campaign": "<name>"}.`));
  };

  const stages: RequestHandler[] = [begin, onlyPost];
  if (settings.rateLimit) stages.push(createRateLimit(settings.rateLimit, { logger: settings.logger, logOf: (res) => exchangeOf(res).log, fail }));
  stages.push(jsonOnly, limitReadBody, parseBody, handler);

  router.all(settings.path, ...stages);
  // Errors on our path only: a body-parser error, or a bug. Nothing else of the app's passes here.
  router.use(settings.path, (error: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!(EXCHANGE in res.locals)) return next(error);
    const mapped = typeof error === 'object' && error !== null ? bodyError(error) : undefined;
    fail(res, mapped ?? toCheckoutError(error), error);
  });

  function fail(res: Response, error: ResursCheckoutError, cause?: unknown): void {
    const exchange = exchangeOf(res);
    const fields = { status: error.status, code: error.code, durationMs: Date.now() - exchange.startedAt };
    if (error.code === 'internal_error') {
      const bug = cause ?? error.cause;
      exchange.log.error(
        { ...fields, errorName: errorName(bug), stack: bug instanceof Error ? bug.stack : undefined },
        'express-resurs-checkout hit a bug; answered 500 without details.',
      );
    } else {
      (error.status >= 500 ? exchange.log.warn : exchange.log.info)(fields, `Answered ${error.status} ${error.code}.`);
    }
    callHook(exchange.log, 'onError', () => settings.onError?.({ error, campaign: exchange.campaign, requestId: exchange.requestId }));
    sendProblem(res, error, exchange.requestId);
  }

  function createSessionHandler(s: ResolvedRouterOptions, resurs: ResursClient): RequestHandler {
    const checkCampaign = compileCampaignRule<Request>(s.campaigns);
    const reuse = s.reuse && {
      key: s.reuse.key,
      sessions: createSessionReuse({
        store: s.reuse.store ?? new MemorySessionStore(),
        marginSeconds: s.reuse.marginSeconds,
        namespace: `${s.baseUrl}/stores/${s.storeId}`,
        // A creating instance is done within its deadline; a lock older than that is a crashed one's.
        lockTtlMs: s.deadlineMs + 1000,
        logger: s.logger,
      }),
    };

    return async (req, res) => {
      const exchange = exchangeOf(res);
      try {
        const input = parseSessionRequest(req.body); // {} or {campaign}: the client's input as is
        const { campaign } = input;
        exchange.campaign = campaign;
        if (campaign !== undefined) await checkCampaign(campaign, req);

        const gone = new AbortController();
        const onClose = () => {
          if (!res.writableFinished) gone.abort(new Error('the storefront closed the request'));
        };
        res.on('close', onClose);

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
          );
          reused = !created;
        } else {
          session = await resurs.createSession(input, { requestId: exchange.requestId, signal: gone.signal });
        }
        res.off('close', onClose);
        if (gone.signal.aborted) return;

        const durationMs = Date.now() - exchange.startedAt;
        exchange.log.info({ status: 201, campaign, reused, durationMs }, 'Checkout session created.');
        callHook(exchange.log, 'onSessionCreated', () =>
          s.onSessionCreated?.({ session, campaign, requestId: exchange.requestId, reused, durationMs }),
        );
        sendSession(res, session);
      } catch (error) {
        if (res.destroyed || res.writableEnded) return; // the storefront went away; nobody to answer
        fail(res, toCheckoutError(error), error);
      }
    };
  }

  return router;
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

function callHook(log: Logger, name: string, hook: () => void): void {
  try {
    hook();
  } catch (error) {
    log.warn({ hook: name, errorName: errorName(error) }, `The ${name} hook threw; the answer is unaffected.`);
  }
}
