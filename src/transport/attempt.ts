/** One HTTP attempt of an operation, bounded by the attempt timeout and the request's deadline. */
import type { Context } from '@opentelemetry/api';
import type { AxiosInstance } from 'axios';
import type { Deadline } from '../resilience/deadline';
import { linkedStop } from '../resilience/stop';
import { injectTraceContext } from '../telemetry/propagation';
import { UpstreamFailure, statusFailure, transportFailure } from './failure';
import type { Operation } from './operation';

export interface AttemptRequest<T> {
  http: AxiosInstance;
  operation: Operation<T>;
  token: string;
  requestId: string;
  deadline: Deadline;
  timeoutMs: number;
}

/**
 * Sends once; resolves to the checked answer, or throws UpstreamFailure (or the deadline's reason).
 * `traceContext` (the attempt's span) goes to Resurs as W3C `traceparent` when an SDK is registered.
 */
export async function attemptOnce<T>(request: AttemptRequest<T>, traceContext?: Context): Promise<{ value: T; status: number }> {
  const { operation, deadline, timeoutMs } = request;
  if (deadline.signal.aborted) throw deadline.signal.reason;
  // When the deadline comes first, only its signal stops the attempt, so the answer is always
  // told as "out of time" (DeadlineExceeded), never raced by an attempt timer firing at the same ms.
  const attempt = linkedStop(deadline.signal, timeoutMs < deadline.remaining() ? timeoutMs : undefined);
  const headers: Record<string, string> = { Authorization: `Bearer ${request.token}`, 'X-Request-Id': request.requestId };
  if (operation.body !== undefined) headers['Content-Type'] = 'application/json';
  injectTraceContext(traceContext, headers);
  try {
    const response = await request.http.request<string>({
      method: operation.method,
      url: operation.url,
      data: operation.body,
      headers,
      signal: attempt.stop,
    });
    if (!operation.success.includes(response.status)) throw statusFailure(response, 'Resurs');
    let parsed: unknown;
    try {
      parsed = JSON.parse(response.data);
    } catch {
      throw new UpstreamFailure('invalid', 'Resurs answered something that is not JSON', response.status);
    }
    const value = operation.check(parsed);
    if (typeof value === 'string') throw new UpstreamFailure('invalid', `Resurs' answer was refused: ${value}`, response.status);
    return { value, status: response.status };
  } catch (error) {
    if (error instanceof UpstreamFailure) throw error;
    if (deadline.signal.aborted) throw deadline.signal.reason;
    throw transportFailure(error, 'Resurs', attempt.timedOut());
  } finally {
    attempt.dispose();
  }
}
