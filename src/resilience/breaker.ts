/**
 * The circuit breaker, on cockatiel's: after `failureThreshold` consecutive failed attempts it
 * opens and every call fails at once (BreakerOpen) for `resetAfterMs`; then one probe goes
 * through, and its success closes it. While the probe is in flight `isOpen()` still says true,
 * so callers keep answering at once instead of queueing behind it.
 * Which errors count as failures is the caller's to say. A probe abandoned by its caller (its
 * signal aborted) counts as a failure: nothing was learnt, so the breaker stays open. A probe
 * that fails with an error that is not a failure (Resurs answered a 4xx) closes it too: Resurs
 * was reachable. Every close is told to the probe's call (`onClose`), and every close starts
 * the consecutive-failure count from 0.
 */
import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen } from 'cockatiel';
import type { StopSignal } from './stop';

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

/** One call through the breaker. */
export interface BreakerCall {
  /** The caller's stop signal: a call that starts after it aborted rejects with its reason. */
  signal?: StopSignal;
  /** This call's failure opened the breaker. */
  onOpen?: () => void;
  /** This call was the probe, and its success closed the breaker. */
  onClose?: () => void;
}

export interface Breaker {
  execute<T>(fn: () => Promise<T>, call?: BreakerCall): Promise<T>;
  /** True while calls should fail at once: open, or a probe is in flight. */
  isOpen(): boolean;
  /** Milliseconds until a probe may go through (at least 1000 while a probe is in flight). */
  retryAfterMs(): number;
}

/** Wraps what an abandoned call threw, so the breaker can tell it apart. */
class Abandoned extends Error {
  constructor(readonly inner: unknown) {
    super('the call was abandoned by its caller');
  }
}

const passThrough: Breaker = { execute: (fn) => fn(), isOpen: () => false, retryAfterMs: () => 0 };

export function createBreaker(settings: BreakerSettings | false, isFailure: (error: unknown) => boolean): Breaker {
  if (settings === false) return passThrough;
  const consecutive = new ConsecutiveBreaker(settings.failureThreshold);
  const policy = circuitBreaker(
    handleWhen((error) => isFailure(error) || (error instanceof Abandoned && policy.state === CircuitState.HalfOpen)),
    { halfOpenAfter: settings.resetAfterMs, breaker: consecutive },
  );
  // cockatiel closes on a probe's unhandled error (a 4xx) without telling the breaker of a success,
  // which would leave the count at the threshold: the next single failure would reopen it.
  policy.onReset(() => consecutive.success());
  /** Set while cockatiel is about to run the probe's function. */
  let probeStarting = false;
  policy.onHalfOpen(() => {
    probeStarting = true;
  });
  let openedAt = 0;
  /** The error that opened the breaker last, to tell its call. */
  let opener: unknown;
  policy.onBreak((reason) => {
    openedAt = Date.now();
    opener = 'error' in reason ? reason.error : undefined;
  });
  const openFor = () => Math.max(0, openedAt + settings.resetAfterMs - Date.now());

  return {
    async execute(fn, call = {}) {
      const { signal } = call;
      let probed = false;
      const guarded = async () => {
        // cockatiel calls the probe's function right after announcing the half-open state.
        probed = probeStarting;
        probeStarting = false;
        if (signal?.aborted) throw new Abandoned(signal.reason);
        try {
          return await fn();
        } catch (error) {
          if (signal?.aborted && !isFailure(error)) throw new Abandoned(error);
          throw error;
        }
      };
      const closedByThisProbe = () => probed && policy.state === CircuitState.Closed;
      try {
        const value = await policy.execute(guarded);
        if (closedByThisProbe()) call.onClose?.();
        return value;
      } catch (error) {
        if (closedByThisProbe()) call.onClose?.(); // a probe Resurs answered with a 4xx: reachable
        if (error instanceof BrokenCircuitError) throw new BreakerOpen(openFor());
        if (error === opener) {
          opener = undefined;
          call.onOpen?.();
        }
        throw error instanceof Abandoned ? error.inner : error;
      }
    },
    isOpen: () => policy.state === CircuitState.HalfOpen || (policy.state === CircuitState.Open && openFor() > 0),
    retryAfterMs: () => (policy.state === CircuitState.HalfOpen ? 1000 : openFor()),
  };
}
