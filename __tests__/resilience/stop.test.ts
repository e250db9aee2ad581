/** The light abort signal of the hot path behaves as an AbortSignal where this package, axios and undici look. */
import axios, { CanceledError } from 'axios';
import { Stop } from '../../src/resilience/stop';
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
