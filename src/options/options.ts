/**
 * The options a merchant passes, their joi schemas, and their defaults.
 * Validated once, when a factory is called: every problem is listed in one ConfigError,
 * each saying what to change, and no value (which may be a secret) is ever echoed.
 */
import http from 'node:http';
import https from 'node:https';
import Joi from 'joi';
import jwt from 'jsonwebtoken';
import type { Dispatcher } from 'undici';
import type { Request } from 'express';
import type { Options as RateLimitLibraryOptions } from 'express-rate-limit';
import { ConfigError } from '../errors';
import type { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { silentLogger } from '../logger';
import type { CheckoutSession } from '../resurs/session';
import type { SessionStore } from '../store/session-store';
import { CAMPAIGN_PATTERN } from '../rules/session-request';
import { isLoopbackHost } from '../net';
import type { Customer, Order, Payment } from '../resurs/payment';
import { parseIsoInstant } from '../rules/iso-instant';
import { RESURS_ENVIRONMENTS, RESURS_MOCK_BASE_URL } from './environments';
import type { ResursEnvironment } from './environments';
import { rateLimitProblems } from './rate-limit-options';

export { RESURS_MOCK_BASE_URL };

/** A merchant JWT used as is. It cannot be refreshed: when it expires, requests answer 502. */
export interface StaticTokenAuth {
  /** The merchant JWT (checked to be a JWT at start-up; never logged). */
  token: string;
}

/** Resurs' OAuth2 client-credentials flow; tokens are cached and shared. */
export interface ClientCredentialsAuth {
  /** OAuth2 client id from Resurs. */
  clientId: string;
  /** OAuth2 client secret from Resurs (never logged). */
  clientSecret: string;
  /**
   * Token endpoint, e.g. `https://merchant-api.resurs.com/oauth2/token`. Optional with
   * `environment` (that column's token URL); required without it.
   */
  tokenUrl?: string;
  /** OAuth2 scope. Default `merchant-api` (`mock-merchant-api` for the mock). */
  scope?: string;
  /** Share tokens between instances (e.g. a `RedisSessionStore`). Default: this process only. */
  store?: SessionStore;
}

/** Your own token source, called per request and once more after a 401. */
export interface TokenFunctionAuth {
  /** Returns a merchant JWT. */
  getToken: () => string | Promise<string>;
}

/** How the router authenticates to Resurs. */
export type AuthOptions = StaticTokenAuth | ClientCredentialsAuth | TokenFunctionAuth;

/** A campaign's time window; either end may be left open. */
export interface CampaignWindow {
  /** The campaign is refused before this instant (`campaign_not_started`). */
  validFrom?: Date | string;
  /** The campaign is refused from this instant on (`campaign_expired`). */
  validUntil?: Date | string;
}

/** Decides whether the storefront may ask for `campaign`. */
export type CampaignPredicate = (campaign: string, req: Request) => boolean | Promise<boolean>;

/** The campaign rule: an allow-list, names with time windows, or a predicate. */
export type CampaignRule = readonly string[] | Readonly<Record<string, CampaignWindow>> | CampaignPredicate;

/** Circuit-breaker settings. */
export interface BreakerOptions {
  /** Consecutive failed attempts (connection error, timeout, 5xx, 429) that open the breaker. */
  failureThreshold: number;
  /** How long the open breaker answers 503 at once before one probe goes through. */
  resetAfterMs: number;
}

/** Session reuse: give a shopper back the session already made for them. */
export interface ReuseOptions {
  /** Who the session is for (a cart or shopper id); `undefined` (or a throw) means no reuse. */
  key: (req: Request, campaign: string | undefined) => string | undefined;
  /** Where sessions are kept. Default: a `MemorySessionStore` in this process. */
  store?: SessionStore;
  /** A stored session is reused only while it has more than this many seconds left. Default 60. */
  marginSeconds?: number;
}

/** express-rate-limit options; the router answers 429 itself and owns its logger and store-error policy. */
export type RateLimitOptions = Partial<Omit<RateLimitLibraryOptions, 'handler' | 'message' | 'statusCode' | 'passOnStoreError'>>;

/** Where Resurs sends the shopper back: a fixed URL, or one per request and order reference. */
export type RedirectTarget = string | ((req: Request, orderReference: string, storeId: string) => string);

/** What `payments.onPaymentUpdate` receives: one verified fact about a payment. */
export interface PaymentUpdateEvent {
  /** Which callback told us: `authorization` (status) or `management` (capture, cancel, refund). */
  type: 'authorization' | 'management';
  paymentId: string;
  /** The signed order reference, equal to the payment's own. */
  orderReference: string;
  /** The payment's status as Resurs reports it on a fresh lookup (never the callback's word). */
  status: string;
  /** For management callbacks: `CAPTURE`, `REFUND` or `CANCEL`. */
  action?: string;
  /** For management callbacks: Resurs' id of the action (the dedupe key). */
  actionId?: string;
  /**
   * The payment as `GET /v2/payments/{id}` answered it. Its `storeId` is the router's store (or,
   * with several stores, the one the signed callback URL names): checked before this is called.
   */
  payment: Payment;
  requestId: string;
}

/** Taking the payment: `POST {path}` creates it, `POST {callbackPath}/…` receives Resurs' callbacks. */
export interface PaymentsOptions {
  /**
   * The order from YOUR server-side cart (never from the browser): reference and lines.
   * `storeId` is the request's store (the one `storeId` names, or your function chose).
   */
  order: (req: Request, storeId: string) => Order | Promise<Order>;
  /** The shopper, when you know them; `undefined` lets Resurs ask. */
  customer?: (req: Request, storeId: string) => Customer | undefined | Promise<Customer | undefined>;
  /** Where Resurs sends the shopper back: `https:` (loopback `http:` allowed). */
  redirect: { successUrl: RedirectTarget; failUrl: RedirectTarget };
  /** Where Resurs reaches this router: public `https:` origin + mount path (`http:` only on loopback). */
  callbackBaseUrl: string;
  /** At least 32 characters; signs the callback URLs (HMAC-SHA256 of the order reference). Never logged. */
  callbackSecret: string;
  /** How long the payment may wait for the shopper, 1 to 43200 minutes. Default 120. */
  timeToLiveInMinutes?: number;
  /** Called once per verified fact (authorization status, management action). Throw to have Resurs deliver it again. */
  onPaymentUpdate: (event: PaymentUpdateEvent) => void | Promise<void>;
  /** One-payment-per-order and callback marks; must have `add`. Default `reuse.store`, else memory. */
  store?: SessionStore;
  /** Callbacks are taken only from these addresses (`req.ip`), e.g. `RESURS_CALLBACK_IPS`. Default: any. */
  callbackIps?: string[];
  /** The payment route. Default `/checkout/payment`. */
  path?: string;
  /** The callback routes' prefix. Default `/checkout/callbacks`. */
  callbackPath?: string;
}

/** What `onSessionCreated` receives. */
export interface SessionCreatedEvent {
  session: CheckoutSession;
  campaign: string | undefined;
  requestId: string;
  /** True when the session came from the reuse store (or a shared in-flight call). */
  reused: boolean;
  /** The Resurs store the session was created for. */
  storeId: string;
  durationMs: number;
}

/** What `onError` receives. */
export interface CheckoutErrorEvent {
  error: ResursCheckoutError;
  campaign: string | undefined;
  /** The request's Resurs store, once it was known (undefined when the answer came before it). */
  storeId: string | undefined;
  requestId: string;
}

/** Options of `createResursClient`: the upstream call without Express. */
export interface ResursClientOptions {
  /** Your Resurs store id (URL-encoded into the path). */
  storeId: string;
  /**
   * Which Resurs environment: `test` (default) or `production`. Picks `baseUrl`,
   * `merchantApiUrl` and `auth.tokenUrl` (see `RESURS_ENVIRONMENTS`); each can be overridden.
   */
  environment?: ResursEnvironment;
  /** Sessions API base URL: `https:`, or `http:` on a loopback host. Default: the environment's. */
  baseUrl?: string;
  /** Merchant API base URL (payments): `https:`, or `http:` on a loopback host. Default: the environment's. */
  merchantApiUrl?: string;
  /** A JWT, client credentials, or a token function. */
  auth: AuthOptions;
  /** Time limit of one upstream attempt, in ms. Default 10000. */
  timeoutMs?: number;
  /** The whole request's budget (attempts, token fetch, backoff), in ms. Default 15000. */
  deadlineMs?: number;
  /** Extra attempts on retryable failures. Default 2. */
  retries?: number;
  /** Circuit breaker, or `false` to turn it off. Default `{failureThreshold: 5, resetAfterMs: 10000}`. */
  breaker?: BreakerOptions | false;
  /** Origins `embed.src` may come from. Default: any `https:` origin. */
  allowedScriptOrigins?: string[];
  /** A pino-compatible logger. Default: silent. */
  logger?: Logger;
  /** Agent for `http:` upstreams (loopback only). Default: a shared keep-alive agent. */
  httpAgent?: http.Agent;
  /** Agent for `https:` upstreams (proxies, tuned pools). Default: a shared keep-alive agent. */
  httpsAgent?: https.Agent;
  /**
   * An undici dispatcher for every upstream call instead of the built-in pools, e.g.
   * `new ProxyAgent('http://proxy.corp:3128')` from `undici`. Not with `httpAgent`/`httpsAgent`.
   */
  dispatcher?: Dispatcher;
}

/**
 * Picks the Resurs store of one storefront request (by country, domain, path, ...). It must
 * return one of `stores`; anything else is a bug of the shop: 500, logged, and nothing is sent
 * to Resurs.
 */
export type StoreChoice = (req: Request) => string | undefined;

/** Options of `createCheckoutRouter`. */
export interface CheckoutRouterOptions extends Omit<ResursClientOptions, 'storeId'> {
  /**
   * Your Resurs store id; or, to serve several stores from one app, a function of the request
   * that returns one of `stores`.
   */
  storeId: string | StoreChoice;
  /**
   * Every store id a `storeId` function may return (required with one, refused without). A
   * storefront can never reach a store outside this list. Sessions, reuse, payments and callbacks
   * are kept per store; one token source serves them all.
   */
  stores?: string[];
  /** Which campaigns the storefront may ask for. Default: any well-formed campaign. */
  campaigns?: CampaignRule;
  /** The route path. Default `/checkout/session`. */
  path?: string;
  /** Reuse sessions per shopper and campaign. Default: off. */
  reuse?: ReuseOptions;
  /** Per-client rate limit (express-rate-limit options). Default: off. */
  rateLimit?: RateLimitOptions;
  /** Called after each successful answer (metrics). Errors thrown here are logged, not sent. */
  onSessionCreated?: (event: SessionCreatedEvent) => void;
  /** Called for each problem answer (alerts). Errors thrown here are logged, not sent. */
  onError?: (event: CheckoutErrorEvent) => void;
  /** Take the payment and receive Resurs' callbacks. Default: off (sessions only). */
  payments?: PaymentsOptions;
  /**
   * Other sites of yours whose pages may call the session and payment routes, as origins
   * (`https://shop.example.no`). A browser request marked `Sec-Fetch-Site: cross-site` from any
   * other origin answers 403 `cross_site_request`. Default: none (same-site pages only).
   */
  crossSiteOrigins?: string[];
}

/** What every upstream call needs (the transport, the token source), with defaults filled in. */
export interface ResolvedUpstreamOptions {
  environment: ResursEnvironment;
  baseUrl: string;
  merchantApiUrl: string;
  /** With client credentials, `tokenUrl` is filled in from the environment. */
  auth: AuthOptions;
  timeoutMs: number;
  deadlineMs: number;
  retries: number;
  breaker: BreakerOptions | false;
  allowedScriptOrigins: string[] | undefined;
  logger: Logger;
  httpAgent: http.Agent | undefined;
  httpsAgent: https.Agent | undefined;
  dispatcher: Dispatcher | undefined;
}

/** Client options with every default filled in. */
export interface ResolvedClientOptions extends ResolvedUpstreamOptions {
  storeId: string;
}

/** Router options with every default filled in. */
export interface ResolvedRouterOptions extends ResolvedUpstreamOptions {
  /** Every store this router serves; one entry for a fixed `storeId`. */
  stores: readonly string[];
  /** The merchant's store function; undefined for a fixed `storeId` (then it is `stores[0]`). */
  storeOf: StoreChoice | undefined;
  campaigns: CampaignRule | undefined;
  path: string;
  reuse: (ReuseOptions & { marginSeconds: number }) | undefined;
  rateLimit: RateLimitOptions | undefined;
  onSessionCreated: ((event: SessionCreatedEvent) => void) | undefined;
  onError: ((event: CheckoutErrorEvent) => void) | undefined;
  payments: ResolvedPaymentsOptions | undefined;
  crossSiteOrigins: string[] | undefined;
}

/** Payments options with every default filled in. */
export interface ResolvedPaymentsOptions extends PaymentsOptions {
  timeToLiveInMinutes: number;
  path: string;
  callbackPath: string;
  callbackBaseUrl: string;
}

export const DEFAULTS = {
  environment: 'test',
  baseUrl: RESURS_MOCK_BASE_URL,
  paymentPath: '/checkout/payment',
  callbackPath: '/checkout/callbacks',
  timeToLiveInMinutes: 120,
  path: '/checkout/session',
  timeoutMs: 10_000,
  deadlineMs: 15_000,
  retries: 2,
  breaker: { failureThreshold: 5, resetAfterMs: 10_000 },
  marginSeconds: 60,
  scope: 'merchant-api',
} as const;

const CLIENT_KEYS = [
  'storeId',
  'environment',
  'baseUrl',
  'merchantApiUrl',
  'auth',
  'timeoutMs',
  'deadlineMs',
  'retries',
  'breaker',
  'allowedScriptOrigins',
  'logger',
  'httpAgent',
  'httpsAgent',
  'dispatcher',
] as const;
const ROUTER_ONLY_KEYS = ['stores', 'campaigns', 'path', 'reuse', 'rateLimit', 'onSessionCreated', 'onError', 'payments', 'crossSiteOrigins'] as const;

// ---- custom checks ------------------------------------------------------------------------

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** `https:`, or `http:` on a loopback host. */
const secureUrl = Joi.string().custom((value: string, helpers) => {
  const url = parseUrl(value);
  if (!url) return helpers.error('url.invalid');
  if (url.protocol === 'https:') return value;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return value;
  return helpers.error('url.insecure');
});

/** A base URL: secure, and without a query or fragment (paths are appended to it). */
const baseUrlSchema = secureUrl.custom((value: string, helpers) => {
  const url = parseUrl(value)!;
  if (url.search || url.hash || value.includes('?') || value.includes('#')) return helpers.error('url.query');
  return value;
});

const origin = Joi.string().custom((value: string, helpers) => {
  const url = parseUrl(value);
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== value.replace(/\/$/, '')) {
    return helpers.error('origin.invalid');
  }
  return url.origin;
});

/** A Date, or a strict ISO 8601 instant with a zone: never a local, time-zone-dependent date. */
const instant = Joi.any().custom((value: unknown, helpers) => {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? helpers.error('instant.invalid') : value;
  if (typeof value === 'string' && parseIsoInstant(value) !== undefined) return value;
  return helpers.error('instant.invalid');
});

const campaignName = Joi.string().pattern(CAMPAIGN_PATTERN);

const storeShape = Joi.object({
  get: Joi.function().required(),
  set: Joi.function().required(),
  delete: Joi.function().required(),
}).unknown(true);

const AUTH_FORMS = ['token', 'getToken', 'clientId'] as const;
const CREDENTIAL_KEYS = ['clientId', 'clientSecret', 'tokenUrl', 'scope', 'store'];

const authSchema = Joi.object({
  // Checked here (not only when the token source is built) so it is listed with every other problem.
  token: Joi.string().min(1).custom((value: string, helpers) => (jwt.decode(value) === null ? helpers.error('jwt.invalid') : value)),
  getToken: Joi.function(),
  clientId: Joi.string().min(1),
  clientSecret: Joi.string().min(1),
  tokenUrl: secureUrl,
  scope: Joi.string().min(1),
  store: storeShape,
})
  .xor(...AUTH_FORMS)
  // One rule per peer: joi reports only the first missing peer of a list.
  .with('clientId', 'clientSecret')
  .without('token', ['getToken', ...CREDENTIAL_KEYS])
  .without('getToken', ['token', ...CREDENTIAL_KEYS]);

// "." and ".." would climb out of /stores/ in the URL, even percent-encoded.
const storeIdSchema = Joi.string().min(1).max(256).invalid('.', '..');

const clientKeys = {
  storeId: storeIdSchema.required(),
  environment: Joi.string().valid('test', 'production'),
  baseUrl: baseUrlSchema,
  merchantApiUrl: baseUrlSchema,
  auth: authSchema.required(),
  timeoutMs: Joi.number().integer().min(1).max(600_000).default(DEFAULTS.timeoutMs),
  deadlineMs: Joi.number().integer().min(1).max(600_000).default(DEFAULTS.deadlineMs),
  retries: Joi.number().integer().min(0).max(10).default(DEFAULTS.retries),
  breaker: Joi.alternatives()
    .try(
      Joi.valid(false),
      Joi.object({
        failureThreshold: Joi.number().integer().min(1).required(),
        resetAfterMs: Joi.number().integer().min(1).required(),
      }),
    )
    .default(DEFAULTS.breaker),
  allowedScriptOrigins: Joi.array().items(origin).min(1),
  logger: Joi.object({
    debug: Joi.function().required(),
    info: Joi.function().required(),
    warn: Joi.function().required(),
    error: Joi.function().required(),
  })
    .unknown(true)
    .default(silentLogger),
  httpAgent: Joi.object().instance(http.Agent),
  httpsAgent: Joi.object().instance(https.Agent),
  dispatcher: Joi.object({ dispatch: Joi.function().required() }).unknown(true),
};

const routerKeys = {
  ...clientKeys,
  storeId: Joi.alternatives().try(storeIdSchema, Joi.function()).required(),
  stores: Joi.array().items(storeIdSchema).min(1).max(1000).unique(),
  campaigns: Joi.alternatives().try(
    Joi.array().items(campaignName).min(1),
    Joi.function(),
    Joi.object()
      .pattern(campaignName, Joi.object({ validFrom: instant, validUntil: instant }))
      .min(1),
  ),
  path: Joi.string().pattern(/^\//).default(DEFAULTS.path),
  reuse: Joi.object({
    key: Joi.function().required(),
    store: storeShape,
    marginSeconds: Joi.number().min(0).default(DEFAULTS.marginSeconds),
  }),
  rateLimit: Joi.object().unknown(true),
  onSessionCreated: Joi.function(),
  onError: Joi.function(),
  crossSiteOrigins: Joi.array().items(origin).min(1),
  payments: Joi.object({
    order: Joi.function().required(),
    customer: Joi.function(),
    redirect: Joi.object({
      successUrl: Joi.alternatives().try(secureUrl, Joi.function()).required(),
      failUrl: Joi.alternatives().try(secureUrl, Joi.function()).required(),
    }).required(),
    callbackBaseUrl: baseUrlSchema.required(),
    callbackSecret: Joi.string().min(32).required(),
    timeToLiveInMinutes: Joi.number().integer().min(1).max(43_200),
    onPaymentUpdate: Joi.function().required(),
    store: storeShape.keys({ add: Joi.function().required() }),
    callbackIps: Joi.array().items(Joi.string().ip({ cidr: 'optional' })).min(1),
    path: Joi.string().pattern(/^\//),
    callbackPath: Joi.string().pattern(/^\//),
  }),
};

const clientSchema = Joi.object(clientKeys).required();
const routerSchema = Joi.object(routerKeys).required();

// ---- messages ----------------------------------------------------------------------------

/** What to do about a problem at `path`, in the merchant's words. Never includes the value. */
const HINTS: Record<string, string> = {
  storeId:
    'set `storeId` to your Resurs store id (a non-empty string of at most 256 characters, other than "." or ".."); a router also takes a function (req) => one of `stores`',
  stores: '`stores` must be a non-empty list of distinct Resurs store ids (each a non-empty string of at most 256 characters, other than "." or "..")',
  environment: "`environment` must be 'test' or 'production'",
  baseUrl:
    'set `baseUrl` to an absolute https: URL without query or fragment, such as RESURS_MOCK_BASE_URL (http: is allowed only for 127.0.0.1, localhost or ::1)',
  merchantApiUrl:
    'set `merchantApiUrl` to an absolute https: URL without query or fragment, such as RESURS_ENVIRONMENTS.production.merchantApiUrl (http: only on loopback)',
  auth: 'set `auth` to {token} (a merchant JWT), {clientId, clientSecret, tokenUrl, scope?} or {getToken}',
  'auth.token': 'set `auth.token` to the merchant JWT Resurs gave you (three base64url parts separated by dots)',
  'auth.getToken': '`auth.getToken` must be a function returning the JWT (or a promise of it)',
  'auth.clientId': 'set `auth.clientId` to your Resurs OAuth2 client id',
  'auth.clientSecret': 'set `auth.clientSecret` to your Resurs OAuth2 client secret',
  'auth.tokenUrl':
    'set `auth.tokenUrl` to the https: token endpoint, e.g. https://merchant-api.integration.resurs.com/oauth2/token, or set `environment` to use its token URL',
  'auth.scope': '`auth.scope` must be a non-empty string such as "merchant-api"',
  'auth.store': '`auth.store` must be a SessionStore ({get, set, delete}), e.g. a RedisSessionStore',
  timeoutMs: '`timeoutMs` must be a whole number of milliseconds between 1 and 600000',
  deadlineMs: '`deadlineMs` must be a whole number of milliseconds between 1 and 600000',
  retries: '`retries` must be a whole number from 0 to 10',
  breaker: '`breaker` must be {failureThreshold, resetAfterMs} (whole numbers ≥ 1) or false',
  allowedScriptOrigins: '`allowedScriptOrigins` must be a non-empty list of origins such as "https://static.resurs.cloud"',
  logger: '`logger` must have debug, info, warn and error functions (pino fits)',
  httpAgent: '`httpAgent` must be an http.Agent',
  httpsAgent: '`httpsAgent` must be an https.Agent',
  dispatcher: '`dispatcher` must be an undici Dispatcher (Agent, Pool, ProxyAgent), without httpAgent/httpsAgent',
  campaigns:
    '`campaigns` must be a list of names, an object {NAME: {validFrom?, validUntil?}}, or a function (campaign, req) => boolean; names are 1-64 characters of A-Z a-z 0-9 _ -',
  path: '`path` must be a string starting with "/"',
  reuse: '`reuse` must be {key: (req, campaign) => string | undefined, store?, marginSeconds?}',
  'reuse.key': '`reuse.key` must be a function (req, campaign) => string | undefined',
  'reuse.store': '`reuse.store` must be a SessionStore ({get, set, delete})',
  'reuse.marginSeconds': '`reuse.marginSeconds` must be a number ≥ 0',
  rateLimit: '`rateLimit` must be an object of express-rate-limit options, e.g. {windowMs: 60000, limit: 20}',
  onSessionCreated: '`onSessionCreated` must be a function',
  onError: '`onError` must be a function',
  crossSiteOrigins: '`crossSiteOrigins` must be a non-empty list of origins such as "https://shop.example.no"',
  payments:
    '`payments` must be {order, redirect: {successUrl, failUrl}, callbackBaseUrl, callbackSecret, onPaymentUpdate, customer?, timeToLiveInMinutes?, store?, callbackIps?, path?, callbackPath?}',
  'payments.order': '`payments.order` must be a function (req) => {orderReference, orderLines} built from your server-side cart',
  'payments.customer': '`payments.customer` must be a function (req) => customer | undefined',
  'payments.redirect': '`payments.redirect` must be {successUrl, failUrl}',
  'payments.redirect.successUrl': '`payments.redirect.successUrl` must be an https: URL (http: only on loopback) or a function (req, orderReference) => URL',
  'payments.redirect.failUrl': '`payments.redirect.failUrl` must be an https: URL (http: only on loopback) or a function (req, orderReference) => URL',
  'payments.callbackBaseUrl':
    '`payments.callbackBaseUrl` must be where Resurs reaches this router: your public https: origin plus the mount path, without query (http: only on loopback)',
  'payments.callbackSecret': '`payments.callbackSecret` must be a random string of at least 32 characters (e.g. `openssl rand -hex 32`)',
  'payments.timeToLiveInMinutes': '`payments.timeToLiveInMinutes` must be a whole number from 1 to 43200',
  'payments.onPaymentUpdate': '`payments.onPaymentUpdate` must be a function (event) => void | Promise<void>',
  'payments.store':
    '`payments.store` must be a store with add (set if absent), such as MemorySessionStore or RedisSessionStore: payments and callbacks need it to be exactly-once',
  'payments.callbackIps': '`payments.callbackIps` must be a non-empty list of IP addresses or CIDR ranges, e.g. RESURS_CALLBACK_IPS',
  'payments.path': '`payments.path` must be a string starting with "/"',
  'payments.callbackPath': '`payments.callbackPath` must be a string starting with "/"',
};

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function suggest(key: string, known: readonly string[]): string {
  const best = known
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
    .sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(key.length / 3)) ? ` Did you mean \`${best.k}\`?` : '';
}

function describe(detail: Joi.ValidationErrorItem, known: readonly string[], forClient: boolean): string {
  const path = detail.path.map(String).join('.');
  const top = String(detail.path[0] ?? '');
  if (detail.type === 'object.unknown') {
    const key = String(detail.path[detail.path.length - 1]);
    if (detail.path.length === 1 && forClient && (ROUTER_ONLY_KEYS as readonly string[]).includes(key)) {
      return `\`${key}\` is an option of createCheckoutRouter, not of createResursClient: leave it out here.`;
    }
    if (top === 'auth') {
      return `\`${path}\` does not belong in this form of \`auth\`: use {token}, {clientId, clientSecret, tokenUrl, scope?, store?} or {getToken}, not a mix.`;
    }
    const siblings = detail.path.length === 1 ? known : [];
    return `\`${path}\` is not an option.${suggest(key, siblings)} Remove it or fix its name (unknown options are refused so a typo cannot silently switch a rule off).`;
  }
  if (detail.type === 'object.with') {
    const peer = `auth.${String(detail.context?.peer)}`;
    return `\`${peer}\` is required with \`auth.clientId\`: ${HINTS[peer] ?? 'set it'}.`;
  }
  if (detail.type === 'object.missing' || detail.type === 'object.xor' || detail.type === 'object.without') {
    return `\`auth\` must take exactly one form: ${HINTS.auth}.`;
  }
  if (detail.type === 'any.required') return `\`${path}\` is required: ${HINTS[path] ?? HINTS[top] ?? 'set it'}.`;
  const hint = HINTS[path] ?? HINTS[path.replace(/\.\d+$/, '')] ?? HINTS[top];
  return `\`${path || 'options'}\` is invalid: ${hint ?? 'see the options table in the README'}.`;
}

function validate<T>(schema: Joi.ObjectSchema, input: unknown, forClient: boolean): T {
  if (input === null || typeof input !== 'object') {
    throw new ConfigError(['options must be an object such as {storeId, auth}; see the README snippet.']);
  }
  const known: readonly string[] = forClient ? CLIENT_KEYS : [...CLIENT_KEYS, ...ROUTER_ONLY_KEYS];
  const { value, error } = schema.validate(input, { abortEarly: false, convert: true });
  const problems = error ? error.details.map((d) => describe(d, known, forClient)) : [];
  const rateLimit = (input as { rateLimit?: unknown }).rateLimit;
  if (!forClient && typeof rateLimit === 'object' && rateLimit !== null) problems.push(...rateLimitProblems(rateLimit as Record<string, unknown>));
  problems.push(...crossFieldProblems(input as CheckoutRouterOptions, forClient));
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return value as T;
}

/** Rules joi cannot say on one key: they name the fix. */
function crossFieldProblems(input: CheckoutRouterOptions, forClient: boolean): string[] {
  const problems: string[] = [];
  const auth = input.auth as Partial<ClientCredentialsAuth> | undefined;
  if (auth && typeof auth === 'object' && 'clientId' in auth && auth.tokenUrl === undefined && input.environment === undefined) {
    problems.push('`auth.tokenUrl` is required with `auth.clientId` unless `environment` is set: ' + HINTS['auth.tokenUrl'] + '.');
  }
  if (input.dispatcher !== undefined && (input.httpAgent !== undefined || input.httpsAgent !== undefined)) {
    problems.push('`dispatcher` and `httpAgent`/`httpsAgent` cannot be used together: pick one way to reach Resurs.');
  }
  if (!forClient && typeof input.storeId === 'function' && input.stores === undefined) {
    problems.push('`stores` is required when `storeId` is a function: list every store id the function may return, e.g. stores: ["se-store-id", "no-store-id"].');
  }
  if (!forClient && typeof input.storeId === 'string' && input.stores !== undefined) {
    problems.push('`stores` goes with a `storeId` function: with one fixed store id, leave `stores` out.');
  }
  const payments = input.payments;
  if (payments && typeof payments === 'object' && payments.store === undefined && input.reuse?.store && typeof input.reuse.store.add !== 'function') {
    problems.push('`payments.store` is required: `reuse.store` has no add (set if absent), which payments and callbacks need to be exactly-once. Pass a MemorySessionStore or RedisSessionStore.');
  }
  return problems;
}

/** A store id given later (`client.forStore`), held to the same rule as `storeId`. Throws ConfigError. */
export function checkStoreId(storeId: string): string {
  if (storeIdSchema.validate(storeId).error) throw new ConfigError(['`forStore(storeId)` needs a Resurs store id: a non-empty string of at most 256 characters, other than "." or "..".']);
  return storeId;
}

/** Validates `createResursClient` options and fills in defaults. Throws ConfigError. */
export function resolveClientOptions(input: ResursClientOptions): ResolvedClientOptions {
  const value = validate<ResursClientOptions>(clientSchema, input, true);
  return { storeId: value.storeId, ...resolveUpstream(value, input) };
}

/** Validates `createCheckoutRouter` options and fills in defaults. Throws ConfigError. */
export function resolveRouterOptions(input: CheckoutRouterOptions): ResolvedRouterOptions {
  const value = validate<CheckoutRouterOptions>(routerSchema, input, false);
  const storeOf = typeof input.storeId === 'function' ? input.storeId : undefined;
  return {
    ...resolveUpstream(value, input),
    stores: storeOf ? [...value.stores!] : [value.storeId as string],
    storeOf,
    campaigns: input.campaigns,
    path: value.path ?? DEFAULTS.path,
    reuse: input.reuse && { ...input.reuse, marginSeconds: input.reuse.marginSeconds ?? DEFAULTS.marginSeconds },
    rateLimit: input.rateLimit,
    onSessionCreated: input.onSessionCreated,
    onError: input.onError,
    crossSiteOrigins: value.crossSiteOrigins,
    payments: input.payments && {
      ...input.payments,
      timeToLiveInMinutes: value.payments?.timeToLiveInMinutes ?? DEFAULTS.timeToLiveInMinutes,
      path: value.payments?.path ?? DEFAULTS.paymentPath,
      callbackPath: value.payments?.callbackPath ?? DEFAULTS.callbackPath,
      callbackBaseUrl: input.payments.callbackBaseUrl.replace(/\/+$/, ''),
    },
  };
}

/**
 * Primitives come from joi's validated copy (defaults, conversions); objects come from the
 * caller's own options, because joi clones objects and a store, logger or agent must stay the
 * very instance the merchant passed.
 */
function resolveUpstream(value: Omit<ResursClientOptions, 'storeId'>, input: Omit<ResursClientOptions, 'storeId'>): ResolvedUpstreamOptions {
  const environment = value.environment ?? DEFAULTS.environment;
  const column = RESURS_ENVIRONMENTS[environment];
  const auth: AuthOptions = 'clientId' in input.auth ? { ...input.auth, tokenUrl: input.auth.tokenUrl ?? column.tokenUrl } : input.auth;
  return {
    environment,
    baseUrl: (value.baseUrl ?? column.baseUrl).replace(/\/+$/, ''),
    merchantApiUrl: (value.merchantApiUrl ?? column.merchantApiUrl).replace(/\/+$/, ''),
    auth,
    timeoutMs: value.timeoutMs ?? DEFAULTS.timeoutMs,
    deadlineMs: value.deadlineMs ?? DEFAULTS.deadlineMs,
    retries: value.retries ?? DEFAULTS.retries,
    breaker: value.breaker ?? { ...DEFAULTS.breaker },
    allowedScriptOrigins: value.allowedScriptOrigins,
    logger: input.logger ?? silentLogger,
    httpAgent: input.httpAgent,
    httpsAgent: input.httpsAgent,
    dispatcher: input.dispatcher,
  };
}
