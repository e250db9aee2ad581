/**
 * The token-source seam: the client asks for a JWT per attempt and tells the source when
 * Resurs refused one. Three sources fit behind it: a static JWT, client credentials, and the
 * merchant's own function.
 */
import type { Logger } from '../logger';
import type { StopSignal } from '../resilience/stop';

/** What a token source gets for one request. */
export interface TokenContext {
  /** Aborted when the request's deadline passes or the storefront goes away. */
  signal: StopSignal;
  /** The request's logger (carries the request id). */
  log: Logger;
}

/** Gives the Resurs client a merchant JWT. Rejects with a ResursCheckoutError. */
export interface TokenSource {
  getToken(context: TokenContext): Promise<string>;
  /** The token when one is at hand and valid now, without waiting (no promise on the hot path); else undefined. */
  current?(): string | undefined;
  /** True when fetching again after a 401 can yield a different, valid token. */
  readonly refreshable: boolean;
  /** Resurs refused `token` (401): forget it so the next getToken fetches a new one. */
  invalidate(token: string, log: Logger): void;
  /** Gets a token now, so the first request does not wait; rejects with ResursCheckoutError when refused. */
  warmUp(log: Logger): Promise<void>;
  /** Stops any background refresh. */
  close(): void;
}
