/**
 * The circuit breaker, on cockatiel's: after `failureThreshold` consecutive failed attempts it
 * opens and every call fails at once (BreakerOpen) for `resetAfterMs`; then one probe goes
 * through (calls arriving meanwhile wait for its verdict) and its success closes it.
 * Which errors count as failures is the caller's to say.
 */
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';

export interface BreakerSettings {
  failureThreshold: number;
  resetAfterMs: number;
}

/** Thrown instead of calling when the breaker is open. */
export class BreakerOpen extends Error {
  override readonly name = 'BreakerOpen';
  constructor(readonly retryAfterMs: number) {
    super('the circuit breaker is open');
  }
}

export interface Breaker {
  execute<T>(fn: () => Promise<T>): Promise<T>;
  /** True while calls fail at once. */
  isOpen(): boolean;
}

export interface BreakerHooks {
  onOpen?: () => void;
  onClose?: () => void;
}

const passThrough: Breaker = { execute: (fn) => fn(), isOpen: () => false };

export function createBreaker(
  settings: BreakerSettings | false,
  isFailure: (error: unknown) => boolean,
  hooks: BreakerHooks = {},
): Breaker {
  if (settings === false) return passThrough;
  const policy = circuitBreaker(handleWhen(isFailure), {
    halfOpenAfter: settings.resetAfterMs,
    breaker: new ConsecutiveBreaker(settings.failureThreshold),
  });
  let openedAt = 0;
  policy.onBreak(() => {
    openedAt = Date.now();
    hooks.onOpen?.();
  });
  policy.onReset(() => hooks.onClose?.());

  return {
    async execute(fn) {
      try {
        return await policy.execute(() => fn());
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          throw new BreakerOpen(Math.max(0, openedAt + settings.resetAfterMs - Date.now()));
        }
        throw error;
      }
    },
    isOpen: () => policy.state === CircuitState.Open && Date.now() - openedAt < settings.resetAfterMs,
  };
}
