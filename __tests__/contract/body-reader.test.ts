/**
 * The router reads a plain body of known length itself and leaves every other framing to
 * express.json. The two must not be told apart: each body below is sent both ways (with its
 * Content-Length, and chunked) and must get the same answer, and the same campaign must reach Resurs.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from 'express';
import { plainLength } from '../../src/routes/body-reader';
import { useHarness } from '../helpers/checkout-app';
import { rawRequest } from '../helpers/raw-request';

const harness = useHarness();
const json = { 'Content-Type': 'application/json' };
/** A campaign body of exactly `bytes` bytes. */
const sized = (bytes: number) => Buffer.from(`{"campaign":"SUMMER_SALE"${' '.repeat(bytes - 26)}}`);

async function answerFor(body: Buffer, framing: 'length' | 'chunked') {
  harness.standIn.reset();
  const headers = framing === 'length' ? { ...json, 'Content-Length': String(body.length) } : { ...json, 'Transfer-Encoding': 'chunked' };
  const res = await rawRequest(harness.app(), { method: 'POST', path: '/checkout/session', headers, chunks: body.length > 0 ? [body] : [] });
  const code = res.status === 201 ? undefined : (JSON.parse(res.text) as { code: string }).code;
  const sent = harness.standIn.sessionRequests.map((r) => JSON.parse(r.body) as unknown);
  return { status: res.status, code, sent };
}

describe('a body read by the router and by express.json gets the same answer', () => {
  const bodies: Array<[string, Buffer]> = [
    ['an empty object', Buffer.from('{}')],
    ['a campaign', Buffer.from('{"campaign":"SUMMER_SALE"}')],
    ['a UTF-8 byte order mark first', Buffer.from('\uFEFF{"campaign":"SUMMER_SALE"}')],
    ['whitespace around', Buffer.from(' \t\r\n{"campaign":"SUMMER_SALE"}\n ')],
    ['an array', Buffer.from('[]')],
    ['a number', Buffer.from('1')],
    ['a string', Buffer.from('"SUMMER_SALE"')],
    ['null', Buffer.from('null')],
    ['only whitespace', Buffer.from('   ')],
    ['malformed JSON', Buffer.from('{"campaign":')],
    ['a trailing comma', Buffer.from('{"campaign":"SUMMER_SALE",}')],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0x22, 0x63, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
    ['an unknown field', Buffer.from('{"campaign":"SUMMER_SALE","amount":1}')],
    ['exactly 1024 bytes', sized(1024)],
    ['1025 bytes', sized(1025)],
  ];

  it.each(bodies)('%s', async (_name, body) => {
    const short = await answerFor(body, 'length');
    const parsed = await answerFor(body, 'chunked');
    expect(short).toEqual(parsed);
  });

  it('the cases above are not all alike (the comparison can fail)', async () => {
    const ok = await answerFor(Buffer.from('{"campaign":"SUMMER_SALE"}'), 'length');
    const bad = await answerFor(Buffer.from('{"campaign":'), 'length');
    expect([sized(1024).length, sized(1025).length]).toEqual([1024, 1025]);
    const big = await answerFor(sized(1025), 'length');
    expect(ok).toEqual({ status: 201, code: undefined, sent: [{ campaign: 'SUMMER_SALE' }] });
    expect(bad).toEqual({ status: 400, code: 'invalid_request', sent: [] });
    expect(big).toEqual({ status: 413, code: 'payload_too_large', sent: [] });
  });
});

describe('a storefront that leaves in the middle of its body', () => {
  it('costs no Resurs call, is logged as a cut-short body, and the router keeps answering', async () => {
    const app = harness.app();
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await new Promise<void>((resolve) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/checkout/session', agent: false, headers: { ...json, 'Content-Length': '100' } });
        req.on('error', () => resolve());
        req.write('{"campaign":"SUM', () => setTimeout(() => req.destroy(), 20));
        req.on('close', () => resolve());
      });
      // Bounded wait for the router to notice the cut (its log line), then a normal request still works.
      for (let i = 0; i < 100 && !harness.lines.some((l) => l.fields.code === 'invalid_request'); i++) await new Promise((r) => setTimeout(r, 10));
      expect(harness.lines.find((l) => l.fields.code === 'invalid_request')).toBeDefined();
      expect(harness.standIn.sessionRequests).toHaveLength(0);
      const after = await fetch(`http://127.0.0.1:${port}/checkout/session`, { method: 'POST', headers: json, body: '{}' });
      expect(after.status).toBe(201);
    } finally {
      server.close();
    }
  });
});

describe('plainLength: which requests the router reads itself', () => {
  const req = (headers: Record<string, string>, state: Partial<Pick<Request, 'readableEnded' | 'readableFlowing'>> = {}) =>
    ({ headers, readableEnded: false, readableFlowing: null, ...state }) as unknown as Request;

  it.each([
    ['a plain body within the limit', { 'content-length': '27' }, {}, 27],
    ['exactly the limit', { 'content-length': '1024' }, {}, 1024],
    ['over the limit (express.json answers 413)', { 'content-length': '1025' }, {}, undefined],
    ['an empty body', { 'content-length': '0' }, {}, undefined],
    ['a compressed body', { 'content-length': '27', 'content-encoding': 'gzip' }, {}, undefined],
    ['even "identity" encoding', { 'content-length': '27', 'content-encoding': 'identity' }, {}, undefined],
    ['a chunked body', { 'transfer-encoding': 'chunked' }, {}, undefined],
    ['a length that is not plain digits', { 'content-length': '+27' }, {}, undefined],
    ['a body a shop-wide parser already read', { 'content-length': '27' }, { readableEnded: true }, undefined],
    ['a body someone started reading', { 'content-length': '27' }, { readableFlowing: true }, undefined],
  ])('%s', (_name, headers, state, expected) => {
    expect(plainLength(req(headers, state), 1024)).toBe(expected);
  });
});
