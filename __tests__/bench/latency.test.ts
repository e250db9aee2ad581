/**
 * The benchmark's latency percentiles: nearest rank at full resolution, and, through a real
 * autocannon run on loopback, one sample per 2xx answer only, agreeing with autocannon's own
 * whole-millisecond p99.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { percentile, sortedAscending } from '../../bench/latency';
import { runLoad } from '../../bench/load';

it('takes nearest-rank percentiles, keeping fractions of a millisecond', () => {
  const samples: number[] = [];
  for (let i = 100; i >= 1; i--) samples.push(i + 0.25); // 100.25 .. 1.25, unsorted
  const sorted = sortedAscending(samples);
  expect(sorted).toHaveLength(100);
  expect(percentile(sorted, 50)).toBe(50.25);
  expect(percentile(sorted, 99)).toBe(99.25);
  expect(percentile(sorted, 100)).toBe(100.25);
  expect(percentile(sorted, 0.5)).toBe(1.25);
  expect(percentile([7], 99)).toBe(7);
  expect(percentile([], 99)).toBeNaN();
  expect(() => percentile(sorted, 0)).toThrow(RangeError);
  expect(() => percentile(sorted, 101)).toThrow(RangeError);
});

it('sorts numerically, without losing a sample, into a copy', () => {
  const samples: number[] = [];
  for (let i = 0; i < 5000; i++) samples.push((i * 7919) % 5000); // every value 0..4999 once, shuffled
  const sorted = sortedAscending(samples);
  expect(sorted).toHaveLength(5000);
  expect(Array.from(sorted)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  samples.push(-1);
  expect(sorted).toHaveLength(5000); // a copy, not a view
  expect(sortedAscending(samples)[0]).toBe(-1);
});

/** A loopback server whose every `slowEvery`-th answer is a 500 after 40 ms, the rest 200 after 2 ms. */
async function withServer(slowEvery: number, body: (url: string) => Promise<void>): Promise<void> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (++n % slowEvery === 0) setTimeout(() => res.writeHead(500).end('no'), 40);
      else setTimeout(() => res.writeHead(200).end('ok'), 2);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

const load = (url: string) => runLoad({ url, headers: { 'content-type': 'application/json' }, body: '{}', connections: 4, durationSeconds: 1 });

it('agrees with autocannon\'s whole-millisecond p99 to within a millisecond when every answer is 2xx', async () => {
  await withServer(Number.POSITIVE_INFINITY, async (url) => {
    const f = await load(url);
    expect(f.non2xx).toBe(0);
    expect(f.p99Ms).toBeGreaterThanOrEqual(2);
    expect(f.p50Ms).toBeLessThanOrEqual(f.p99Ms);
    expect(Math.abs(f.p99Ms - f.autocannonP99Ms)).toBeLessThanOrEqual(1);
  });
});

it('times only 2xx answers (autocannon\'s own p99 counts the errors too)', async () => {
  await withServer(4, async (url) => {
    const f = await load(url);
    expect(f.non2xx).toBeGreaterThan(0);
    expect(f.p99Ms).toBeGreaterThanOrEqual(2);
    expect(f.p99Ms).toBeLessThan(40);
    expect(f.autocannonP99Ms).toBeGreaterThanOrEqual(40);
  });
});
