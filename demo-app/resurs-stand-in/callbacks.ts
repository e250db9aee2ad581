/**
 * Callback delivery: Resurs POSTing authorization and management callbacks to the merchant, with
 * retries, and the misbehaviours (delay, duplicates, out of order, forged, none) tests ask for.
 */
import http from 'node:http';
import https from 'node:https';
import type {
  AuthorizationCallbackBody,
  CallbackDelivery,
  CallbackKind,
  CallbackMode,
  CallbackRecord,
  ManagementCallbackBody,
} from './types';

/** One callback to send. */
export interface CallbackEvent {
  kind: CallbackKind;
  paymentId: string;
  orderReference: string;
  /** The URL given on create; nothing is sent when there is none. */
  url: string | undefined;
  body: AuthorizationCallbackBody | ManagementCallbackBody;
}

/** What the dispatcher needs from the stand-in. */
export interface CallbackDispatcherDeps {
  /** Records kept; the oldest are dropped past this. */
  maxRecords: number;
  /** Retry policy to start with (and to go back to on reset). */
  delivery: CallbackDelivery;
  /** Another order's callback URL of this kind, for `forged` `other-ref`; undefined when none. */
  otherUrl(kind: CallbackKind, paymentId: string, orderReference: string): string | undefined;
}

/** The default retry policy. */
export const DEFAULT_CALLBACK_DELIVERY: Readonly<CallbackDelivery> = Object.freeze({ maxAttempts: 3, retryIntervalMs: 100, timeoutMs: 5000 });

const DEFAULT_HOLD_MS = 2000;
const MAX_DELAY_MS = 10 * 60 * 1000;
const NORMAL: CallbackMode = { mode: 'normal' };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Check a callback mode (`null`/`undefined` is `normal`); throws TypeError naming what is wrong. */
export function parseCallbackMode(value: unknown): CallbackMode {
  if (value === null || value === undefined) return NORMAL;
  if (!isRecord(value)) throw new TypeError('callback mode must be an object with a "mode"');
  const scope: { only?: CallbackKind } = {};
  if (value.only !== undefined) {
    if (value.only !== 'authorization' && value.only !== 'management') throw new TypeError('only must be "authorization" or "management"');
    scope.only = value.only;
  }
  switch (value.mode) {
    case 'normal':
    case 'before-redirect':
    case 'none':
      return { ...scope, mode: value.mode };
    case 'delay':
      if (!isInt(value.ms, 0, MAX_DELAY_MS)) throw new TypeError(`delay.ms must be an integer 0..${MAX_DELAY_MS}`);
      return { ...scope, mode: 'delay', ms: value.ms };
    case 'duplicate': {
      if (!isInt(value.times, 2, 20)) throw new TypeError('duplicate.times must be an integer 2..20');
      if (value.concurrent !== undefined && typeof value.concurrent !== 'boolean') throw new TypeError('duplicate.concurrent must be a boolean');
      return { ...scope, mode: 'duplicate', times: value.times, concurrent: value.concurrent === true };
    }
    case 'out-of-order': {
      const holdMs = value.holdMs ?? DEFAULT_HOLD_MS;
      if (!isInt(holdMs, 0, MAX_DELAY_MS)) throw new TypeError(`out-of-order.holdMs must be an integer 0..${MAX_DELAY_MS}`);
      return { ...scope, mode: 'out-of-order', holdMs };
    }
    case 'forged': {
      const variant = value.variant ?? 'both';
      if (variant !== 'bad-sig' && variant !== 'other-ref' && variant !== 'both') throw new TypeError('forged.variant must be "bad-sig", "other-ref" or "both"');
      if (value.genuine !== undefined && typeof value.genuine !== 'boolean') throw new TypeError('forged.genuine must be a boolean');
      return { ...scope, mode: 'forged', variant, genuine: value.genuine !== false };
    }
    default:
      throw new TypeError(`callback mode ${JSON.stringify(value.mode)} is not one of normal, delay, before-redirect, duplicate, out-of-order, forged, none`);
  }
}

/** Check a (partial) retry policy and merge it into `current`; throws TypeError when invalid. */
export function mergeCallbackDelivery(current: CallbackDelivery, value: unknown): CallbackDelivery {
  if (!isRecord(value)) throw new TypeError('callback delivery must be an object {maxAttempts?, retryIntervalMs?, timeoutMs?}');
  const next = { ...current };
  if (value.maxAttempts !== undefined) {
    if (!isInt(value.maxAttempts, 1, 10)) throw new TypeError('maxAttempts must be an integer 1..10');
    next.maxAttempts = value.maxAttempts;
  }
  if (value.retryIntervalMs !== undefined) {
    if (!isInt(value.retryIntervalMs, 0, 60_000)) throw new TypeError('retryIntervalMs must be an integer 0..60000');
    next.retryIntervalMs = value.retryIntervalMs;
  }
  if (value.timeoutMs !== undefined) {
    if (!isInt(value.timeoutMs, 1, 60_000)) throw new TypeError('timeoutMs must be an integer 1..60000');
    next.timeoutMs = value.timeoutMs;
  }
  return next;
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^::ffff:127\./.test(host);
}

/** `url` with its `sig` query value altered (or a bogus one added). */
export function alterSig(url: string): string {
  const match = /([?&]sig=)([^&#]*)/.exec(url);
  if (!match) return `${url}${url.includes('?') ? '&' : '?'}sig=forged`;
  const sig = match[2];
  const altered = sig === '' ? 'forged' : sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
  return url.slice(0, match.index) + match[1] + altered + url.slice(match.index + match[0].length);
}

/** `url` naming another order in its `ref` query value (the `sig` left as it was). */
export function alterRef(url: string, orderReference: string): string {
  const forged = encodeURIComponent(`${orderReference}-forged`);
  const match = /([?&]ref=)([^&#]*)/.exec(url);
  if (!match) return `${url}${url.includes('?') ? '&' : '?'}ref=${forged}`;
  return url.slice(0, match.index) + match[1] + forged + url.slice(match.index + match[0].length);
}

interface PostOutcome {
  status?: number;
  error?: string;
  /** Not sent at all (not a loopback URL): never retried. */
  refused?: boolean;
}

interface Held {
  event: CallbackEvent;
  timer: NodeJS.Timeout;
}

/** Sends callbacks per the current mode and retry policy, recording every attempt. */
export class CallbackDispatcher {
  private mode: CallbackMode = NORMAL;
  private delivery: CallbackDelivery;
  private records: CallbackRecord[] = [];
  private nextDeliveryId = 1;
  private pending = new Set<Promise<void>>();
  private readonly held = new Map<string, Held>();
  private readonly inFlight = new Set<http.ClientRequest>();
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  /** Bumped by reset/close: work started before stops and records nothing. */
  private generation = 0;
  private closed = false;

  constructor(private readonly deps: CallbackDispatcherDeps) {
    this.delivery = { ...deps.delivery };
  }

  /** Replace the mode (validated); `null` is `normal`. */
  setMode(mode: CallbackMode | null): void {
    this.mode = parseCallbackMode(mode);
  }

  /** Merge a partial retry policy (validated). */
  setDelivery(delivery: Partial<CallbackDelivery>): void {
    this.delivery = mergeCallbackDelivery(this.delivery, delivery);
  }

  /** Copies of the recorded attempts, in the order they finished. */
  list(): CallbackRecord[] {
    return structuredClone(this.records);
  }

  /** Attempts recorded since start or the last reset. */
  get count(): number {
    return this.records.length;
  }

  /**
   * Send `event` per the mode. Resolves when the caller may answer: at once, except in
   * `before-redirect`, where the delivery (retries included) comes first.
   */
  async dispatch(event: CallbackEvent): Promise<void> {
    if (event.url === undefined || this.closed) return;
    const mode = this.mode.only !== undefined && this.mode.only !== event.kind ? NORMAL : this.mode;
    const url = event.url;
    switch (mode.mode) {
      case 'none':
        return;
      case 'before-redirect':
        await this.deliver(event, url);
        return;
      case 'delay':
        this.track(async (gen) => {
          await this.sleep(mode.ms);
          if (gen === this.generation) await this.deliver(event, url);
        });
        return;
      case 'duplicate':
        this.track(async () => {
          if (mode.concurrent) {
            await Promise.all(Array.from({ length: mode.times }, () => this.deliver(event, url)));
            return;
          }
          for (let i = 0; i < mode.times; i += 1) await this.deliver(event, url);
        });
        return;
      case 'forged':
        this.track(async () => {
          if (mode.variant !== 'other-ref') await this.deliver(event, alterSig(url), 'bad-sig');
          if (mode.variant !== 'bad-sig') {
            const other = this.deps.otherUrl(event.kind, event.paymentId, event.orderReference) ?? alterRef(url, event.orderReference);
            await this.deliver(event, other, 'other-ref');
          }
          if (mode.genuine !== false) await this.deliver(event, url);
        });
        return;
      case 'out-of-order':
        this.hold(event, url, mode.holdMs ?? DEFAULT_HOLD_MS);
        return;
      default:
        this.track(() => this.deliver(event, url));
    }
  }

  /** Deliver every held callback now; resolves when they are done. */
  async flush(): Promise<void> {
    const released = [...this.held.values()];
    this.held.clear();
    await Promise.all(
      released.map((entry) => {
        clearTimeout(entry.timer);
        return this.deliver(entry.event, entry.event.url ?? '');
      }),
    );
  }

  /** Resolves once nothing is in flight or scheduled (held callbacks excepted). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Forget records, held and scheduled callbacks; abort deliveries in flight; mode and policy back to the start. */
  reset(): void {
    this.generation += 1;
    this.records = [];
    this.nextDeliveryId = 1;
    this.mode = NORMAL;
    this.delivery = { ...this.deps.delivery };
    this.stopAll();
  }

  /** Stop for good (server close). */
  close(): void {
    this.closed = true;
    this.generation += 1;
    this.stopAll();
  }

  private stopAll(): void {
    for (const entry of this.held.values()) clearTimeout(entry.timer);
    this.held.clear();
    for (const sleeper of this.sleepers) {
      clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
    for (const req of this.inFlight) req.destroy(new Error('stand-in reset'));
    this.inFlight.clear();
    this.pending = new Set();
  }

  /** Run `work` after the current answer has been written, tracked for `settled()`. */
  private track(work: (generation: number) => Promise<void>): void {
    const gen = this.generation;
    const pending = this.pending;
    const promise: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => (gen === this.generation ? work(gen) : undefined))
      .catch(() => undefined)
      .finally(() => pending.delete(promise));
    pending.add(promise);
  }

  private hold(event: CallbackEvent, url: string, holdMs: number): void {
    const earlier = this.held.get(event.paymentId);
    if (earlier) {
      clearTimeout(earlier.timer);
      this.held.delete(event.paymentId);
      this.track(async (gen) => {
        await this.deliver(event, url);
        if (gen === this.generation) await this.deliver(earlier.event, earlier.event.url ?? '');
      });
      return;
    }
    const timer = setTimeout(() => {
      if (this.held.get(event.paymentId)?.event !== event) return;
      this.held.delete(event.paymentId);
      this.track(() => this.deliver(event, url));
    }, holdMs);
    this.held.set(event.paymentId, { event, timer });
  }

  /** Wait `ms`; resolves early (doing nothing more) when reset or closed. */
  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = {
        timer: setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }

  /** One delivery: tries until a 2xx answer or `maxAttempts` (forged ones: once). */
  private async deliver(event: CallbackEvent, url: string, forged?: CallbackRecord['forged']): Promise<void> {
    const gen = this.generation;
    const deliveryId = this.nextDeliveryId++;
    const text = JSON.stringify(event.body);
    const { maxAttempts, retryIntervalMs, timeoutMs } = this.delivery;
    const attempts = forged ? 1 : maxAttempts;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const at = Date.now();
      const outcome = await this.post(url, text, timeoutMs);
      if (gen !== this.generation) return;
      const record: CallbackRecord = { deliveryId, kind: event.kind, url, body: structuredClone(event.body), attempt, at, durationMs: Date.now() - at };
      if (forged) record.forged = forged;
      if (outcome.status !== undefined) record.status = outcome.status;
      if (outcome.error !== undefined) record.error = outcome.error;
      this.records.push(record);
      if (this.records.length > this.deps.maxRecords) this.records.splice(0, this.records.length - this.deps.maxRecords);
      if (outcome.refused || (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300)) return;
      if (attempt < attempts) {
        await this.sleep(retryIntervalMs);
        if (gen !== this.generation) return;
      }
    }
  }

  /** POST `text` to a loopback `url`; never throws. */
  private post(url: string, text: string, timeoutMs: number): Promise<PostOutcome> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve({ error: 'refused: not a valid URL', refused: true });
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.resolve({ error: 'refused: not an http(s) URL', refused: true });
    if (!isLoopbackHost(target.hostname)) return Promise.resolve({ error: 'refused: not a loopback URL', refused: true });
    return new Promise((resolve) => {
      let settled = false;
      let status: number | undefined;
      const done = (outcome: PostOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(req);
        resolve(outcome);
      };
      const client = target.protocol === 'https:' ? https : http;
      const req = client.request(
        target,
        {
          method: 'POST',
          agent: false,
          headers: {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(text),
            Accept: '*/*',
            'User-Agent': 'resurs-stand-in-callbacks/1',
          },
        },
        (res) => {
          status = res.statusCode;
          res.resume();
          res.on('end', () => done({ status }));
          res.on('close', () => done({ status }));
          res.on('error', () => done({ status }));
        },
      );
      const timer = setTimeout(() => {
        done(status === undefined ? { error: 'timeout' } : { status });
        req.destroy();
      }, timeoutMs);
      this.inFlight.add(req);
      req.on('error', (error: NodeJS.ErrnoException) => done(status === undefined ? { error: error.code ?? error.message } : { status }));
      req.end(text);
    });
  }
}
