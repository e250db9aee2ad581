/**
 * With no OpenTelemetry SDK registered (the default): nothing is propagated to Resurs, the
 * package makes no span and measures nothing, and the routes answer as always.
 */
import request from 'supertest';
import { trace } from '@opentelemetry/api';
import { instruments } from '../../src/telemetry/metrics';
import { tracer } from '../../src/telemetry/tracer';
import { INVOICE, creates, usePaymentsHarness } from '../helpers/payments-app';

const harness = usePaymentsHarness();

test('no traceparent reaches Resurs and no span is made', async () => {
  const { standIn } = harness;
  const shop = await harness.shop();
  harness.freshCart();
  await request(shop.url).post('/checkout/session').send({}).expect(201);
  await request(shop.url).post('/checkout/payment').send({ paymentMethodId: INVOICE }).expect(201);
  expect(standIn.sessionRequests[0]!.headers.traceparent).toBeUndefined();
  expect(creates(standIn)[0]!.headers.traceparent).toBeUndefined();
  // No SDK: the package does not even make non-recording spans, nor build attributes.
  expect(tracer()).toBeUndefined();
  expect(instruments().enabled).toBe(false);
  expect(trace.getActiveSpan()).toBeUndefined();
});
