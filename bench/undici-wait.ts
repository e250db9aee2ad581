/**
 * How long undici holds each request before writing it: from the request's creation
 * (`undici:request:create`) to its headers going on the socket (`undici:client:sendHeaders`).
 * On a reused keep-alive socket undici 7 and 8 first yield to the event loop's check phase
 * (GHSA-35p6-xmwp-9g52), so the wait is the rest of the loop's turn: the work of every other
 * request handled in that turn. `BENCH_UNDICI_WAIT=1` on a target prints it on exit (see target.ts).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { percentile, sortedAscending } from './latency';

/** Percentiles and mean of waits in µs. */
export interface WaitSummary {
  count: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
}

/** Nearest-rank percentiles of `waitsUs` (not modified); undefined when there are none. */
export function summariseWaits(waitsUs: readonly number[]): WaitSummary | undefined {
  if (waitsUs.length === 0) return undefined;
  const sorted = sortedAscending(waitsUs);
  const round = (n: number) => Math.round(n);
  return {
    count: sorted.length,
    meanUs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    p50Us: round(percentile(sorted, 50)),
    p90Us: round(percentile(sorted, 90)),
    p99Us: round(percentile(sorted, 99)),
    maxUs: round(sorted[sorted.length - 1]!),
  };
}

/** Keeps at most this many waits (the first ones; a run of a minute at 5000 requests/s fits). */
const MAX_WAITS = 1_000_000;

/** Starts recording; `stop()` unsubscribes and returns every wait so far, in µs. */
export function recordUndiciWaits(): { stop(): number[] } {
  const createdAt = new WeakMap<object, bigint>();
  const waits: number[] = [];
  const onCreate = (message: unknown) => {
    createdAt.set((message as { request: object }).request, process.hrtime.bigint());
  };
  const onSendHeaders = (message: unknown) => {
    const started = createdAt.get((message as { request: object }).request);
    if (started !== undefined && waits.length < MAX_WAITS) waits.push(Number(process.hrtime.bigint() - started) / 1_000);
  };
  diagnosticsChannel.subscribe('undici:request:create', onCreate);
  diagnosticsChannel.subscribe('undici:client:sendHeaders', onSendHeaders);
  return {
    stop() {
      diagnosticsChannel.unsubscribe('undici:request:create', onCreate);
      diagnosticsChannel.unsubscribe('undici:client:sendHeaders', onSendHeaders);
      return waits;
    },
  };
}
