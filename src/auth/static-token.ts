/** `auth: {token}`: a merchant JWT used as is, checked at start-up and before each use. */
import jwt from 'jsonwebtoken';
import { ConfigError, ResursCheckoutError } from '../errors';
import type { TokenSource } from './token-source';

/** Decodes the JWT once; throws ConfigError (without echoing it) when it is not one. */
export function createStaticTokenSource(token: string, now: () => number = Date.now): TokenSource {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object') {
    throw new ConfigError([
      '`auth.token` is not a JWT (expected three base64url parts separated by dots): paste the merchant JWT Resurs issued, or use client credentials.',
    ]);
  }
  const exp = typeof decoded.payload.exp === 'number' ? decoded.payload.exp * 1000 : undefined;

  const source: TokenSource = {
    refreshable: false,
    invalidate: () => undefined,
    close: () => undefined,
    current: () => (exp === undefined || now() < exp ? token : undefined),
    // Fails a deploy whose token has already expired.
    warmUp: async (log) => {
      await source.getToken({ signal: new AbortController().signal, log });
    },
    async getToken({ log }) {
      if (exp !== undefined && now() >= exp) {
        log.error(
          { expiredAt: new Date(exp).toISOString() },
          'The merchant token (auth.token) has expired, so it was not sent to Resurs. Issue a new JWT, or use client credentials so tokens renew themselves.',
        );
        throw new ResursCheckoutError('upstream_error', "The shop's Resurs credentials have expired; the shop needs to renew them.");
      }
      return token;
    },
  };
  return source;
}
