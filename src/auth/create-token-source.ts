/** Picks the token source for the `auth` form the merchant chose. */
import type { AxiosInstance } from 'axios';
import type { Logger } from '../logger';
import type { TransportTelemetry } from '../telemetry/operation';
import type { AuthOptions } from '../options/options';
import { createClientCredentialsSource } from './client-credentials';
import { createFunctionTokenSource } from './function-token';
import { createStaticTokenSource } from './static-token';
import type { TokenSource } from './token-source';

export interface TokenSourceDeps {
  http: AxiosInstance;
  timeoutMs: number;
  logger: Logger;
  telemetry?: TransportTelemetry;
}

export function createTokenSource(auth: AuthOptions, deps: TokenSourceDeps): TokenSource {
  if ('token' in auth) return createStaticTokenSource(auth.token);
  if ('getToken' in auth) return createFunctionTokenSource(auth.getToken);
  // resolveClientOptions fills in the environment's token URL when it was left out.
  return createClientCredentialsSource(auth, deps);
}
