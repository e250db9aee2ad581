/**
 * A light abort signal for the per-request hot path. Node's AbortController and its EventTarget
 * listeners cost microseconds each, and a request makes several (deadline, attempt, storefront
 * gone) with a listener or two on each. `Stop` is the controller and its signal in one object,
 * with only what this package, axios and undici read of a signal.
 */

/** What a listener is called with: like AbortSignal's Event, it has `type: 'abort'`. */
export interface StopEvent {
  readonly type: string;
}
type Listener = (event: StopEvent) => void;

/** What this package reads of an abort signal. An `AbortSignal` is one; so is a {@link Stop}. */
export interface StopSignal {
  readonly aborted: boolean;
  /** Why it stopped (undefined until then). */
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: Listener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: Listener): void;
  /** Throws `reason` when aborted. */
  throwIfAborted(): void;
}

const ABORT_EVENT: StopEvent = Object.freeze({ type: 'abort' });

/** An abort controller that is its own signal. Listeners run once, in the order they were added. */
export class Stop implements StopSignal {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Listener[] | undefined;

  addEventListener(_type: 'abort', listener: Listener): void {
    if (this.aborted) return; // as an AbortSignal: an aborted signal never calls a late listener
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: Listener): void {
    const index = this.listeners?.indexOf(listener) ?? -1;
    if (index >= 0) this.listeners!.splice(index, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Stops with `reason` (default: an AbortError, as AbortController's); a second call does nothing. */
  abort(reason: unknown = new DOMException('This operation was aborted', 'AbortError')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const listener of listeners) listener(ABORT_EVENT);
  }
}

/** A {@link Stop} tied to a parent signal and, optionally, to a timer. */
export interface LinkedStop {
  readonly stop: Stop;
  /** It stopped because its own timer fired (not because the parent stopped). */
  timedOut(): boolean;
  /** Clears the timer and the link to the parent. Call when the work is done. */
  dispose(): void;
}

/**
 * A Stop that stops with `parent`'s reason when `parent` does, and by itself after `ms` (when
 * given) with `timeoutReason()` (default: an AbortError).
 */
export function linkedStop(parent: StopSignal | undefined, ms?: number, timeoutReason?: () => unknown): LinkedStop {
  const stop = new Stop();
  let fired = false;
  const timer =
    ms === undefined
      ? undefined
      : setTimeout(() => {
          fired = true;
          stop.abort(timeoutReason?.());
        }, ms);
  const onParentAbort = (): void => stop.abort(parent!.reason);
  if (parent?.aborted) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  return {
    stop,
    timedOut: () => fired,
    dispose() {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    },
  };
}
