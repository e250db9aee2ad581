/** The assertion every problem answer must pass (RFC 9457 body as the contract's error table says). */
import type { Response } from 'supertest';
import { FAULT_RAW_SECRET_MARKER } from '../../demo-app/resurs-stand-in';

const PROBLEM_KEYS = ['code', 'detail', 'requestId', 'status', 'title', 'type'];

/**
 * Expects `status` with a problem body of `code`: the content type, exactly the contract's fields
 * (plus `errors` for validation failures), `requestId` equal to the X-Request-Id header, and none
 * of `secrets` (nor the stand-in's raw-body marker) anywhere in the answer. Returns the body.
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
  const headers = JSON.stringify(res.headers);
  for (const secret of [FAULT_RAW_SECRET_MARKER, ...secrets]) {
    expect(res.text).not.toContain(secret);
    expect(headers).not.toContain(secret);
  }
  return body;
}
