/**
 * One budget for a whole request: every attempt, token fetch and backoff. Its signal aborts
 * when the budget runs out (reason: DeadlineExceeded) or when the caller's own signal aborts
 * (reason: the caller's).
 */

/** The abort reason when a request's budget ran out. */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(readonly budgetMs: number) {
    super(`the request's ${budgetMs} ms budget ran out`);
  }
}

export interface Deadline {
  readonly signal: AbortSignal;
  /** Milliseconds left (0 when spent). */
  remaining(): number;
  /** Clears the timer and the link to the caller's signal. Call when the request is done. */
  dispose(): void;
}

export function createDeadline(budgetMs: number, parent?: AbortSignal, now: () => number = Date.now): Deadline {
  const endsAt = now() + budgetMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded(budgetMs)), budgetMs);
  const onParentAbort = () => controller.abort(parent?.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: controller.signal,
    remaining: () => Math.max(0, endsAt - now()),
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
