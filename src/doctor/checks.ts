/**
 * The doctor's judgements: pure functions from what was seen to a check result. No I/O here;
 * `run.ts` makes the calls. Nothing here ever puts a secret into `detail` or `fix`: they are
 * built from statuses, whitelisted OAuth error codes, our own messages and sanitized URLs.
 */
import net from 'node:net';
import jwt from 'jsonwebtoken';
import type { CheckResult, WireObservation } from './types';
import { fail, pass, skip } from './types';

/** Tokens should live about an hour; under this the set-up is wrong. */
export const MIN_TOKEN_LIFETIME_SECONDS = 5 * 60;
/** Above this, JWT `exp` checks and campaign windows go wrong. */
export const MAX_CLOCK_SKEW_SECONDS = 30;

/** What a failed call looked like, read from the error's cause chain (our words only). */
export interface FailureInfo {
  /** `network`, `timeout`, `status`, `too-large`, `invalid`, or undefined when unknown. */
  kind?: string;
  status?: number;
  /** Our own, secret-free message. */
  message: string;
}

/** What one Resurs call came to. */
export type CallOutcome<T> = { ok: true; value: T; last?: WireObservation } | { ok: false; failure: FailureInfo; last?: WireObservation };

/** A URL as we print it: origin and path only (no user info, query or fragment, which may hold secrets). */
export function safeUrl(url: string | undefined): string {
  if (!url) return '(none)';
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname.replace(/\/+$/, '');
  } catch {
    return '(not a URL)';
  }
}

/** Seconds as "3600 s (60 min)". */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (Math.abs(s) < 120) return `${s} s`;
  const minutes = Math.round(s / 60);
  return `${s} s (${Math.abs(minutes) >= 120 ? `${(minutes / 60).toFixed(1)} h` : `${minutes} min`})`;
}

function noAnswer(last: WireObservation | undefined, failure: FailureInfo): string {
  if (failure.kind === 'timeout' || last?.errorCode === 'ERR_CANCELED' || last?.errorCode === 'ECONNABORTED') return 'no answer in time';
  const code = last?.errorCode && /^[A-Z][A-Z0-9_]{1,40}$/.test(last.errorCode) ? last.errorCode : undefined;
  return `could not be reached${code ? ` (${code})` : ''}`;
}

// --- options -------------------------------------------------------------------------------

export interface OptionsSummary {
  storeId: string;
  environment: string;
  auth: 'client credentials' | 'static token';
  /** Where each call goes (already resolved against the environment column). */
  baseUrl: string;
  merchantApiUrl: string;
  tokenUrl?: string;
  overrides: string[];
  nodeEnvProduction: boolean;
}

export function judgeOptions(problems: readonly string[] | undefined, summary: OptionsSummary | undefined): CheckResult {
  if (problems && problems.length > 0) {
    return fail(
      'options',
      `${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join(' ')}`,
      'set the RESURS_* variables as the problems say, then run the doctor again',
    );
  }
  const s = summary!;
  const parts = [`store '${s.storeId}'`, `environment ${s.environment}`, s.auth];
  if (s.overrides.length > 0) parts.push(`overridden: ${s.overrides.join(', ')}`);
  let detail = parts.join(', ');
  if (s.nodeEnvProduction && s.environment === 'test') detail += " (note: NODE_ENV=production but RESURS_ENVIRONMENT is 'test')";
  return pass('options', detail);
}

// --- token endpoint --------------------------------------------------------------------------

/** The token endpoint answered at all (any 4xx counts: the credentials check judges it). */
export function judgeTokenEndpoint(outcome: CallOutcome<unknown>, tokenUrl: string): CheckResult {
  const where = safeUrl(tokenUrl);
  const status = outcome.last?.status;
  if (status === undefined) {
    if (outcome.ok) return pass('token-endpoint', `${where} answered`);
    return fail(
      'token-endpoint',
      `${where} ${noAnswer(outcome.last, outcome.failure)}`,
      'check RESURS_TOKEN_URL (or RESURS_ENVIRONMENT for its token URL), DNS, and that outbound https to it is allowed (firewall, proxy)',
    );
  }
  if (status >= 300 && status < 400) {
    return fail('token-endpoint', `${where} answered a redirect (${status}); the package never follows redirects`, 'set RESURS_TOKEN_URL to the token endpoint itself, not an address that redirects');
  }
  if (status === 404 || status === 405) {
    return fail('token-endpoint', `${where} answered ${status}: no token endpoint there`, "set RESURS_TOKEN_URL to Resurs' OAuth2 token endpoint (see the README's environment table)");
  }
  if (status >= 500 || status === 429) {
    return fail('token-endpoint', `${where} answered ${status}: Resurs' token endpoint is failing or busy`, 'try again in a few minutes; if it persists, ask Resurs');
  }
  return pass('token-endpoint', `${where} answered ${status}`);
}

// --- credentials -----------------------------------------------------------------------------

/** OAuth2 error codes we may repeat (never the raw body). */
const OAUTH_ERRORS = new Set(['invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope']);

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What a token answer says. `token` is kept so it can be redacted: never print it. */
export interface TokenAnswer {
  token?: string;
  /** Seconds from issue to expiry (the earlier of `expires_in` and the JWT's `exp`). */
  lifetimeSeconds?: number;
  /** The granted scope, from the answer's `scope` or the JWT's `scope` claim. */
  grantedScope?: string;
}

/** Reads a token answer; `serverNow` is Resurs' clock (its Date header) so `exp` is judged skew-free. */
export function readTokenAnswer(body: string | undefined, serverNow: number): TokenAnswer {
  const answer = parseJsonObject(body);
  if (!answer) return {};
  const token = typeof answer.access_token === 'string' && answer.access_token.length > 0 ? answer.access_token : undefined;
  if (!token) return {};
  const lifetimes: number[] = [];
  if (typeof answer.expires_in === 'number' && Number.isFinite(answer.expires_in)) lifetimes.push(answer.expires_in);
  const payload = jwt.decode(token);
  const claims = payload && typeof payload === 'object' ? payload : undefined;
  if (typeof claims?.exp === 'number') lifetimes.push(claims.exp - serverNow / 1000);
  const scope = typeof answer.scope === 'string' ? answer.scope : typeof claims?.scope === 'string' ? claims.scope : undefined;
  const out: TokenAnswer = { token };
  if (lifetimes.length > 0) out.lifetimeSeconds = Math.min(...lifetimes);
  if (scope !== undefined) out.grantedScope = scope;
  return out;
}

export interface CredentialsContext {
  clientId: string;
  scope: string;
  environment: string;
}

/** Judged on the token endpoint's answer (client credentials only). */
export function judgeCredentials(last: WireObservation | undefined, ctx: CredentialsContext): CheckResult {
  const status = last?.status;
  const credentialsFix =
    `check RESURS_CLIENT_ID and RESURS_CLIENT_SECRET: they must be the pair Resurs issued for the ${ctx.environment} environment ` +
    '(test and production credentials differ)';
  const scopeFix = `set RESURS_SCOPE to the scope Resurs granted you (merchant-api; mock-merchant-api for the mock), now '${ctx.scope}'`;
  if (status === undefined) return skip('credentials', "skipped: needs 'token endpoint reachable'");
  if (status >= 200 && status < 300) {
    const answer = readTokenAnswer(last?.body, last?.receivedAt ?? Date.now());
    if (!answer.token) {
      return fail('credentials', `the token endpoint answered ${status} without a usable access_token`, "check RESURS_TOKEN_URL points to Resurs' OAuth2 token endpoint");
    }
    if (answer.grantedScope !== undefined && !answer.grantedScope.split(/\s+/).includes(ctx.scope)) {
      return fail('credentials', `client '${ctx.clientId}' got a token, but for scope '${answer.grantedScope}', not '${ctx.scope}'`, scopeFix);
    }
    return pass('credentials', `client '${ctx.clientId}' got a token for scope '${answer.grantedScope ?? ctx.scope}'`);
  }
  const error = parseJsonObject(last?.body)?.error;
  const code = typeof error === 'string' && OAUTH_ERRORS.has(error) ? error : undefined;
  const said = `the token endpoint refused client '${ctx.clientId}' (${status}${code ? ` ${code}` : ''})`;
  if (code === 'invalid_scope') return fail('credentials', said, scopeFix);
  if (code === 'unsupported_grant_type' || code === 'invalid_request') {
    return fail('credentials', said, "check RESURS_TOKEN_URL is Resurs' OAuth2 client-credentials endpoint");
  }
  if (status === 403) return fail('credentials', said, `${credentialsFix}; and ${scopeFix}`);
  return fail('credentials', said, credentialsFix);
}

/** Static `RESURS_TOKEN`: Resurs' verdict comes from the Create Session call. */
export function judgeStaticCredentials(last: WireObservation | undefined): CheckResult {
  const status = last?.status;
  if (status === undefined) return skip('credentials', 'skipped: RESURS_TOKEN is a static JWT and Resurs could not be asked (see store known)');
  if (status === 401) {
    return fail(
      'credentials',
      'Resurs refused RESURS_TOKEN (401)',
      'issue a new merchant JWT for this store and environment, or set RESURS_CLIENT_ID + RESURS_CLIENT_SECRET so tokens renew themselves',
    );
  }
  return pass('credentials', `Resurs accepted RESURS_TOKEN (static JWT; no token endpoint called)`);
}

// --- token lifetime ---------------------------------------------------------------------------

export function judgeTokenLifetime(lifetimeSeconds: number | undefined, source: 'fetched' | 'static', expiresAt?: number): CheckResult {
  if (source === 'fetched') {
    if (lifetimeSeconds === undefined) {
      return pass('token-lifetime', 'unknown: the answer has neither expires_in nor a JWT exp; the package then renews the token every 5 minutes');
    }
    if (lifetimeSeconds < MIN_TOKEN_LIFETIME_SECONDS) {
      return fail(
        'token-lifetime',
        `${formatDuration(lifetimeSeconds)}, under ${MIN_TOKEN_LIFETIME_SECONDS / 60} minutes (Resurs' tokens live about an hour)`,
        "check RESURS_TOKEN_URL is Resurs' token endpoint for RESURS_ENVIRONMENT; short-lived tokens mean a token fetch every few minutes",
      );
    }
    return pass('token-lifetime', formatDuration(lifetimeSeconds));
  }
  if (lifetimeSeconds === undefined) return pass('token-lifetime', 'RESURS_TOKEN has no exp claim (static JWT)');
  const at = expiresAt !== undefined ? ` (exp ${new Date(expiresAt).toISOString()})` : '';
  const renew = 'issue a fresh merchant JWT, or better set RESURS_CLIENT_ID + RESURS_CLIENT_SECRET so tokens renew themselves';
  if (lifetimeSeconds <= 0) return fail('token-lifetime', `RESURS_TOKEN expired ${formatDuration(-lifetimeSeconds)} ago${at}`, renew);
  if (lifetimeSeconds < MIN_TOKEN_LIFETIME_SECONDS) return fail('token-lifetime', `RESURS_TOKEN expires in ${formatDuration(lifetimeSeconds)}${at}`, renew);
  return pass('token-lifetime', `RESURS_TOKEN expires in ${formatDuration(lifetimeSeconds)}${at}; a static token stops working then`);
}

// --- clock skew -------------------------------------------------------------------------------

/**
 * Resurs' clock minus ours, in ms, from a Date header (whole seconds: the true instant is within
 * the following second, so its middle is taken). Undefined when there is no usable header.
 */
export function clockSkewMs(observation: WireObservation | undefined): number | undefined {
  if (!observation?.date) return undefined;
  const date = Date.parse(observation.date);
  if (Number.isNaN(date)) return undefined;
  return date + 500 - observation.receivedAt;
}

export function judgeClockSkew(observation: WireObservation | undefined, source: string): CheckResult {
  if (observation?.status === undefined) return skip('clock-skew', 'skipped: no answer from Resurs to read a Date header from');
  const skewMs = clockSkewMs(observation);
  if (skewMs === undefined) return skip('clock-skew', `skipped: the ${source} answered without a usable Date header`);
  const seconds = Math.round(skewMs / 1000);
  const abs = Math.abs(seconds);
  const how = abs <= 1 ? 'in step with Resurs (within 1 s)' : `${abs} s ${seconds > 0 ? 'behind' : 'ahead of'} Resurs`;
  const detail = `local clock ${how}, by the ${source}'s Date header`;
  if (abs > MAX_CLOCK_SKEW_SECONDS) {
    return fail(
      'clock-skew',
      `${detail}: over ${MAX_CLOCK_SKEW_SECONDS} s (JWT exp checks and campaign windows suffer)`,
      'synchronise the clock with NTP (chrony, systemd-timesyncd, or the host/container runtime)',
    );
  }
  return pass('clock-skew', detail);
}

// --- store known ------------------------------------------------------------------------------

export interface StoreContext {
  storeId: string;
  environment: string;
  baseUrl: string;
  /** True when RESURS_BASE_URL overrides the environment's column. */
  baseUrlOverridden: boolean;
  staticToken: boolean;
}

export function judgeStore(outcome: CallOutcome<unknown>, ctx: StoreContext): CheckResult {
  const column = `environment ${ctx.environment}${ctx.baseUrlOverridden ? `, RESURS_BASE_URL ${safeUrl(ctx.baseUrl)}` : ` (${safeUrl(ctx.baseUrl)})`}`;
  if (outcome.ok) return pass('store', `created a session for store '${ctx.storeId}' in ${column}`);
  const { failure, last } = outcome;
  const status = last?.status ?? failure.status;
  const storeFix = `check RESURS_STORE_ID belongs to RESURS_ENVIRONMENT (${ctx.environment}): test and production have different store ids`;
  if (status === undefined) {
    return fail('store', `the sessions API ${noAnswer(last, failure)} (${column})`, 'check RESURS_BASE_URL (or RESURS_ENVIRONMENT), DNS, and that outbound https to it is allowed');
  }
  if (status === 401) {
    return fail(
      'store',
      `Resurs refused the token for Create Session (401) in ${column}`,
      ctx.staticToken
        ? 'issue a new merchant JWT for this store and environment'
        : "check RESURS_SCOPE (merchant-api; mock-merchant-api for the mock) and that the credentials belong to RESURS_ENVIRONMENT",
    );
  }
  if (status >= 200 && status < 300) {
    return fail('store', `Resurs answered ${status}, but not a valid session: ${failure.message} (${column})`, "check RESURS_BASE_URL points to Resurs' sessions API");
  }
  if (status >= 500 || status === 429) {
    return fail('store', `the sessions API answered ${status} (${column})`, 'try again in a few minutes; if it persists, ask Resurs');
  }
  if (status >= 300 && status < 400) {
    return fail('store', `the sessions API answered a redirect (${status}), not followed (${column})`, 'set RESURS_BASE_URL to the sessions API itself');
  }
  return fail('store', `Resurs answered ${status} to Create Session for store '${ctx.storeId}' in ${column}`, storeFix);
}

// --- Merchant API -----------------------------------------------------------------------------

export function judgeMerchantApi(outcome: CallOutcome<readonly unknown[]>, merchantApiUrl: string): CheckResult {
  const where = safeUrl(merchantApiUrl);
  if (outcome.ok) {
    const n = outcome.value.length;
    return pass('merchant-api', `${where} answered a payment search (${n} payment${n === 1 ? '' : 's'} for a random order reference)`);
  }
  const { failure, last } = outcome;
  const status = last?.status ?? failure.status;
  if (status === undefined) {
    return fail('merchant-api', `${where} ${noAnswer(last, failure)}`, 'check RESURS_MERCHANT_API_URL (or RESURS_ENVIRONMENT), DNS, and that outbound https to it is allowed');
  }
  if (status === 401 || status === 403) {
    return fail('merchant-api', `${where} refused the token (${status})`, 'the credentials (RESURS_SCOPE) must cover the Merchant API for this store; ask Resurs to enable it');
  }
  if (status === 404 || status === 405) {
    return fail('merchant-api', `${where} answered ${status}: no Merchant API there`, 'set RESURS_MERCHANT_API_URL to the Merchant API base (see the README\'s environment table)');
  }
  if (status >= 500 || status === 429) {
    return fail('merchant-api', `${where} answered ${status}`, 'try again in a few minutes; if it persists, ask Resurs');
  }
  return fail('merchant-api', `${where} answered ${status}: ${failure.message}`, 'check RESURS_MERCHANT_API_URL and RESURS_STORE_ID');
}

// --- callback URL -----------------------------------------------------------------------------

/** Names that never resolve on the public internet (RFC 6761, 6762, 8375, 2606; ICANN's .internal). */
const PRIVATE_SUFFIXES = ['localhost', 'local', 'internal', 'lan', 'home.arpa', 'test', 'invalid', 'example', 'localdomain'];

const PRIVATE_V4 = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE_V4.addSubnet(address, prefix, 'ipv4');
}
const PRIVATE_V6 = new net.BlockList();
for (const [address, prefix] of [
  ['::', 127], // :: and ::1
  ['::ffff:0:0', 96], // IPv4-mapped: use the plain address or a name
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE_V6.addSubnet(address, prefix, 'ipv6');
}

/** Why `hostname` is not a public internet host, or undefined when it looks public. No DNS lookup. */
export function nonPublicReason(hostname: string): string | undefined {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === '') return 'it has no host';
  if (net.isIPv4(host)) return PRIVATE_V4.check(host, 'ipv4') ? `${host} is a loopback, private or reserved address` : undefined;
  if (net.isIPv6(host)) return PRIVATE_V6.check(host, 'ipv6') ? `${host} is a loopback, private, link-local or reserved address` : undefined;
  if (!host.includes('.')) return `'${host}' is a single-label name, not a public one`;
  const suffix = PRIVATE_SUFFIXES.find((s) => host === s || host.endsWith(`.${s}`));
  return suffix ? `'${host}' is under .${suffix}, which is not public` : undefined;
}

const CALLBACK_FIX =
  'set RESURS_CALLBACK_BASE_URL to the public https origin plus the mount path where Resurs reaches the router, e.g. https://shop.example.com/resurs';

/** `RESURS_CALLBACK_BASE_URL`: an https URL on a public host; unset means skipped (needed only with payments). */
export function checkCallbackUrl(value: string | undefined): CheckResult {
  const raw = value?.trim();
  if (!raw) return skip('callback-url', 'skipped: RESURS_CALLBACK_BASE_URL is not set (needed only with payments)');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail('callback-url', 'RESURS_CALLBACK_BASE_URL is not an absolute URL', CALLBACK_FIX);
  }
  const shown = safeUrl(raw);
  if (url.username || url.password) return fail('callback-url', `${shown} carries user info (credentials) in the URL`, CALLBACK_FIX + ', without user info');
  if (url.search || url.hash) return fail('callback-url', `${shown} has a query or fragment; the callback paths and signature are appended to it`, CALLBACK_FIX + ', without query or fragment');
  if (url.protocol !== 'https:') return fail('callback-url', `${shown} is ${url.protocol.replace(':', '')}, not https`, CALLBACK_FIX);
  const reason = nonPublicReason(url.hostname);
  if (reason) return fail('callback-url', `${shown}: ${reason}, so Resurs cannot reach it`, CALLBACK_FIX);
  return pass('callback-url', `${shown} (https, public-looking host; DNS is not resolved, so a name that points to a private address is not detected)`);
}
