import { withTimeout } from '../../src/resilience/timeout';

describe('withTimeout', () => {
  it('passes a value through', async () => {
    await expect(withTimeout(async () => 7, 1000, () => new Error('late'))).resolves.toBe(7);
  });

  it('rejects with the timeout error when the call takes too long', async () => {
    let settle: (() => void) | undefined;
    const slow = () => new Promise<void>((resolve) => (settle = resolve));
    await expect(withTimeout(slow, 10, () => new Error('late'))).rejects.toThrow('late');
    settle?.();
  });

  it('turns a synchronous throw into a rejection, and swallows a late one', async () => {
    await expect(withTimeout(() => { throw new Error('boom'); }, 1000, () => new Error('late'))).rejects.toThrow('boom');
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    let fail: ((error: Error) => void) | undefined;
    const late = () => new Promise<void>((_, reject) => (fail = reject));
    await expect(withTimeout(late, 5, () => new Error('late'))).rejects.toThrow('late');
    fail?.(new Error('after the timeout'));
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });
});
