/**
 * The benchmark's probe of undici's hold before writing a request: percentiles as stated, and
 * one wait per request through a real undici Pool on loopback.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { recordUndiciWaits, summariseWaits } from '../../bench/undici-wait';

it('summarises waits by nearest rank, and says nothing of none', () => {
  const waits = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
  expect(summariseWaits(waits)).toEqual({ count: 100, meanUs: 51, p50Us: 50, p90Us: 90, p99Us: 99, maxUs: 100 });
  expect(waits[0]).toBe(100); // not sorted in place
  expect(summariseWaits([])).toBeUndefined();
});

it('records one wait per request undici writes, and nothing after stop', async () => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    const recording = recordUndiciWaits();
    for (let i = 0; i < 3; i++) await (await pool.request({ path: '/', method: 'GET' })).body.text(); // the 2nd and 3rd reuse the socket
    const waits = recording.stop();
    await (await pool.request({ path: '/', method: 'GET' })).body.text();
    expect(waits).toHaveLength(3);
    expect(waits.every((w) => w >= 0 && Number.isFinite(w))).toBe(true);
    expect(recording.stop()).toHaveLength(3);
  } finally {
    await pool.close();
    await new Promise((resolve) => server.close(resolve));
  }
});
