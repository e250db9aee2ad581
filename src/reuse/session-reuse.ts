import { createHash } from 'node:crypto';
import type { Logger } from '../logger';
import type { CheckoutSession } from '../resurs/session';
import { guardStore } from '../store/guarded-store';
import type { SessionStore } from '../store/session-store';
import { getOrCreateShared } from '../store/shared-value';
import { createSingleFlight } from '../store/single-flight';

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
  /** Receives store warnings when `get` is not given a per-request logger. */
  logger: Logger;
  /** Clock in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Lifetime of the cross-instance creation lock (stores with `add`). Default 15 000. */
  lockTtlMs?: number;
  /** How often an instance waiting on another's lock looks for the session. Default 25. */
  pollMs?: number;
  /** Longest wait for one store call before going on without it. Default 500. */
  storeTimeoutMs?: number;
  /** After a store call fails, go on without the store for this long. Default 1000. */
  storeCoolDownMs?: number;
}

/** Hands out a stored session for a key and campaign while it is fresh, else creates and stores one. */
export interface SessionReuse {
  /**
   * The fresh session stored for (`key`, `campaign`), or the one `create` makes. Concurrent calls
   * for the same pair share one `create` (across instances too, when the store has `add`).
   * Rejects only when `create` does; store failures are logged on `log` and ignored.
   */
  get(key: string, campaign: string | undefined, create: () => Promise<CheckoutSession>, log?: Logger): Promise<CheckoutSession>;
}

const WHAT = 'session reuse';

/** Builds the reuse layer over a store. See {@link SessionReuse}. */
export function createSessionReuse(options: SessionReuseOptions): SessionReuse {
  const { marginSeconds, logger } = options;
  if (!Number.isFinite(marginSeconds) || marginSeconds < 0) {
    throw new TypeError(`createSessionReuse: marginSeconds must be a non-negative number, got ${String(marginSeconds)}`);
  }
  const now = options.now ?? Date.now;
  const namespace = options.namespace ?? '';
  const marginMs = marginSeconds * 1000;
  const lockTtlMs = options.lockTtlMs ?? 15_000;
  const pollMs = options.pollMs ?? 25;
  const guard = (log: Logger): SessionStore =>
    guardStore(options.store, { timeoutMs: options.storeTimeoutMs, coolDownMs: options.storeCoolDownMs, logger: log, what: WHAT });
  const defaultStore = guard(logger);
  const flight = createSingleFlight<CheckoutSession>();

  /** The fresh stored session, if any; a corrupt one is ignored, with a warning when `log` is given. */
  async function read(store: SessionStore, storageKey: string, log: Logger | undefined): Promise<CheckoutSession | undefined> {
    const raw = await store.get(storageKey);
    if (raw === undefined) return undefined;
    const session = parseSession(raw);
    if (!session) {
      log?.warn({ op: 'get' }, `${WHAT}: ignoring a stored session that is not a valid session`);
      return undefined;
    }
    return Date.parse(session.expiresAt) - now() > marginMs ? session : undefined;
  }

  async function createAndStore(store: SessionStore, storageKey: string, create: () => Promise<CheckoutSession>): Promise<CheckoutSession> {
    const session = await create();
    const ttlMs = Date.parse(session.expiresAt) - now() - marginMs;
    if (ttlMs > 0) await store.set(storageKey, JSON.stringify(pick(session)), ttlMs);
    return session;
  }

  function run(store: SessionStore, storageKey: string, create: () => Promise<CheckoutSession>, log: Logger): Promise<CheckoutSession> {
    return getOrCreateShared(store, `lock:${storageKey}`, {
      read: () => read(store, storageKey, log),
      reread: () => read(store, storageKey, undefined),
      create: () => createAndStore(store, storageKey, create),
      lockTtlMs,
      pollMs,
      onGiveUp: () => log.warn({ op: 'lock' }, `${WHAT}: another instance held the creation lock too long, creating a session anyway`),
    });
  }

  return {
    get(key, campaign, create, log) {
      const storageKey = `session:${createHash('sha256').update(JSON.stringify([namespace, key, campaign ?? null])).digest('hex')}`;
      const store = log ? guard(log) : defaultStore;
      return flight(storageKey, () => run(store, storageKey, create, log ?? logger));
    },
  };
}

function pick(session: CheckoutSession): CheckoutSession {
  return { id: session.id, expiresAt: session.expiresAt, embed: { src: session.embed.src } };
}

/** The stored JSON as a session, or `undefined` when it is not one. */
function parseSession(raw: string): CheckoutSession | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { id, expiresAt, embed } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || typeof expiresAt !== 'string' || Number.isNaN(Date.parse(expiresAt))) return undefined;
  if (typeof embed !== 'object' || embed === null) return undefined;
  const { src } = embed as Record<string, unknown>;
  if (typeof src !== 'string' || src === '') return undefined;
  return { id, expiresAt, embed: { src } };
}
