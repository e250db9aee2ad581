/**
 * Metrics without tracing, and an SDK registered after the router was made: the instruments are
 * found then, no span is made and no traceparent is sent.
 */
import request from 'supertest';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { usePaymentsHarness } from '../helpers/payments-app';

const harness = usePaymentsHarness();

test('a MeterProvider registered after createCheckoutRouter is used; nothing is propagated', async () => {
  const shop = await harness.shop();
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const provider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(provider);
  try {
    await request(shop.url).post('/checkout/session').send({}).expect(201);
    await reader.forceFlush();
    const names = exporter
      .getMetrics()
      .flatMap((r) => r.scopeMetrics)
      .filter((s) => s.scope.name === 'express-resurs-checkout')
      .flatMap((s) => s.metrics.map((m) => m.descriptor.name));
    expect(new Set(names)).toEqual(new Set(['resurs_checkout.request.duration', 'resurs_checkout.upstream.duration', 'resurs_checkout.sessions']));
    expect(harness.standIn.sessionRequests[0]!.headers.traceparent).toBeUndefined();
  } finally {
    await provider.shutdown();
    metrics.disable();
  }
});
