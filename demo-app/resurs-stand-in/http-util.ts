/** Small HTTP helpers shared by the stand-in's routes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BODY_BYTES } from './constants';

/** A request body, or `tooLarge` when it went past the limit (the text is then cut off). */
export interface ReadBody {
  text: string;
  tooLarge: boolean;
}

/** Read the whole body as UTF-8, stopping at `limit` bytes. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<ReadBody> {
  const announced = Number(req.headers['content-length']);
  if (Number.isFinite(announced) && announced > limit) {
    req.resume();
    return Promise.resolve({ text: '', tooLarge: true });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (tooLarge: boolean): void => {
      if (done) return;
      done = true;
      resolve({ text: Buffer.concat(chunks).toString('utf8'), tooLarge });
    };
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        finish(true);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => finish(false));
    req.on('close', () => finish(false));
    req.on('error', () => finish(false));
  });
}

/** True while the response can still be written. */
export function writable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded && !res.headersSent;
}

/** Send a JSON answer (no-op when the client has gone). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (!writable(res)) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** 413 for a body over the limit; the connection is closed so the rest of the body is not read. */
export function sendTooLarge(res: ServerResponse): void {
  sendJson(res, 413, { message: `Request body over ${MAX_BODY_BYTES} bytes` }, { Connection: 'close' });
}

/** True when the peer is on a loopback address. */
export function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** Split `req.url` into path and query. */
export function splitUrl(rawUrl: string | undefined): { path: string; query: URLSearchParams } {
  const url = rawUrl ?? '/';
  const q = url.indexOf('?');
  if (q === -1) return { path: url, query: new URLSearchParams() };
  return { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

/** Timers that can all be cancelled at close, so no pending delay keeps the process alive. */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  /** Resolve after `ms` (at once for 0); never resolves if cleared first. */
  delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(timer);
        resolve();
      }, ms);
      this.pending.add(timer);
    });
  }

  /** Cancel every pending delay. */
  clear(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}

/** ISO 8601 instant without milliseconds, e.g. '2025-11-17T15:30:00Z'. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
