/** The exactly-once marks on their own: claim, duplicate, in progress, confirm, release, hold expiry. */
import { MemorySessionStore } from '../../src';
import { createFactMarks } from '../../src/callbacks/exactly-once';
import type { ClaimedFact } from '../../src/callbacks/exactly-once';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe.each([
  ['with deleteIfEquals', () => new MemorySessionStore()],
  [
    'without deleteIfEquals',
    () => {
      const store = new MemorySessionStore();
      return { get: store.get.bind(store), set: store.set.bind(store), delete: store.delete.bind(store), add: store.add.bind(store) };
    },
  ],
])('%s', (_name, makeStore) => {
  it('one claim per fact; in progress until confirmed, handled after', async () => {
    const marks = createFactMarks(makeStore(), 'ns');
    const first = await marks.claim('f', 10_000);
    expect(first.outcome).toBe('claimed');
    expect((await marks.claim('f', 10_000)).outcome).toBe('in-progress');
    expect((await marks.claim('g', 10_000)).outcome).toBe('claimed');
    await (first as ClaimedFact).confirm();
    expect((await marks.claim('f', 10_000)).outcome).toBe('handled');
  });

  it('released, the fact can be claimed again; a stale release never frees the next owner', async () => {
    const marks = createFactMarks(makeStore(), 'ns');
    const first = (await marks.claim('f', 50)) as ClaimedFact;
    await first.release();
    const second = await marks.claim('f', 50);
    expect(second.outcome).toBe('claimed');
    await sleep(80); // the hold ends: a third delivery takes it
    const third = await marks.claim('f', 10_000);
    expect(third.outcome).toBe('claimed');
    await (second as ClaimedFact).release(); // too late: not its mark any more
    expect((await marks.claim('f', 10_000)).outcome).toBe('in-progress');
  });

  it('namespaces keep stores apart', async () => {
    const store = makeStore();
    expect((await createFactMarks(store, 'a').claim('f', 10_000)).outcome).toBe('claimed');
    expect((await createFactMarks(store, 'b').claim('f', 10_000)).outcome).toBe('claimed');
  });
});
