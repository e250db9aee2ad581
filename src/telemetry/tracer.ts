/**
 * The package's tracer, from the OpenTelemetry API (`express-resurs-checkout`), or undefined
 * while no SDK is registered: then the package makes no span at all (not even a non-recording
 * one). Looked up again only when the registered provider changes.
 */
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import type { Span, Tracer, TracerProvider } from '@opentelemetry/api';
import { VERSION } from '../version';
import { INSTRUMENTATION_NAME } from './metrics';

/** The API's ProxyTracerProvider (of any copy of the API): its delegate is the SDK's provider. */
interface Delegating {
  getDelegate(): TracerProvider;
  getDelegateTracer(name: string, version?: string): Tracer | undefined;
}

let cached: { delegate: TracerProvider; tracer: Tracer | undefined } | undefined;

export function tracer(): Tracer | undefined {
  const provider = trace.getTracerProvider();
  if (typeof (provider as Partial<Delegating>).getDelegateTracer !== 'function') return provider.getTracer(INSTRUMENTATION_NAME, VERSION);
  const proxy = provider as unknown as Delegating;
  const delegate = proxy.getDelegate();
  if (cached?.delegate !== delegate) cached = { delegate, tracer: proxy.getDelegateTracer(INSTRUMENTATION_NAME, VERSION) };
  return cached.tracer;
}

/** Stands in for a span while no SDK is registered. */
export const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
