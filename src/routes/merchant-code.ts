/**
 * The merchant's own functions (campaign predicate, `payments.order`, `payments.customer`,
 * redirect functions) run inside our routes. When one throws or returns something unusable, the
 * answer is a 500 (only the merchant can fix it) and the log names the hook and the rule, never
 * the error's message or stack, which may hold anything.
 */
import { ResursCheckoutError } from '../errors';
import { errorName } from '../logger';

/** A merchant hook failed; `message` is ours and safe to log. */
export class MerchantCodeFailed extends Error {
  override readonly name = 'MerchantCodeFailed';
  constructor(
    readonly hook: string,
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The 500 a failed merchant hook answers. */
export function merchantCodeError(hook: string, message: string, fields: Record<string, unknown> = {}): ResursCheckoutError {
  return new ResursCheckoutError('internal_error', 'Something went wrong on our side. Try again; if it persists, report the request id.', {
    cause: new MerchantCodeFailed(hook, message, fields),
  });
}

/**
 * Awaits the merchant's `fn`; a throw becomes a 500 that logs the hook and the error's name only.
 * Our own answers (a ResursCheckoutError, e.g. a campaign rule's 422) pass through.
 */
export async function runMerchantCode<T>(hook: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ResursCheckoutError) throw error;
    throw merchantCodeError(hook, `${hook} threw; answered 500. Fix the function you passed.`, { errorName: errorName(error) });
  }
}
