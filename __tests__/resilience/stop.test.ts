/** The light abort signal of the hot path behaves as an AbortSignal where this package, axios and undici look. */
import axios, { CanceledError } from 'axios';
import { Stop, linkedStop } from '../../src/resilience/stop';
import type { StopSignal } from '../../src/resilience/stop';
import { untilAborted } from '../../src/resilience/abort';
import { createDeadline } from '../../src/resilience/deadline';

describe('Stop', () => {
  it('calls each listener once, in the order added, with an abort event, and forgets them', () => {
    const stop = new Stop();
    const calls: string[] = [];
    stop.addEventListener('abort', (event) => calls.push(`a:${event.type}`));
    stop.addEventListener('abort', () => calls.push('b'));
    stop.abort('why');
    stop.abort('again');
    expect(calls).toEqual(['a:abort', 'b']);
    expect(stop.aborted).toBe(true);
    expect(stop.reason).toBe('why');
  });

  it('does not call a removed listener, nor one added after the abort (as an AbortSignal)', () => {
    const stop = new Stop();
    const removed = jest.fn();
    const late = jest.fn();
    stop.addEventListener('abort', removed);
    stop.removeEventListener('abort', removed);
    stop.removeEventListener('abort', late); // removing an unknown listener is harmless
    stop.abort();
    stop.addEventListener('abort', late);
    expect(removed).not.toHaveBeenCalled();
    expect(late).not.toHaveBeenCalled();
  });

  it("defaults its reason to an AbortError like AbortController's, and throwIfAborted throws it", () => {
    const stop = new Stop();
    expect(() => stop.throwIfAborted()).not.toThrow();
    const real = new AbortController();
    real.abort();
    stop.abort();
    expect(stop.reason).toBeInstanceOf(DOMException);
    expect((stop.reason as DOMException).name).toBe((real.signal.reason as DOMException).name);
    expect(() => stop.throwIfAborted()).toThrow(stop.reason as DOMException);
  });

  it('an AbortSignal is a StopSignal: a deadline follows a real caller signal and a Stop alike', () => {
    for (const caller of [new AbortController(), new Stop()]) {
      const signal: StopSignal = caller instanceof Stop ? caller : caller.signal;
      const deadline = createDeadline(60_000, signal);
      caller.abort('left');
      expect(deadline.signal.aborted).toBe(true);
      expect(deadline.signal.reason).toBe('left');
      deadline.dispose();
    }
  });

  it('untilAborted rejects with the reason once it stops, and lets go of its listener when the work settles', async () => {
    const stop = new Stop();
    await expect(untilAborted(Promise.resolve(1), stop)).resolves.toBe(1);
    const pending = untilAborted(new Promise<never>(() => undefined), stop);
    stop.abort(new Error('gone'));
    await expect(pending).rejects.toThrow('gone');
    expect((stop as unknown as { listeners?: unknown[] }).listeners).toBeUndefined();
  });

  it('axios takes it as config.signal: aborted before sending is a CanceledError', async () => {
    const stop = new Stop();
    stop.abort();
    const adapter = jest.fn();
    await expect(axios.request({ url: 'http://127.0.0.1:9/', adapter, signal: stop })).rejects.toBeInstanceOf(CanceledError);
    expect(adapter).not.toHaveBeenCalled();
  });
});

describe('linkedStop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it("stops with the parent's reason, and does not count as timed out", () => {
    const parent = new Stop();
    const link = linkedStop(parent, 1000);
    parent.abort('left');
    expect([link.stop.aborted, link.stop.reason, link.timedOut()]).toEqual([true, 'left', false]);
    link.dispose();
  });

  it('stops by itself when its timer fires, with the given reason', () => {
    const link = linkedStop(new Stop(), 1000, () => 'late');
    jest.advanceTimersByTime(999);
    expect(link.stop.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    expect([link.stop.reason, link.timedOut()]).toEqual(['late', true]);
  });

  it('starts stopped under a parent that already stopped; without ms it has no timer', () => {
    const parent = new Stop();
    parent.abort('gone');
    expect(linkedStop(parent).stop.reason).toBe('gone');
    const untimed = linkedStop(undefined);
    jest.advanceTimersByTime(60_000);
    expect(untimed.stop.aborted).toBe(false);
  });

  it('after dispose neither the parent nor the timer stops it', () => {
    const parent = new Stop();
    const link = linkedStop(parent, 1000);
    link.dispose();
    parent.abort('left');
    jest.advanceTimersByTime(2000);
    expect([link.stop.aborted, link.timedOut()]).toEqual([false, false]);
  });
});
