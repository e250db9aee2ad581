/** `auth: {getToken}`: the merchant's own token function, called per request and after a 401. */
import { ResursCheckoutError } from '../errors';
import { errorName } from '../logger';
import type { TokenSource } from './token-source';

export function createFunctionTokenSource(getToken: () => string | Promise<string>): TokenSource {
  const source: TokenSource = {
    refreshable: true,
    invalidate: () => undefined,
    close: () => undefined,
    warmUp: async (log) => {
      await source.getToken({ signal: new AbortController().signal, log });
    },
    async getToken({ log }) {
      let token: unknown;
      try {
        token = await getToken();
      } catch (error) {
        // The merchant's error text may hold anything; log only its kind.
        log.error({ errorName: errorName(error) }, 'auth.getToken threw; no token to send to Resurs.');
        throw new ResursCheckoutError('upstream_unavailable', 'Could not get credentials for Resurs. Try again shortly.', { cause: error });
      }
      if (typeof token !== 'string' || token.length === 0) {
        log.error({}, 'auth.getToken returned no token (expected a non-empty string).');
        throw new ResursCheckoutError('upstream_unavailable', 'Could not get credentials for Resurs. Try again shortly.');
      }
      return token;
    },
  };
  return source;
}
