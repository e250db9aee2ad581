/**
 * The request stages every storefront route shares: POST only, JSON only (UTF-8), the body limit
 * (also behind a shop-wide parser), and the body parser's errors as the contract's answers.
 * Each is built once, per route, when the router is made.
 */
import express from 'express';
import type { Request, RequestHandler } from 'express';
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { readJsonBody } from './body-reader';
import { hasBody, isJsonMediaType, isUtf8 } from './content-type';
import type { Fail } from './exchange';
import { exchangeOf } from './exchange';

/** The largest body the storefront routes read. */
export const BODY_LIMIT_BYTES = 1024;

/** What the route takes, for the problem details: e.g. `{} or {"campaign": "<name>"}`. */
export interface BodyRules {
  /** Shown in every body problem, e.g. `{"paymentMethodId": "<id>"}`. */
  shape: string;
  limitBytes: number;
}

/** 405 for anything but POST (with `Allow: POST`). */
export function onlyPost(fail: Fail): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'POST') return next();
    fail(res, new ResursCheckoutError('method_not_allowed', `${req.method} is not allowed here; use POST.`));
  };
}

/**
 * 403 for a browser request marked `Sec-Fetch-Site: cross-site` whose `Origin` is not listed:
 * another site's page cannot spend the shop's Resurs quota or start a payment. Requests without
 * the header (older browsers, server-side callers) go on to the other rules.
 */
export function sameSiteOnly(fail: Fail, allowedOrigins: readonly string[] | undefined): RequestHandler {
  const allowed = new Set(allowedOrigins ?? []);
  return (req, res, next) => {
    if (req.headers['sec-fetch-site'] !== 'cross-site') return next();
    const origin = req.headers.origin;
    if (typeof origin === 'string' && allowed.has(origin)) return next();
    fail(
      res,
      new ResursCheckoutError('cross_site_request', 'This checkout only answers the shop\'s own pages. (Shop owner: list other sites of yours in crossSiteOrigins.)'),
    );
  };
}

/**
 * 415 unless the body is UTF-8 JSON. No Content-Type is allowed only for an empty body (a chunked
 * one is read, and refused if it holds anything).
 */
export function jsonOnly(fail: Fail, rules: BodyRules): RequestHandler {
  const refuse = () => new ResursCheckoutError('unsupported_media_type', `Send Content-Type: application/json with ${rules.shape}, or no body at all.`);
  return (req, res, next) => {
    const contentType = req.headers['content-type'];
    if (contentType === undefined) return hasBody(req.headers) && req.headers['transfer-encoding'] === undefined ? fail(res, refuse()) : next();
    if (!isJsonMediaType(contentType)) return fail(res, refuse());
    if (!isUtf8(contentType)) return fail(res, new ResursCheckoutError('unsupported_media_type', `Send the body as UTF-8 JSON: ${rules.shape}.`));
    next();
  };
}

/** The body parser, and the check that a body sent without Content-Type is empty. */
export function parseJsonBody(rules: BodyRules): RequestHandler {
  const check = (req: Request, buffer: Buffer): void => {
    if (buffer.length > 0 && req.headers['content-type'] === undefined) {
      throw Object.assign(new Error('a body without Content-Type'), { status: 415, type: 'media.unsupported' });
    }
  };
  const fallback = express.json({ limit: rules.limitBytes, strict: true, type: () => true, verify: (req: Request, _res, buffer: Buffer) => check(req, buffer) });
  return readJsonBody(rules.limitBytes, fallback, check);
}

/**
 * A shop-wide parser (`app.use(express.json())`) may have read the body already: its wire size is
 * gone. What can still be judged is: the announced length, and the size of what was parsed.
 * The first such request logs, once, that the shop's parser runs first.
 */
export function limitReadBody(fail: Fail, rules: BodyRules, logger: Logger): RequestHandler {
  let warned = false;
  return (req, res, next) => {
    if (!req.readableEnded || !hasBody(req.headers)) return next();
    if (!warned) {
      warned = true;
      logger.warn(
        { limitBytes: rules.limitBytes },
        "A body parser ran before the checkout router (e.g. app.use(express.json())): its limits apply to this route, not the router's own; the router judges only the announced length and the parsed size. Mount the router before the shop's parser.",
      );
    }
    const announced = Number(req.headers['content-length']);
    const parsed = Buffer.byteLength(JSON.stringify(req.body) ?? '');
    if (Math.max(Number.isFinite(announced) ? announced : 0, parsed) <= rules.limitBytes) return next();
    fail(res, new ResursCheckoutError('payload_too_large', `The body is larger than ${rules.limitBytes} bytes; send ${rules.shape}.`));
  };
}

/** Body-parser's error types, as the contract's answers; undefined for anything else. */
export function bodyError(error: { type?: unknown; status?: unknown }, rules: BodyRules): ResursCheckoutError | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new ResursCheckoutError('payload_too_large', `The body is larger than ${rules.limitBytes} bytes; send ${rules.shape}.`);
    case 'entity.parse.failed':
      return new ResursCheckoutError('invalid_request', `The body is not valid JSON; send ${rules.shape}.`, {
        errors: [{ path: '', message: 'malformed JSON' }],
      });
    case 'media.unsupported':
      return new ResursCheckoutError('unsupported_media_type', `Send Content-Type: application/json with ${rules.shape}, or no body at all.`);
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

/** The request's logger, for stages that only have `res`. */
export const logOf = (res: Parameters<typeof exchangeOf>[0]): Logger => exchangeOf(res).log;
