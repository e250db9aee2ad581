/**
 * One autocannon run, bounded in time, and the figures the report keeps. p50 and p99 come from
 * each 2xx answer's own time (bench/latency.ts), not from autocannon's whole-millisecond
 * histogram; `autocannonP99Ms` keeps the histogram's figure beside it.
 */
import autocannon from 'autocannon';
import { percentile, sortedAscending } from './latency';

export interface LoadSpec {
  /** Full URL of the endpoint. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** When set, requests rotate through these X-Cart-Id values. */
  cartIds?: string[];
  connections: number;
  durationSeconds: number;
  /** Requests per second across all connections; unset means as fast as the target answers. */
  overallRate?: number | undefined;
}

export interface LoadFigures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** autocannon's own p99, in whole milliseconds. */
  autocannonP99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function runLoad(spec: LoadSpec): Promise<LoadFigures> {
  const { pathname } = new URL(spec.url);
  const base = { method: 'POST' as const, path: pathname, headers: spec.headers, body: spec.body };
  const requests = spec.cartIds?.map((id) => ({ ...base, headers: { ...spec.headers, 'x-cart-id': id } }));
  const samplesMs: number[] = [];
  const options: autocannon.Options = {
    url: spec.url,
    method: 'POST',
    headers: spec.headers,
    body: spec.body,
    ...(requests ? { requests } : {}),
    connections: spec.connections,
    pipelining: 1,
    duration: spec.durationSeconds,
    timeout: 10,
    ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
  };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(options, (error, done) => (error ? reject(error) : resolve(done)));
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) samplesMs.push(responseTimeMs);
    });
  });
  const sorted = sortedAscending(samplesMs);
  const ok = result['2xx'];
  return {
    rps: round(ok / result.duration, 1),
    p50Ms: round(percentile(sorted, 50), 2),
    p99Ms: round(percentile(sorted, 99), 2),
    autocannonP99Ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
