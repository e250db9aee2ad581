/** Acting out a fault on a live response. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FAULT_RAW_SECRET_MARKER } from './constants';
import { Timers, sendJson, writable } from './http-util';
import type { Fault } from './types';

/** What a route contributes to a fault: its success status and sample bodies. */
export interface FaultAnswers {
  /** Status of a normal answer (201 Create Session, 200 token). */
  successStatus: number;
  /** A valid-looking JSON object of a normal answer, used to start oversized/endless/partial bodies. */
  sample: () => Record<string, unknown>;
  /** Valid JSON with missing or wrongly typed fields. */
  wrongShape: unknown;
}

/** `answered`: the fault produced (or withheld) the answer; `continue`: answer normally. */
export type FaultOutcome = 'answered' | 'continue';

const CHUNK_BYTES = 16 * 1024;
const FILLER = Buffer.alloc(CHUNK_BYTES, 'x');
const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

/** Default body of a `status` fault: carries raw text that must never be shown to a shopper. */
export function defaultStatusBody(status: number): Record<string, string> {
  return { error: `Simulated upstream failure (HTTP ${status})`, detail: FAULT_RAW_SECRET_MARKER };
}

/** Write chunks from `next` until it returns null (then end) or the client goes away. */
function pump(res: ServerResponse, next: () => Buffer | null): void {
  const write = (): void => {
    while (!res.destroyed && !res.writableEnded) {
      const chunk = next();
      if (chunk === null) {
        res.end();
        return;
      }
      if (!res.write(chunk)) {
        res.once('drain', write);
        return;
      }
    }
  };
  write();
}

/** JSON text of `sample` with its closing brace replaced by an open padding string. */
function paddedPrefix(answers: FaultAnswers): string {
  return JSON.stringify(answers.sample()).slice(0, -1) + ',"padding":"';
}

function sendOversized(res: ServerResponse, bytes: number, announceLength: boolean, answers: FaultAnswers): void {
  const suffix = '"}';
  const prefix = paddedPrefix(answers);
  const headers: Record<string, string | number> = { ...JSON_HEADERS };
  if (announceLength) headers['Content-Length'] = bytes;
  res.writeHead(answers.successStatus, headers);
  if (bytes < prefix.length + suffix.length) {
    res.end((prefix + suffix).slice(0, bytes));
    return;
  }
  let fill = bytes - prefix.length - suffix.length;
  let stage: 'prefix' | 'fill' | 'suffix' | 'done' = 'prefix';
  pump(res, () => {
    if (stage === 'prefix') {
      stage = 'fill';
      return Buffer.from(prefix);
    }
    if (stage === 'fill' && fill > 0) {
      const size = Math.min(fill, CHUNK_BYTES);
      fill -= size;
      return size === CHUNK_BYTES ? FILLER : FILLER.subarray(0, size);
    }
    if (stage !== 'done') {
      stage = 'done';
      return Buffer.from(suffix);
    }
    return null;
  });
}

function sendEndless(res: ServerResponse, answers: FaultAnswers): void {
  res.writeHead(answers.successStatus, JSON_HEADERS);
  let started = false;
  pump(res, () => {
    if (started) return FILLER;
    started = true;
    return Buffer.from(paddedPrefix(answers));
  });
}

function sendPartial(res: ServerResponse, answers: FaultAnswers): void {
  const text = JSON.stringify(answers.sample());
  res.writeHead(answers.successStatus, { ...JSON_HEADERS, 'Content-Length': Buffer.byteLength(text) });
  res.write(text.slice(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
}

function sendStatus(res: ServerResponse, fault: Extract<Fault, { kind: 'status' | 'record-then-status' }>): void {
  const body = 'body' in fault ? fault.body : defaultStatusBody(fault.status);
  if (typeof body === 'string') {
    res.writeHead(fault.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...fault.headers });
    res.end(body);
    return;
  }
  sendJson(res, fault.status, body ?? null, fault.headers);
}

/**
 * Act out `fault` on `res`. `latency` waits and then lets the route answer normally; so do
 * `past-expiry`, `foreign-script` and `customer-url`, which only the route can shape (it reads
 * `fault.kind`). The `record-then-*` kinds act like `drop`, `hang` and `status` here: a route with
 * something to record (Merchant API create and actions) records it before calling this.
 */
export async function applyFault(
  fault: Fault,
  req: IncomingMessage,
  res: ServerResponse,
  timers: Timers,
  answers: FaultAnswers,
): Promise<FaultOutcome> {
  if (fault.kind === 'latency') {
    await timers.delay(fault.ms);
    return 'continue';
  }
  if (fault.kind === 'past-expiry' || fault.kind === 'foreign-script' || fault.kind === 'customer-url') return 'continue';
  if (!writable(res)) return 'answered';
  switch (fault.kind) {
    case 'status':
    case 'record-then-status':
      sendStatus(res, fault);
      break;
    case 'malformed-json': {
      const text = '{"id": "' + String(answers.sample().id ?? 'x') + '", "expiresAt": ';
      res.writeHead(answers.successStatus, { ...JSON_HEADERS, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      break;
    }
    case 'wrong-shape':
      sendJson(res, answers.successStatus, answers.wrongShape);
      break;
    case 'redirect':
      res.writeHead(fault.status ?? 302, { Location: fault.location, 'Content-Length': 0 });
      res.end();
      break;
    case 'oversized':
      sendOversized(res, fault.bytes, fault.announceLength, answers);
      break;
    case 'endless':
      sendEndless(res, answers);
      break;
    case 'drop':
    case 'record-then-drop':
      req.socket.resetAndDestroy();
      break;
    case 'reset-mid-answer':
      sendPartial(res, answers);
      break;
    case 'hang':
    case 'record-then-hang':
      break;
  }
  return 'answered';
}
