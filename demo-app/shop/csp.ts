/**
 * The storefront's Content-Security-Policy, built from the origins the checkout needs.
 * A pure function, so merchants can copy it: allow Resurs' script origin in `script-src`
 * and the origin the script calls in `connect-src`; everything else stays 'self'.
 */

/** The origins the Resurs checkout adds to a strict policy. */
export interface CheckoutCspSources {
  /** Origins `embed.src` is loaded from (the payment-elements script). */
  scriptOrigins: readonly string[];
  /** Origins the payment-elements script fetches from (the Resurs API). */
  connectOrigins: readonly string[];
}

/** The origin (`scheme://host[:port]`) of an absolute URL; throws TypeError on anything else. */
export function originOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`expected an absolute http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new TypeError(`expected an http(s) URL, got ${parsed.protocol}`);
  }
  return parsed.origin;
}

function sources(extra: readonly string[]): string {
  const origins = [...new Set(extra.map(originOf))];
  return ["'self'", ...origins].join(' ');
}

/**
 * `default-src 'self'; script-src 'self' <script origins>; connect-src 'self' <api origins>;
 * style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`.
 * URLs are reduced to their origins and de-duplicated.
 */
export function buildContentSecurityPolicy({ scriptOrigins, connectOrigins }: CheckoutCspSources): string {
  return [
    "default-src 'self'",
    `script-src ${sources(scriptOrigins)}`,
    `connect-src ${sources(connectOrigins)}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}
