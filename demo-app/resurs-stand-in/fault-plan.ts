/** Fault plans: validation and the order in which faults are handed out. */
import type { Fault, FaultPlan } from './types';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_DELAY_MS = 10 * 60 * 1000;
const MAX_OVERSIZED_BYTES = 1024 * 1024 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Check one fault; returns it typed, or throws TypeError naming what is wrong. */
export function parseFault(value: unknown, where = 'fault'): Fault {
  if (!isRecord(value)) throw new TypeError(`${where} must be an object with a "kind"`);
  switch (value.kind) {
    case 'latency':
      if (!isInt(value.ms, 0, MAX_DELAY_MS)) throw new TypeError(`${where}.ms must be an integer 0..${MAX_DELAY_MS}`);
      return { kind: 'latency', ms: value.ms };
    case 'status':
    case 'record-then-status': {
      if (!isInt(value.status, 200, 599)) throw new TypeError(`${where}.status must be an integer 200..599`);
      const headers = value.headers;
      if (headers !== undefined && (!isRecord(headers) || !Object.values(headers).every((h) => typeof h === 'string'))) {
        throw new TypeError(`${where}.headers must map names to strings`);
      }
      const fault: Extract<Fault, { kind: 'status' | 'record-then-status' }> = { kind: value.kind, status: value.status };
      if ('body' in value) fault.body = value.body;
      if (headers !== undefined) fault.headers = headers as Record<string, string>;
      return fault;
    }
    case 'customer-url':
      if (typeof value.url !== 'string' || value.url === '') throw new TypeError(`${where}.url must be a non-empty string`);
      return { kind: 'customer-url', url: value.url };
    case 'redirect': {
      if (typeof value.location !== 'string' || value.location === '') throw new TypeError(`${where}.location must be a non-empty string`);
      const status = value.status ?? 302;
      if (typeof status !== 'number' || !REDIRECT_STATUSES.has(status)) throw new TypeError(`${where}.status must be one of 301, 302, 303, 307, 308`);
      return { kind: 'redirect', location: value.location, status };
    }
    case 'oversized':
      if (!isInt(value.bytes, 0, MAX_OVERSIZED_BYTES)) throw new TypeError(`${where}.bytes must be an integer 0..${MAX_OVERSIZED_BYTES}`);
      if (typeof value.announceLength !== 'boolean') throw new TypeError(`${where}.announceLength must be a boolean`);
      return { kind: 'oversized', bytes: value.bytes, announceLength: value.announceLength };
    case 'malformed-json':
    case 'wrong-shape':
    case 'past-expiry':
    case 'foreign-script':
    case 'endless':
    case 'drop':
    case 'reset-mid-answer':
    case 'hang':
    case 'record-then-drop':
    case 'record-then-hang':
      return { kind: value.kind };
    default:
      throw new TypeError(`${where}.kind ${JSON.stringify(value.kind)} is not a known fault kind`);
  }
}

/** Check a whole plan (`null`/`undefined` means "no faults"); throws TypeError when invalid. */
export function parseFaultPlan(value: unknown): FaultPlan | null {
  if (value === null || value === undefined) return null;
  if (!isRecord(value)) throw new TypeError('fault plan must be an object or null');
  const plan: FaultPlan = {};
  if (value.queue !== undefined) {
    if (!Array.isArray(value.queue)) throw new TypeError('queue must be an array of faults');
    plan.queue = value.queue.map((f, i) => parseFault(f, `queue[${i}]`));
  }
  if (value.always !== undefined) plan.always = parseFault(value.always, 'always');
  if (value.ratio !== undefined) {
    const ratio = value.ratio;
    if (!isRecord(ratio) || typeof ratio.share !== 'number' || !(ratio.share >= 0 && ratio.share <= 1)) {
      throw new TypeError('ratio must be {share: 0..1, fault}');
    }
    plan.ratio = { share: ratio.share, fault: parseFault(ratio.fault, 'ratio.fault') };
  }
  if (value.seed !== undefined) {
    if (!isInt(value.seed, 0, 0xffffffff)) throw new TypeError('seed must be an integer 0..2^32-1');
    plan.seed = value.seed;
  }
  return plan;
}

/** mulberry32: a tiny seedable PRNG giving floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hands out faults from a plan: the queue first, then `always`, then `ratio` at random. */
export class FaultSelector {
  private queue: Fault[] = [];
  private always: Fault | undefined;
  private ratio: FaultPlan['ratio'];
  private random: () => number = Math.random;

  /** Replace the plan (validated); `null` clears it. */
  set(plan: FaultPlan | null): void {
    const checked = parseFaultPlan(plan);
    this.queue = checked?.queue ? [...checked.queue] : [];
    this.always = checked?.always;
    this.ratio = checked?.ratio;
    this.random = seededRandom(checked?.seed ?? Math.floor(Math.random() * 0xffffffff));
  }

  /** The fault for the next request, if any. */
  next(): Fault | undefined {
    const queued = this.queue.shift();
    if (queued) return queued;
    if (this.always) return this.always;
    if (this.ratio && this.random() < this.ratio.share) return this.ratio.fault;
    return undefined;
  }
}
