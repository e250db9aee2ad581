import { URL_SAFE_ID, checkBrowserUrl } from '../rules/browser-url';
import { parseIsoInstant } from '../rules/iso-instant';
import type { Operation } from '../transport/operation';

/** The session Resurs answers, as the storefront receives it. */
export interface CheckoutSession {
  /** Session id; authenticates the payment-method components in the browser. */
  id: string;
  /** ISO 8601 instant after which Resurs refuses the session. */
  expiresAt: string;
  embed: {
    /** The payment-elements script the storefront loads. */
    src: string;
  };
}

/** What may be in Resurs' answer for it to reach the storefront. */
export interface SessionRules {
  /** The client's baseUrl is on a loopback host: then an http: script on a loopback host is allowed. */
  baseUrlIsLoopback: boolean;
  /** Origins `embed.src` may come from; undefined means any https: origin. */
  allowedScriptOrigins: readonly string[] | undefined;
}

/** A session that expires sooner than this is refused: the shopper could not use it. */
export const MIN_SESSION_LIFETIME_MS = 30_000;


function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks Resurs' answer and trims it to the three fields. Returns the session, or the reason it
 * was refused (our words, safe to log; never the answer itself).
 */
export function checkSession(
  body: unknown,
  rules: SessionRules,
  now: number = Date.now(),
): CheckoutSession | string {
  if (!isObject(body)) return 'the answer is not a JSON object';
  const { id, expiresAt, embed } = body;
  if (typeof id !== 'string' || !URL_SAFE_ID.test(id)) return '`id` is not 1 to 128 URL-safe characters';
  const expires = typeof expiresAt === 'string' ? parseIsoInstant(expiresAt) : undefined;
  if (expires === undefined) return '`expiresAt` is not an ISO 8601 instant';
  if (expires <= now) return '`expiresAt` is not in the future';
  if (expires - now < MIN_SESSION_LIFETIME_MS) return '`expiresAt` is less than 30 seconds away';
  // Session ids travel in URLs (payment-method-groups); the script is loaded by the browser.
  const src = checkBrowserUrl(isObject(embed) ? embed.src : undefined, 'embed.src', rules.baseUrlIsLoopback);
  if (typeof src === 'string') return src;
  if (rules.allowedScriptOrigins && !rules.allowedScriptOrigins.includes(src.origin)) {
    return `\`embed.src\` comes from ${src.origin}, which is not in allowedScriptOrigins`;
  }
  return { id, expiresAt: expiresAt as string, embed: { src: src.href } };
}

/** The Create Session operation for one store: the URL is built once, the body per call. */
export function createSessionOperation(baseUrl: string, storeId: string, rules: SessionRules): (campaign: string | undefined) => Operation<CheckoutSession> {
  const url = `${baseUrl}/stores/${encodeURIComponent(storeId)}/sessions`;
  const check = (body: unknown) => checkSession(body, rules);
  const base = {
    name: 'create session',
    method: 'POST',
    url,
    // A session costs nothing and holds no money: sending it again is safe.
    idempotent: true,
    success: [200, 201],
    check,
    failureDetail: 'Resurs could not create a checkout session. Try again, or choose another way to pay.',
  } as const;
  const withoutCampaign: Operation<CheckoutSession> = { ...base, body: '{}' };
  return (campaign) => (campaign === undefined ? withoutCampaign : { ...base, body: JSON.stringify({ campaign }) });
}
