/**
 * `auth: {clientId, clientSecret, tokenUrl, scope?, store?}`: Resurs' OAuth2 client-credentials
 * flow. The token is cached until shortly before it expires, concurrent requests share one
 * fetch, and with a `store` several instances share one token (one fetch per lifetime between
 * them). A failed fetch is never cached.
 */
import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Context } from '@opentelemetry/api';
import type { AxiosInstance } from 'axios';
import type { TransportTelemetry } from '../telemetry/operation';
import { injectTraceContext } from '../telemetry/propagation';
import { ConfigError, ResursCheckoutError } from '../errors';
import type { ClientCredentialsAuth } from '../options/options';
import { DEFAULTS } from '../options/options';
import type { Logger } from '../logger';
import { UpstreamFailure, statusFailure, transportFailure } from '../transport/failure';
import { guardStore } from '../store/guarded-store';
import type { GuardedStore } from '../store/guarded-store';
import type { SessionStore } from '../store/session-store';
import { getOrCreateShared } from '../store/shared-value';
import { createSingleFlight } from '../store/single-flight';
import { untilAborted } from '../resilience/abort';
import type { TokenContext, TokenSource } from './token-source';

interface CachedToken {
  token: string;
  /** When it was fetched (ms since epoch). */
  issuedAt: number;
  /** When to stop using it (ms since epoch): shortly before it expires. */
  refreshAt: number;
}

/** OAuth2 error codes we may repeat in a log line (never the raw body). */
const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
]);

/** Use a token until this long before it expires: a tenth of its life, at most one minute. */
export function refreshAtFor(issuedAt: number, expiresAt: number): number {
  const lifetime = expiresAt - issuedAt;
  return expiresAt - Math.min(60_000, Math.max(0, lifetime / 10));
}

/** Reads the token endpoint's answer; the earlier of `expires_in` and the JWT's `exp` wins. */
export function parseTokenAnswer(text: string, issuedAt: number): CachedToken | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const { access_token: token, expires_in: expiresIn } = body as Record<string, unknown>;
  if (typeof token !== 'string' || token.length === 0) return undefined;
  const candidates: number[] = [];
  if (typeof expiresIn === 'number' && expiresIn > 0) candidates.push(issuedAt + expiresIn * 1000);
  const payload = jwt.decode(token);
  if (payload && typeof payload === 'object' && typeof payload.exp === 'number') candidates.push(payload.exp * 1000);
  // Neither says: assume the documented hour is not guaranteed and use it for five minutes.
  const expiresAt = candidates.length > 0 ? Math.min(...candidates) : issuedAt + 5 * 60_000;
  return { token, issuedAt, refreshAt: refreshAtFor(issuedAt, expiresAt) };
}

function oauthErrorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    return typeof code === 'string' && OAUTH_ERRORS.has(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

export interface ClientCredentialsDeps {
  http: AxiosInstance;
  /** Time limit of one token request. */
  timeoutMs: number;
  logger: Logger;
  now?: () => number;
  /** Traces each fetch (`resurs.fetch_token` and its POST; never the token or the secret). Default: none. */
  telemetry?: TransportTelemetry;
}

/** What telemetry reads of a token fetch. */
const TOKEN_OPERATION = (url: string) => ({ name: 'fetch token', method: 'POST', url });

/** A fetched token is renewed in the background once this share of its usable life has passed. */
export const BACKGROUND_REFRESH_AT = 0.8;

/** The longest delay `setTimeout` keeps (about 24.8 days); a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** When the background refresh of `token` is due. */
export function backgroundRefreshAt(token: { issuedAt: number; refreshAt: number }): number {
  return token.issuedAt + (token.refreshAt - token.issuedAt) * BACKGROUND_REFRESH_AT;
}

/**
 * How long to wait before the background refresh of `token`: until it is due, but never past
 * the token's own refresh point (so no shopper finds it stale), never a busy loop for a token
 * that is nearly stale already (at least half the time it has left, up to a second), and never
 * longer than a timer can wait (the timer then fires early, finds it not due, and waits again).
 */
export function refreshDelay(token: { issuedAt: number; refreshAt: number }, now: number): number {
  const left = token.refreshAt - now;
  const floor = Math.min(1000, Math.max(0, left / 2));
  return Math.min(MAX_TIMER_MS, Math.max(floor, backgroundRefreshAt(token) - now));
}

export function createClientCredentialsSource(auth: ClientCredentialsAuth, deps: ClientCredentialsDeps): TokenSource {
  if (!auth.tokenUrl) throw new ConfigError(['`auth.tokenUrl` is required with `auth.clientId` unless `environment` is set.']);
  const tokenUrl: string = auth.tokenUrl;
  const now = deps.now ?? Date.now;
  const scope = auth.scope ?? DEFAULTS.scope;
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: auth.clientId,
    client_secret: auth.clientSecret,
    scope,
  }).toString();
  const storeKey =
    'token:' + createHash('sha256').update(JSON.stringify([tokenUrl, auth.clientId, scope])).digest('base64url');
  /** The shared store, its warnings written to the log of the request that uses it. */
  const storeFor = (log: Logger): GuardedStore | undefined =>
    auth.store && guardStore(auth.store, { logger: log, what: 'token sharing' });
  const singleFlight = createSingleFlight<CachedToken>();
  /** Whoever holds the token lock is done within one token request and one store write. */
  const lockTtlMs = deps.timeoutMs + 1000;
  let cached: CachedToken | undefined;
  /** The last token Resurs refused (401): never taken from the store again. */
  let refused: string | undefined;
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  /** Runs `task` after `ms` on the one refresh timer, which never keeps the process alive. */
  function setRefreshTimer(task: () => void, ms: number): void {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(task, ms);
    refreshTimer.unref?.();
  }

  /** Keeps `cached` fresh without a shopper waiting: renews it before it is due. */
  function scheduleRefresh(token: CachedToken): void {
    if (closed) return;
    setRefreshTimer(() => {
      // A timer capped at MAX_TIMER_MS fires before the refresh is due: wait on.
      if (backgroundRefreshAt(token) - now() > 1000) scheduleRefresh(token);
      else void refreshInBackground(token);
    }, refreshDelay(token, now()));
  }

  async function refreshInBackground(current: CachedToken): Promise<void> {
    // Closed, or a newer token (after a 401) has its own schedule.
    if (closed || (cached !== undefined && cached.token !== current.token)) return;
    const log = deps.logger;
    try {
      const fresh = await singleFlight('token', async () => {
        // A newer token another instance stored is as good as our own fetch.
        const next = await sharedToken(log, current.token);
        cached = next;
        return next;
      });
      scheduleRefresh(fresh);
    } catch {
      // Logged by the fetch. Try again shortly while the current token still serves; once it
      // is stale the next shopper's request fetches.
      const left = current.refreshAt - now();
      if (!closed && left > 2000) setRefreshTimer(() => void refreshInBackground(current), Math.min(30_000, left / 2));
    }
  }

  async function requestToken(log: Logger): Promise<CachedToken> {
    const issuedAt = now();
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), deps.timeoutMs);
    let failure: UpstreamFailure | undefined;
    let answer: CachedToken | undefined;
    const traced = deps.telemetry?.operation(TOKEN_OPERATION(tokenUrl));
    try {
      const post = async (traceContext?: Context) => {
        const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
        injectTraceContext(traceContext, headers);
        try {
          return await deps.http.post<string>(tokenUrl, form, { headers, signal: timer.signal });
        } catch (error) {
          // Named here, so the attempt's span says how it failed (timeout, connection, ...).
          throw transportFailure(error, 'the token endpoint', timer.signal.aborted);
        }
      };
      const response = await (traced ? traced.run(() => traced.attempt(1, post)) : post());
      if (response.status >= 200 && response.status < 300) {
        answer = parseTokenAnswer(response.data, issuedAt);
        if (!answer) failure = new UpstreamFailure('invalid', 'the token endpoint answered without a usable access_token');
      } else {
        failure = statusFailure(response, 'the token endpoint');
        const oauthError = response.status < 500 ? oauthErrorCode(response.data) : undefined;
        log.error(
          { tokenStatus: response.status, ...(oauthError ? { oauthError } : {}) },
          response.status >= 500
            ? 'Resurs token endpoint failed; no token fetched.'
            : 'Resurs refused the client credentials: check auth.clientId, auth.clientSecret, auth.scope and auth.tokenUrl.',
        );
      }
    } catch (error) {
      failure = error instanceof UpstreamFailure ? error : transportFailure(error, 'the token endpoint', timer.signal.aborted);
    } finally {
      clearTimeout(timeout);
    }
    if (answer) {
      // Nothing of the answer is handed to telemetry: it is the token.
      traced?.succeeded(undefined);
      log.info({ latencyMs: now() - issuedAt }, 'Fetched a Resurs access token.');
      return answer;
    }
    const final = tokenError(failure!, log);
    traced?.failed(final, false);
    throw final;
  }

  /** With a store: another instance may hold a fresh token; take a lock so one fetches. */
  async function sharedToken(log: Logger, replacing?: string): Promise<CachedToken> {
    const store = storeFor(log);
    if (!store) return requestToken(log);
    return getOrCreateShared(store, `${storeKey}:lock`, {
      read: () => readStored(store, replacing),
      create: async () => {
        const fresh = await requestToken(log);
        await store.set(storeKey, JSON.stringify(fresh), Math.max(1, fresh.refreshAt - now()));
        return fresh;
      },
      lockTtlMs,
      pollMs: 25,
    });
  }

  async function readStored(store: SessionStore, replacing?: string): Promise<CachedToken | undefined> {
    const text = await store.get(storeKey);
    if (!text) return undefined;
    try {
      const value = JSON.parse(text) as CachedToken;
      const usable = typeof value.token === 'string' && typeof value.refreshAt === 'number' && value.refreshAt > now();
      if (!usable || value.token === refused || value.token === replacing) return undefined;
      return { token: value.token, refreshAt: value.refreshAt, issuedAt: typeof value.issuedAt === 'number' ? value.issuedAt : now() };
    } catch {
      return undefined;
    }
  }

  const source: TokenSource = {
    refreshable: true,
    close() {
      closed = true;
      clearTimeout(refreshTimer);
    },
    async warmUp(log) {
      // Long enough to wait out another instance's fetch (its lock) and then make our own.
      const timer = AbortSignal.timeout(lockTtlMs + deps.timeoutMs);
      try {
        await source.getToken({ signal: timer, log });
      } catch (error) {
        if (error === timer.reason) {
          throw new ResursCheckoutError('upstream_timeout', 'Resurs\' token endpoint did not answer in time.', { cause: error });
        }
        throw error;
      }
    },
    invalidate(token, log) {
      refused = token;
      if (cached?.token === token) cached = undefined;
      void storeFor(log)?.delete(storeKey);
    },
    current: () => (cached && cached.refreshAt > now() ? cached.token : undefined),
    async getToken(context: TokenContext) {
      if (cached && cached.refreshAt > now()) return cached.token;
      // The shared fetch is not tied to one request: each waiter stops at its own signal.
      const shared = singleFlight('token', async () => {
        const fresh = await sharedToken(context.log);
        cached = fresh;
        scheduleRefresh(fresh);
        return fresh;
      });
      const token = await untilAborted(shared, context.signal);
      return token.token;
    },
  };
  return source;
}

/** Maps a failed token fetch to the contract's answer. */
function tokenError(failure: UpstreamFailure, log: Logger): ResursCheckoutError {
  if (failure.kind === 'timeout') {
    log.warn({}, 'Resurs token endpoint did not answer in time.');
    return new ResursCheckoutError('upstream_timeout', 'Resurs did not answer in time. Try again shortly.', { cause: failure });
  }
  // Busy (429) or broken (5xx) is not a refusal of the credentials: try again later.
  if (failure.kind === 'network' || (failure.status !== undefined && (failure.status >= 500 || failure.status === 429))) {
    if (failure.kind === 'network') log.warn({ reason: failure.message }, 'Resurs token endpoint could not be reached.');
    return new ResursCheckoutError('upstream_unavailable', 'Resurs is unavailable right now. Try again shortly.', {
      cause: failure,
      ...(failure.retryAfterMs !== undefined ? { retryAfter: failure.retryAfterMs / 1000 } : {}),
    });
  }
  if (failure.kind !== 'status') log.error({ reason: failure.message }, 'Resurs token endpoint answered something unusable.');
  return new ResursCheckoutError('upstream_error', 'Resurs refused the shop\'s credentials. The shop needs to check its Resurs set-up.', {
    cause: failure,
  });
}
