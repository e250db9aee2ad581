/**
 * Child entry: the `router` target of bench/target.ts with a real OpenTelemetry SDK registered
 * first, as a merchant's app in production would: NodeTracerProvider (AsyncLocalStorage context,
 * W3C propagator) with a BatchSpanProcessor, and a MeterProvider with a periodic reader, both
 * exporting to exporters that drop what they get (no network; the SDK's own work is measured, an
 * exporter's wire cost is not). Same args and ready line as bench/target.ts.
 */
import { metrics } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

let exportedSpans = 0;
const dropSpans: SpanExporter = {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void) {
    exportedSpans += spans.length;
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: () => Promise.resolve(),
};
const dropMetrics: PushMetricExporter = {
  export: (_metrics, done: (result: ExportResult) => void) => done({ code: ExportResultCode.SUCCESS }),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropSpans, { maxQueueSize: 8192, maxExportBatchSize: 512 })] }).register();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 5_000 })] }));
process.on('exit', () => process.stderr.write(`router-otel: ${exportedSpans} spans exported\n`));

// bench/target.ts reads its target from argv: this process serves `router`.
require('./target');
