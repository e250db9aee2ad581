/**
 * The package's instruments, from the OpenTelemetry API's meter `express-resurs-checkout`. With
 * no SDK registered the API hands out no-op instruments (`enabled` false), and the package skips
 * even building their attributes.
 * The instruments are looked up again only when the global MeterProvider changes, so an SDK
 * registered after the router was created is still used.
 */
import { createNoopMeter, metrics } from '@opentelemetry/api';
import type { Counter, Histogram, MeterProvider, UpDownCounter } from '@opentelemetry/api';
import { VERSION } from '../version';

export const INSTRUMENTATION_NAME = 'express-resurs-checkout';

/** Seconds; the HTTP semantic conventions' duration buckets. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface Instruments {
  /** False while no SDK's MeterProvider is registered (the instruments are no-ops). */
  enabled: boolean;
  /** Per storefront or callback request: `route`, `code` (our error code or 'ok'), `http.response.status_code`. */
  requestDuration: Histogram;
  /** Per upstream attempt: `server.address`, `resurs.operation`, `http.response.status_code` or `error.type`. */
  upstreamDuration: Histogram;
  /** Sessions answered: `reused` (true when the reuse store gave one back). */
  sessions: Counter;
  /** Payments Resurs answered to a create: `status`. */
  payments: Counter;
  /** Callbacks: `type` (authorization|management), `outcome` (handled|duplicate|refused|retry|invalid). */
  callbacks: Counter;
  /** Open circuit breakers per upstream host: 1 while open, 0 once closed. */
  breakerOpen: UpDownCounter;
}

function create(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(INSTRUMENTATION_NAME, VERSION);
  const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
  return {
    enabled: !(meter instanceof NOOP_METER_CLASS),
    requestDuration: meter.createHistogram('resurs_checkout.request.duration', {
      unit: 's',
      description: 'Duration of the checkout routes (session, payment, callbacks), by route and answer code.',
      advice,
    }),
    upstreamDuration: meter.createHistogram('resurs_checkout.upstream.duration', {
      unit: 's',
      description: 'Duration of each HTTP attempt to Resurs, by host and status.',
      advice,
    }),
    sessions: meter.createCounter('resurs_checkout.sessions', { unit: '{session}', description: 'Checkout sessions answered, created or reused.' }),
    payments: meter.createCounter('resurs_checkout.payments', { unit: '{payment}', description: 'Payments created at Resurs, by the status Resurs answered.' }),
    callbacks: meter.createCounter('resurs_checkout.callbacks', { unit: '{callback}', description: "Resurs' callbacks, by type and outcome." }),
    breakerOpen: meter.createUpDownCounter('resurs_checkout.breaker.open', {
      unit: '{breaker}',
      description: 'Circuit breakers open per upstream host (1 open, 0 closed).',
    }),
  };
}

/** The API's own no-op meter class, to tell "no SDK" apart. */
const NOOP_METER_CLASS = createNoopMeter().constructor as new () => unknown;

let cached: { provider: MeterProvider; instruments: Instruments } | undefined;

/** The instruments of the MeterProvider registered now (no-ops when there is none). */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cached?.provider !== provider) cached = { provider, instruments: create(provider) };
  return cached.instruments;
}
