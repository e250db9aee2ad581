/**
 * URLs that reach a browser (a script it loads, a page it is sent to), and ids that travel in
 * URLs: checked the same way wherever Resurs hands one over. Pure.
 */
import { isLoopbackHost } from '../net';

/** Ids Resurs gives us (sessions, payments, methods, actions): unreserved URL characters only. */
export const URL_SAFE_ID = /^[A-Za-z0-9._~-]{1,128}$/;

/** Characters never found in a URL we hand to a browser. */
const UNSAFE_URL_CHARACTERS = /[\s\\"'<>`]/;

/**
 * The URL, parsed (its `href` is the normalised form), when `raw` is an absolute `https:` URL
 * without user info or unsafe characters; `http:` on a loopback host only with `allowLoopbackHttp`.
 * Otherwise why not, naming it `name` (our words, safe to log).
 */
export function checkBrowserUrl(raw: unknown, name: string, allowLoopbackHttp: boolean): URL | string {
  if (typeof raw !== 'string') return `\`${name}\` is missing`;
  if (UNSAFE_URL_CHARACTERS.test(raw)) return `\`${name}\` holds whitespace, a backslash or a quote`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `\`${name}\` is not an absolute URL`;
  }
  if (url.username || url.password) return `\`${name}\` carries credentials`;
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowLoopbackHttp && isLoopbackHost(url.hostname)) return url;
  return `\`${name}\` is not an https: URL`;
}
