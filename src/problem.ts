/**
 * RFC 9457 problem bodies for ResursCheckoutError. Pure: the router writes the result.
 * `detail` is the error's own message, which we always write ourselves; it never carries a
 * token, a secret or Resurs' raw body. Anything that is not a ResursCheckoutError is a bug
 * and becomes a bare 500 with no stack trace.
 */
import { ERROR_TITLE, ResursCheckoutError } from './errors';
import type { ErrorCode, FieldError } from './errors';

/** The problem body the endpoint answers with (`application/problem+json`). */
export interface ProblemBody {
  /** A URI naming the problem type: `urn:express-resurs-checkout:problem:<code>`. */
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  requestId: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Any thrown value as a ResursCheckoutError: ours pass through, the rest are internal errors. */
export function toCheckoutError(error: unknown): ResursCheckoutError {
  if (error instanceof ResursCheckoutError) return error;
  return new ResursCheckoutError('internal_error', 'Something went wrong on our side. Try again; if it persists, report the request id.', {
    cause: error,
  });
}

/** The problem body for an error. */
export function toProblem(error: ResursCheckoutError, requestId: string): ProblemBody {
  const body: ProblemBody = {
    type: `urn:express-resurs-checkout:problem:${error.code}`,
    title: ERROR_TITLE[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
    requestId,
  };
  if (error.errors) body.errors = error.errors;
  return body;
}
