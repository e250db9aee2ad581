/** One autocannon run, bounded in time, and the figures the report keeps. */
import autocannon from 'autocannon';

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
  const result = await autocannon({
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
  });
  const ok = result['2xx'];
  return {
    rps: round(ok / result.duration, 1),
    p50Ms: round(result.latency.p50, 2),
    p99Ms: round(result.latency.p99, 2),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
