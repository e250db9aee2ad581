/**
 * `DEMO_OTEL=1 npm start`: the demo with a real OpenTelemetry SDK, the way a merchant's app would
 * register one (before it creates the router). Each finished span is printed as one line, name,
 * duration and parent, and the package's metrics every DEMO_OTEL_METRICS_MS (default 60 000) as
 * one line per data point. Without DEMO_OTEL=1 nothing is registered and the package's
 * telemetry stays a no-op. Imported first by start.ts.
 */
import { metrics } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;

/** One line per span: `[otel] <trace> <name> <duration> ms  parent=<span|root>  <attributes>`. */
export function spanLine(span: ReadableSpan): string {
  const duration = (ms(span.endTime) - ms(span.startTime)).toFixed(1);
  const parent = span.parentSpanContext?.spanId ?? 'root';
  const attributes = Object.entries(span.attributes)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  const events = span.events.map((e) => ` event=${e.name}`).join('');
  return `[otel] ${span.spanContext().traceId.slice(0, 8)} ${span.name.padEnd(30)} ${duration.padStart(7)} ms  span=${span.spanContext().spanId} parent=${parent}  ${attributes}${events}`;
}

class LineSpanExporter implements SpanExporter {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const span of spans) console.log(spanLine(span));
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class LineMetricExporter implements PushMetricExporter {
  export(resourceMetrics: ResourceMetrics, done: (result: ExportResult) => void): void {
    for (const metric of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
      for (const point of metric.dataPoints as { attributes: object; value: unknown }[]) {
        const value = typeof point.value === 'number' ? point.value : `count=${(point.value as { count: number }).count} sum=${(point.value as { sum?: number }).sum?.toFixed(4)}`;
        console.log(`[otel] ${metric.descriptor.name} ${JSON.stringify(point.attributes)} ${value}`);
      }
    }
    done({ code: ExportResultCode.SUCCESS });
  }
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

if (process.env.DEMO_OTEL === '1') {
  new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new LineSpanExporter())] }).register();
  const exportIntervalMillis = Number(process.env.DEMO_OTEL_METRICS_MS) > 0 ? Number(process.env.DEMO_OTEL_METRICS_MS) : 60_000;
  const reader = new PeriodicExportingMetricReader({ exporter: new LineMetricExporter(), exportIntervalMillis });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  console.log('[otel] OpenTelemetry SDK registered (DEMO_OTEL=1): one line per span below.');
}
