/**
 * With no OpenTelemetry SDK registered (the default): nothing is propagated to Resurs, the
 * package's spans do not record, and the routes answer as always.
 */
import request from 'supertest';
import { trace } from '@opentelemetry/api';
import { tracer } from '../../src/telemetry/tracer';
import { INVOICE, creates, usePaymentsHarness } from '../helpers/payments-app';

const harness = usePaymentsHarness();

test('no traceparent reaches Resurs and spans are non-recording', async () => {
  const { standIn } = harness;
  const shop = await harness.shop();
  harness.freshCart();
  await request(shop.url).post('/checkout/session').send({}).expect(201);
  await request(shop.url).post('/checkout/payment').send({ paymentMethodId: INVOICE }).expect(201);
  expect(standIn.sessionRequests[0]!.headers.traceparent).toBeUndefined();
  expect(creates(standIn)[0]!.headers.traceparent).toBeUndefined();
  const span = tracer().startSpan('x');
  expect(span.isRecording()).toBe(false);
  expect(trace.getActiveSpan()).toBeUndefined();
  span.end();
});
