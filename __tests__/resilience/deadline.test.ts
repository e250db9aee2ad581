/** One budget per request, and the abort-bounded helpers the retry loop waits with. */
import { sleep, untilAborted } from '../../src/resilience/abort';
import { DeadlineExceeded, createDeadline } from '../../src/resilience/deadline';

describe('createDeadline', () => {
  it('aborts with DeadlineExceeded when the budget runs out', async () => {
    const deadline = createDeadline(30);
    expect(deadline.signal.aborted).toBe(false);
    expect(deadline.remaining()).toBeGreaterThan(0);
    await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve, { once: true }));
    expect(deadline.signal.reason).toBeInstanceOf(DeadlineExceeded);
    expect((deadline.signal.reason as DeadlineExceeded).budgetMs).toBe(30);
    expect(deadline.remaining()).toBe(0);
    deadline.dispose();
  });

  it('remaining() follows the clock it is given', () => {
    let clock = 1_000;
    const deadline = createDeadline(500, undefined, () => clock);
    expect(deadline.remaining()).toBe(500);
    clock = 1_200;
    expect(deadline.remaining()).toBe(300);
    clock = 9_999;
    expect(deadline.remaining()).toBe(0);
    deadline.dispose();
  });

  it("aborts with the caller's own reason when the caller's signal aborts", () => {
    const caller = new AbortController();
    const deadline = createDeadline(60_000, caller.signal);
    const reason = new Error('storefront went away');
    caller.abort(reason);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
    deadline.dispose();
  });

  it('starts aborted when the caller already gave up', () => {
    const caller = new AbortController();
    caller.abort('gone');
    const deadline = createDeadline(60_000, caller.signal);
    expect(deadline.signal.reason).toBe('gone');
    deadline.dispose();
  });

  it('dispose() stops the timer: the signal never aborts afterwards', async () => {
    const deadline = createDeadline(20);
    deadline.dispose();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(deadline.signal.aborted).toBe(false);
  });
});

describe('sleep and untilAborted', () => {
  it('sleep rejects with the reason as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort('stop');
    await expect(pending).rejects.toBe('stop');
  });

  it('sleep resolves when not aborted, and rejects at once on an aborted signal', async () => {
    await expect(sleep(5, new AbortController().signal)).resolves.toBeUndefined();
    await expect(sleep(5, AbortSignal.abort('already'))).rejects.toBe('already');
  });

  it('untilAborted passes values and errors through, or stops at the signal', async () => {
    const signal = new AbortController().signal;
    await expect(untilAborted(Promise.resolve(1), signal)).resolves.toBe(1);
    await expect(untilAborted(Promise.reject(new Error('x')), signal)).rejects.toThrow('x');
    const controller = new AbortController();
    const pending = untilAborted(new Promise(() => undefined), controller.signal);
    controller.abort('deadline');
    await expect(pending).rejects.toBe('deadline');
  });
});
