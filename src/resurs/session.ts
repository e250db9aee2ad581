import { isLoopbackHost } from '../net';

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

/** ISO 8601 date-time with a zone (Z or ±hh:mm), as Resurs writes `expiresAt`. */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

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
  if (typeof id !== 'string' || id.length === 0 || id.length > 128) return '`id` is not a string of 1 to 128 characters';
  if (typeof expiresAt !== 'string' || !ISO_INSTANT.test(expiresAt)) return '`expiresAt` is not an ISO 8601 instant';
  const expires = Date.parse(expiresAt);
  if (Number.isNaN(expires)) return '`expiresAt` is not an ISO 8601 instant';
  if (expires <= now) return '`expiresAt` is not in the future';
  if (!isObject(embed) || typeof embed.src !== 'string') return '`embed.src` is missing';
  let src: URL;
  try {
    src = new URL(embed.src);
  } catch {
    return '`embed.src` is not an absolute URL';
  }
  if (src.protocol !== 'https:') {
    const loopbackPair = src.protocol === 'http:' && isLoopbackHost(src.hostname) && rules.baseUrlIsLoopback;
    if (!loopbackPair) return '`embed.src` is not an https: URL';
  }
  if (src.username || src.password) return '`embed.src` carries credentials';
  if (rules.allowedScriptOrigins && !rules.allowedScriptOrigins.includes(src.origin)) {
    return `\`embed.src\` comes from ${src.origin}, which is not in allowedScriptOrigins`;
  }
  return { id, expiresAt, embed: { src: embed.src } };
}
