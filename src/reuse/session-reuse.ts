import { createHash } from 'node:crypto';
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { untilAborted } from '../resilience/abort';
import { DeadlineExceeded, createDeadline } from '../resilience/deadline';
import type { CheckoutSession } from '../resurs/session';
import { guardStore } from '../store/guarded-store';
import type { GuardedStore } from '../store/guarded-store';
import type { SessionStore } from '../store/session-store';
import { getOrCreateShared } from '../store/shared-value';
import { ERROR_STATUS } from '../errors';
import type { ErrorCode } from '../errors';
import type { StopSignal } from '../resilience/stop';

/** How long a failed creation is shared with the instances that waited for it. */
export const SHARED_FAILURE_MS = 2000;

/** Options for {@link createSessionReuse}. */
export interface SessionReuseOptions {
  /** Where sessions are kept; wrapped with `guardStore`, so its failures only cost reuse. */
  store: SessionStore;
  /** A stored session is reused only while it has more than this many seconds left. */
  marginSeconds: number;
  /**
   * Binds stored sessions to one Resurs store (e.g. `baseUrl/stores/storeId`), so routers for
   * different stores sharing one Redis never hand each other's sessions out. Default `''`.
   */
  namespace?: string;
  /**
   * The reading router's own answer check (e.g. `(stored) => checkSession(stored, rules)`): a
   * stored session is served only when it passes, since another router sharing the store may
   * be less strict. Returns the session, or the reason it was refused (our words, safe to log).
   * Default: only the shape is checked.
   */
  check?: (stored: unknown) => CheckoutSession | string;
  /** Receives store warnings when `get` is not given a per-request logger. */
  logger: Logger;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Lifetime of the cross-instance creation lock (stores with `add`). Default 15 000. */
  lockTtlMs?: number;
  /** First wait of an instance waiting on another's lock; it doubles up to `maxPollMs`. Default 25. */
  pollMs?: number;
  /** Longest wait between two looks while waiting on another instance's lock. Default 250. */
  maxPollMs?: number;
  /** Longest wait for one store call before going on without it. Default 500. */
  storeTimeoutMs?: number;
  /** Longest wait for the lock's set-if-absent before going on without the lock. Default 2000. */
  lockTimeoutMs?: number;
  /** After a store call fails, go on without the store for this long. Default 1000. */
  storeCoolDownMs?: number;
}

/** What bounds one request's wait for a session. */
export interface ReuseWait {
  /** The shopper's signal (the storefront went away): the wait stops with its reason. */
  signal?: StopSignal;
  /**
   * What is left of the request's budget (`deadlineMs` minus the time spent so far): when it runs
   * out the request rejects with 504 `upstream_timeout`, and never creates a second session.
   */
  budgetMs?: number;
}

/** Hands out a stored session for a key and campaign while it is fresh, else creates and stores one. */
export interface SessionReuse {
  /**
   * The fresh session stored for (`key`, `campaign`), or the one `create` makes. Concurrent calls
   * for the same pair share one `create` (across instances too, when the store has `add`); the
   * shared create is tied to no single request. Each caller stops at its own `wait`: a spent
   * budget rejects with ResursCheckoutError `upstream_timeout`, an aborted signal with its
   * reason. Otherwise rejects only when `create` does; store failures are logged on `log` and ignored.
   */
  get(key: string, campaign: string | undefined, create: () => Promise<CheckoutSession>, log?: Logger, wait?: ReuseWait): Promise<CheckoutSession>;
}

const WHAT = 'session reuse';

/** One shared run per storage key in this instance, stopped only when every caller has gone. */
interface Flight {
  run: Promise<CheckoutSession>;
  stop: AbortController;
  callers: number;
}

/** Builds the reuse layer over a store. See {@link SessionReuse}. */
export function createSessionReuse(options: SessionReuseOptions): SessionReuse {
  const { marginSeconds, logger } = options;
  if (!Number.isFinite(marginSeconds) || marginSeconds < 0) {
    throw new TypeError(`createSessionReuse: marginSeconds must be a non-negative number, got ${String(marginSeconds)}`);
  }
  const now = options.now ?? Date.now;
  const namespace = options.namespace ?? '';
  const check = options.check ?? parseSession;
  const marginMs = marginSeconds * 1000;
  const lockTtlMs = options.lockTtlMs ?? 15_000;
  const guard = (log: Logger): GuardedStore =>
    guardStore(options.store, {
      timeoutMs: options.storeTimeoutMs,
      lockTimeoutMs: options.lockTimeoutMs,
      coolDownMs: options.storeCoolDownMs,
      logger: log,
      what: WHAT,
    });
  const defaultStore = guard(logger);
  const flights = new Map<string, Flight>();

  /** The fresh stored session this router may serve, if any; a refused one is ignored, with a warning when `log` is given. */
  async function read(store: SessionStore, storageKey: string, log: Logger | undefined): Promise<CheckoutSession | undefined> {
    const raw = await store.get(storageKey);
    if (raw === undefined) return undefined;
    const stored = parseJson(raw);
    const shape = parseSession(stored);
    if (typeof shape === 'string') {
      log?.warn({ op: 'get' }, `${WHAT}: ignoring a stored session that is not a valid session`);
      return undefined;
    }
    if (Date.parse(shape.expiresAt) - now() <= marginMs) return undefined;
    const session = check === parseSession ? shape : check(stored);
    if (typeof session === 'string') {
      // Written by another router sharing the store; our own session replaces it.
      log?.warn({ op: 'get', reason: session }, `${WHAT}: ignoring a stored session this router would refuse: ${session}`);
      return undefined;
    }
    return session;
  }

  async function createAndStore(store: SessionStore, storageKey: string, create: () => Promise<CheckoutSession>): Promise<CheckoutSession> {
    const session = await create();
    const ttlMs = Date.parse(session.expiresAt) - now() - marginMs;
    if (ttlMs > 0) await store.set(storageKey, JSON.stringify(pick(session)), ttlMs);
    return session;
  }

  function run(store: GuardedStore, storageKey: string, create: () => Promise<CheckoutSession>, log: Logger, signal: StopSignal): Promise<CheckoutSession> {
    return getOrCreateShared(store, `lock:${storageKey}`, {
      read: () => read(store, storageKey, log),
      reread: () => read(store, storageKey, undefined),
      create: () => createAndStore(store, storageKey, create),
      lockTtlMs,
      pollMs: options.pollMs,
      maxPollMs: options.maxPollMs,
      signal,
      // A failed creation is shared with the instances waiting on its lock, for a moment: they
      // answer the same, instead of each calling Resurs again with what is left of their budget.
      shareFailure: async (error) => {
        if (error instanceof ResursCheckoutError) await store.set(`failed:${storageKey}`, error.code, SHARED_FAILURE_MS);
      },
      readFailure: async () => {
        const code = await store.get(`failed:${storageKey}`);
        return code !== undefined && code in ERROR_STATUS
          ? new ResursCheckoutError(code as ErrorCode, 'Another request for this checkout just failed at Resurs. Try again shortly.')
          : undefined;
      },
      onGiveUp: () => log.warn({ op: 'lock' }, `${WHAT}: another instance held the creation lock too long, creating a session anyway`),
    });
  }

  /** The flight for `storageKey`, started when there is none. */
  function flightFor(storageKey: string, start: (signal: StopSignal) => Promise<CheckoutSession>): Flight {
    const existing = flights.get(storageKey);
    if (existing) return existing;
    const stop = new AbortController();
    const flight: Flight = { run: start(stop.signal), stop, callers: 0 };
    flights.set(storageKey, flight);
    const forget = (): void => {
      if (flights.get(storageKey) === flight) flights.delete(storageKey);
    };
    flight.run.then(forget, forget);
    stop.signal.addEventListener('abort', forget, { once: true });
    return flight;
  }

  return {
    async get(key, campaign, create, log, wait = {}) {
      const storageKey = `session:${createHash('sha256').update(JSON.stringify([namespace, key, campaign ?? null])).digest('hex')}`;
      const store = log ? guard(log) : defaultStore;
      const requestLog = log ?? logger;
      const deadline = wait.budgetMs === undefined ? undefined : createDeadline(Math.max(0, wait.budgetMs), wait.signal);
      const signal = deadline?.signal ?? wait.signal;
      const flight = flightFor(storageKey, (stop) => run(store, storageKey, create, requestLog, stop));
      flight.callers++;
      try {
        return await (signal ? untilAborted(flight.run, signal) : flight.run);
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw waitEnded(error, requestLog);
        throw error;
      } finally {
        flight.callers--;
        // The last caller gone: stop waiting on another instance (a create already under way goes on).
        if (flight.callers === 0 && signal?.aborted) flight.stop.abort(signal.reason);
        deadline?.dispose();
      }
    },
  };
}

/** A spent budget is a timeout (504); the shopper leaving keeps its own reason. */
function waitEnded(reason: unknown, log: Logger): unknown {
  if (!(reason instanceof DeadlineExceeded)) return reason;
  log.warn({ op: 'wait', budgetMs: reason.budgetMs }, `${WHAT}: the request ran out of time (deadlineMs) waiting for the session another request is creating`);
  return new ResursCheckoutError('upstream_timeout', 'Resurs did not answer in time. Try again shortly.', { cause: reason });
}

function pick(session: CheckoutSession): CheckoutSession {
  return { id: session.id, expiresAt: session.expiresAt, embed: { src: session.embed.src } };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** The stored value as a session (shape only), or why it is not one. */
function parseSession(value: unknown): CheckoutSession | string {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const { id, expiresAt, embed } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt))) return 'no id or expiresAt';
  if (typeof embed !== 'object' || embed === null) return 'no embed';
  const { src } = embed as Record<string, unknown>;
  if (typeof src !== 'string' || src === '') return 'no embed.src';
  return { id, expiresAt, embed: { src } };
}
