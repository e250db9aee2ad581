/** The assertion every problem answer must pass (RFC 9457 body as the contract's error table says). */
import type { Response } from 'supertest';
import { FAULT_RAW_SECRET_MARKER } from '../../demo-app/resurs-stand-in';

const PROBLEM_KEYS = ['code', 'detail', 'requestId', 'status', 'title', 'type'];

/** The longest Retry-After the package ever sends (an hour). */
const MAX_RETRY_AFTER_SECONDS = 3600;

/**
 * Expects `status` with a problem body of `code`: the content type, exactly the contract's fields
 * (plus `errors` for validation failures), `requestId` equal to the X-Request-Id header, and none
 * of `secrets` (nor the stand-in's raw-body marker) anywhere in the answer. Every 503 and 429
 * carries `Retry-After` in whole seconds, 1 to 3600. Returns the body.
 */
export function expectProblem(res: Response, status: number, code: string, ...secrets: string[]): Record<string, unknown> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(Object.keys(body).filter((key) => key !== 'errors').sort()).toEqual(PROBLEM_KEYS);
  expect(body).toMatchObject({ status, code, requestId: res.headers['x-request-id'] });
  expect(body.type).toBe(`urn:express-resurs-checkout:problem:${code}`);
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  if (status === 503 || status === 429) expectRetryAfter(res);
  const headers = JSON.stringify(res.headers);
  for (const secret of [FAULT_RAW_SECRET_MARKER, ...secrets]) {
    expect(res.text).not.toContain(secret);
    expect(headers).not.toContain(secret);
  }
  return body;
}

/** Expects a `Retry-After` of whole seconds (digits only), 1 to 3600. Returns it. */
export function expectRetryAfter(res: Response): number {
  const header: unknown = res.headers['retry-after'];
  expect(typeof header).toBe('string');
  expect(header).toMatch(/^[1-9]\d{0,3}$/);
  const seconds = Number(header);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(MAX_RETRY_AFTER_SECONDS);
  return seconds;
}
