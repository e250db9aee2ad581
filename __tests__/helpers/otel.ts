/**
 * A real OpenTelemetry SDK for a test file: tracing into an InMemorySpanExporter (with the
 * AsyncLocalStorage context manager and the W3C propagator, as NodeTracerProvider.register()
 * sets them up) and metrics into an InMemoryMetricExporter, read on demand.
 */
import { metrics, trace, context, propagation } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { DataPoint, Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TestSdk {
  spans(): ReadableSpan[];
  /** Collects now and returns every metric point exported so far (cumulative). */
  collect(): Promise<ResourceMetrics[]>;
  /** The data points of `name` in the last collection. */
  points(name: string): Promise<DataPoint<number | Histogram>[]>;
  reset(): void;
  shutdown(): Promise<void>;
}

export function registerTestSdk(): TestSdk {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  tracerProvider.register();
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);

  const sdk: TestSdk = {
    spans: () => spanExporter.getFinishedSpans(),
    async collect() {
      await reader.forceFlush();
      return metricExporter.getMetrics();
    },
    async points(name) {
      const all = await sdk.collect();
      const last = all[all.length - 1];
      const metric = last?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
      return (metric?.dataPoints ?? []) as DataPoint<number | Histogram>[];
    },
    reset() {
      spanExporter.reset();
      metricExporter.reset();
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
      propagation.disable();
    },
  };
  return sdk;
}

/** The point whose attributes include `match`. */
export function pointWith<T>(points: DataPoint<T>[], match: Attributes): DataPoint<T> | undefined {
  return points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

/** Spans by name. */
export function named(spans: ReadableSpan[], name: string): ReadableSpan[] {
  return spans.filter((s) => s.name === name);
}

/** The span's parent span id (SDK 2.x: `parentSpanContext`). */
export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/** Everything a span carries that an exporter would send, as one JSON text. */
export function serializeSpans(spans: ReadableSpan[]): string {
  return JSON.stringify(
    spans.map((s) => ({
      name: s.name,
      kind: s.kind,
      attributes: s.attributes,
      events: s.events,
      links: s.links,
      status: s.status,
      resource: s.resource.attributes,
      scope: s.instrumentationScope,
    })),
  );
}
