import type { SessionStore } from './session-store';

/** Options for {@link MemorySessionStore}. */
export interface MemorySessionStoreOptions {
  /** Most entries kept at once; when full, expired entries go first, then the oldest set. Default 10 000. */
  maxEntries?: number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * An in-process {@link SessionStore}: bounded and expiring, with no background timers.
 * An expired entry is never returned; expired entries are dropped when read and when room is needed.
 * Shared by nothing outside this process: use {@link RedisSessionStore} for several instances.
 */
export class MemorySessionStore implements SessionStore {
  readonly #maxEntries: number;
  /** Insertion order is set order: the first entry is the least recently set. */
  readonly #entries = new Map<string, Entry>();
  /** No entry expires before this instant, so a sweep before it would free nothing. */
  #nextExpiry = Infinity;

  constructor(options: MemorySessionStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`MemorySessionStore: maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    this.#maxEntries = maxEntries;
  }

  /** Number of entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#live(key, Date.now())?.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#put(key, value, ttlMs, Date.now());
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async add(key: string, value: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    if (this.#live(key, now)) return false;
    this.#put(key, value, ttlMs, now);
    return true;
  }

  async deleteIfEquals(key: string, value: string): Promise<boolean> {
    if (this.#live(key, Date.now())?.value !== value) return false;
    this.#entries.delete(key);
    return true;
  }

  #live(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #put(key: string, value: string, ttlMs: number, now: number): void {
    this.#entries.delete(key); // re-inserting moves the key to the newest position
    if (!(ttlMs > 0)) return; // nothing to keep
    if (this.#entries.size >= this.#maxEntries) this.#makeRoom(now);
    const expiresAt = now + ttlMs;
    this.#entries.set(key, { value, expiresAt });
    this.#nextExpiry = Math.min(this.#nextExpiry, expiresAt);
  }

  #makeRoom(now: number): void {
    if (now >= this.#nextExpiry) {
      let next = Infinity;
      for (const [key, entry] of this.#entries) {
        if (entry.expiresAt <= now) this.#entries.delete(key);
        else next = Math.min(next, entry.expiresAt);
      }
      this.#nextExpiry = next;
    }
    for (const key of this.#entries.keys()) {
      if (this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
