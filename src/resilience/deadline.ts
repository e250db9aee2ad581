/**
 * One budget for a whole request: every attempt, token fetch and backoff. Its signal aborts
 * when the budget runs out (reason: DeadlineExceeded) or when the caller's own signal aborts
 * (reason: the caller's).
 */
import { linkedStop } from './stop';
import type { StopSignal } from './stop';

/** The abort reason when a request's budget ran out. */
export class DeadlineExceeded extends Error {
  override readonly name = 'DeadlineExceeded';
  constructor(readonly budgetMs: number) {
    super(`the request's ${budgetMs} ms budget ran out`);
  }
}

export interface Deadline {
  readonly signal: StopSignal;
  /** Milliseconds left (0 when spent). */
  remaining(): number;
  /** Clears the timer and the link to the caller's signal. Call when the request is done. */
  dispose(): void;
}

export function createDeadline(budgetMs: number, parent?: StopSignal, now: () => number = Date.now): Deadline {
  const endsAt = now() + budgetMs;
  const link = linkedStop(parent, budgetMs, () => new DeadlineExceeded(budgetMs));
  return {
    signal: link.stop,
    remaining: () => Math.max(0, endsAt - now()),
    dispose: link.dispose,
  };
}
