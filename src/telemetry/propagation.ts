/**
 * The W3C trace context sent to Resurs with every attempt, through the propagator the
 * application registered. Only `traceparent` and `tracestate` ever leave: the application's
 * baggage (or any other propagator's headers) is not Resurs' to read. With no SDK registered the
 * propagator is a no-op and nothing is added.
 */
import { propagation } from '@opentelemetry/api';
import type { Context, TextMapSetter } from '@opentelemetry/api';

const W3C_ONLY: TextMapSetter<Record<string, string>> = {
  set(carrier, key, value) {
    if (key === 'traceparent' || key === 'tracestate') carrier[key] = value;
  },
};

export function injectTraceContext(context: Context | undefined, headers: Record<string, string>): void {
  if (context !== undefined) propagation.inject(context, headers, W3C_ONLY);
}
