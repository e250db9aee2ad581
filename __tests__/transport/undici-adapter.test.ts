/**
 * The undici adapter under an axios instance built like the package's, against real node:http
 * servers on 127.0.0.1: answers, redirects, the 64 KiB cap (counted on the wire, announced or
 * not), aborts, connection errors, keep-alive reuse, what reaches the server, no env proxies,
 * and a process that can exit with idle keep-alive sockets.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import axios, { AxiosError, AxiosHeaders, CanceledError, isCancel } from 'axios';
import type { AxiosInstance } from 'axios';
import { Agent } from 'undici';
import { transportFailure } from '../../src/transport/failure';
import { createUndiciAdapter } from '../../src/transport/undici-adapter';
import type { UndiciAdapter } from '../../src/transport/undici-adapter';

const CAP = 64 * 1024;

interface Upstream {
  url: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Resolves with the next request the server receives. */
  nextRequest(): Promise<{ req: http.IncomingMessage; res: http.ServerResponse }>;
  close(): Promise<void>;
}

const servers: { close(): Promise<void> }[] = [];

/** A node:http server on 127.0.0.1; `handler` may leave a request unanswered. */
async function upstream(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Upstream> {
  let count = 0;
  const waiting: ((hit: { req: http.IncomingMessage; res: http.ServerResponse }) => void)[] = [];
  const server = http.createServer((req, res) => {
    waiting.shift()?.({ req, res });
    handler(req, res);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => count++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  const result: Upstream = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => count,
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
    close,
  };
  servers.push(result);
  return result;
}

const closed = (socket: net.Socket) => new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

let adapter: UndiciAdapter;
let client: AxiosInstance;

/** An axios instance like the package's: the adapter, no redirects, text bodies, every status resolved. */
function createClient(a: UndiciAdapter): AxiosInstance {
  return axios.create({
    adapter: a,
    maxRedirects: 0,
    maxContentLength: CAP,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    proxy: false,
    headers: { 'User-Agent': 'express-resurs-checkout/test', Accept: 'application/json' },
  });
}

beforeEach(() => {
  adapter = createUndiciAdapter({ maxAnswerBytes: CAP });
  client = createClient(adapter);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await adapter.close();
});

/** Writes `chunk` until the socket closes or `limit` bytes went out; resolves with what was written and whether it finished. */
function stream(res: http.ServerResponse, chunk: Buffer, limit: number): Promise<{ written: number; finished: boolean }> {
  return new Promise((resolve) => {
    let written = 0;
    const pump = () => {
      while (written < limit && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (written >= limit && !res.destroyed) res.end(() => resolve({ written, finished: true }));
    };
    res.socket!.once('close', () => resolve({ written, finished: false }));
    pump();
  });
}

test('an answer comes back with its status, headers (AxiosHeaders) and body as text', async () => {
  const server = await upstream((_req, res) => {
    res.writeHead(201, { 'Content-Type': 'application/json', 'X-Custom': 'yes' }).end('{"id":"s-1","é":"ü"}');
  });
  const response = await client.get(`${server.url}/stores/s/sessions?x=1`);
  expect(response.status).toBe(201);
  expect(response.statusText).toBe('Created');
  expect(response.headers).toBeInstanceOf(AxiosHeaders);
  expect(response.headers['x-custom']).toBe('yes');
  expect(response.headers['content-type']).toBe('application/json');
  expect(response.data).toBe('{"id":"s-1","é":"ü"}');
  expect(response.request).toEqual({ method: 'GET', origin: server.url, path: '/stores/s/sessions?x=1' });
});

test('a 302 is returned as a response, never followed', async () => {
  const target = await upstream((_req, res) => res.end('{}'));
  const redirecting = await upstream((_req, res) => res.writeHead(302, { Location: `${target.url}/elsewhere` }).end());
  const response = await client.post(`${redirecting.url}/sessions`, '{}');
  expect(response.status).toBe(302);
  expect(response.headers['location']).toBe(`${target.url}/elsewhere`);
  expect(target.connections()).toBe(0);
});

test('an answer without Content-Length is refused once more than 64 KiB arrived; the client hangs up', async () => {
  const server = await upstream(() => undefined);
  const hit = server.nextRequest();
  const pending = client.get(server.url).catch((error: unknown) => error);
  const { res } = await hit;
  res.writeHead(200, { 'Content-Type': 'application/json' }); // chunked: no Content-Length
  const served = stream(res, Buffer.alloc(16 * 1024, 'a'), 256 * 1024 * 1024);
  const error = await pending;
  expect(error).toBeInstanceOf(AxiosError);
  expect((error as AxiosError).message).toBe('maxContentLength size of 65536 exceeded');
  expect(transportFailure(error, 'Resurs', false).kind).toBe('too-large');
  const { finished } = await served; // resolves when the client closed the socket
  expect(finished).toBe(false);
});

test('an announced Content-Length over 64 KiB is refused at once, before the body arrives', async () => {
  const server = await upstream(() => undefined);
  const hit = server.nextRequest();
  const pending = client.get(server.url).catch((error: unknown) => error);
  const { res } = await hit;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(1024 * 1024) });
  res.write('{"a":'); // ...and the rest never comes
  const socketClosed = closed(res.socket!);
  const error = await pending;
  expect((error as AxiosError).message).toBe('maxContentLength size of 65536 exceeded');
  expect(transportFailure(error, 'Resurs', false).kind).toBe('too-large');
  expect(res.writableEnded).toBe(false); // the server never finished: the refusal did not wait for it
  await socketClosed;
});

test('an answer of exactly 64 KiB is accepted', async () => {
  const body = 'x'.repeat(CAP);
  const server = await upstream((_req, res) => {
    res.writeHead(200);
    res.write(body.slice(0, 1000));
    res.end(body.slice(1000));
  });
  const response = await client.get(server.url);
  expect(response.data).toBe(body);
});

test('aborting the signal while waiting for the answer rejects with a CanceledError and closes the socket', async () => {
  const server = await upstream(() => undefined); // never answers
  const hit = server.nextRequest();
  const controller = new AbortController();
  const pending = client.post(server.url, '{}', { signal: controller.signal }).catch((error: unknown) => error);
  const { req } = await hit;
  const socketClosed = closed(req.socket);
  controller.abort();
  const error = await pending;
  expect(error).toBeInstanceOf(CanceledError);
  expect(isCancel(error)).toBe(true);
  expect((error as AxiosError).code).toBe('ERR_CANCELED');
  await socketClosed;
});

test('aborting the signal while the body arrives rejects with a CanceledError and closes the socket', async () => {
  const server = await upstream(() => undefined);
  const hit = server.nextRequest();
  const controller = new AbortController();
  const pending = client.get(server.url, { signal: controller.signal }).catch((error: unknown) => error);
  const { res } = await hit;
  res.writeHead(200, { 'Content-Length': '100' });
  res.write('{"partial":');
  const socketClosed = closed(res.socket!);
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the headers reach the client
  controller.abort();
  expect(await pending).toBeInstanceOf(CanceledError);
  await socketClosed;
});

test('aborting a request still queued for a connection rejects at once, and it is never sent', async () => {
  const paths: string[] = [];
  const server = await upstream((req, res) => {
    paths.push(req.url ?? '');
    if (req.url === '/first') setTimeout(() => res.end('{"first":true}'), 100);
    else res.end('{}');
  });
  const single = createUndiciAdapter({ maxAnswerBytes: CAP, connections: 1 });
  const one = createClient(single);
  const first = one.get(`${server.url}/first`);
  const controller = new AbortController();
  const queued = one.get(`${server.url}/second`, { signal: controller.signal }).catch((error: unknown) => error);
  controller.abort();
  expect(await queued).toBeInstanceOf(CanceledError);
  expect((await first).data).toBe('{"first":true}');
  await one.get(`${server.url}/third`); // the one connection goes on serving, in order
  expect(paths).toEqual(['/first', '/third']);
  await single.close();
});

test('an informational 1xx before the answer is skipped', async () => {
  const server = await upstream((_req, res) => {
    res.writeProcessing();
    res.writeHead(201, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
  const response = await client.post(server.url, '{}');
  expect([response.status, response.data]).toEqual([201, '{"ok":true}']);
});

test("a dispatcher that throws instead of reporting rejects the request with its error's code", async () => {
  const thrower = new Agent().compose(() => () => {
    throw Object.assign(new Error('no route'), { code: 'EHOSTUNREACH' });
  });
  const error = await createClient(createUndiciAdapter({ maxAnswerBytes: CAP, dispatcher: thrower }))
    .get('http://127.0.0.1:9/')
    .catch((e: unknown) => e);
  await thrower.close();
  expect(error).toBeInstanceOf(AxiosError);
  expect((error as AxiosError).code).toBe('EHOSTUNREACH');
});

test('config.timeout ends a request that gets no answer: ECONNABORTED, not a cancel, and the socket closes', async () => {
  const server = await upstream(() => undefined); // never answers
  const hit = server.nextRequest();
  const pending = client.post(server.url, '{}', { timeout: 50, signal: new AbortController().signal }).catch((error: unknown) => error);
  const { req } = await hit;
  const socketClosed = closed(req.socket);
  const error = await pending;
  expect(error).toBeInstanceOf(AxiosError);
  expect(isCancel(error)).toBe(false);
  expect((error as AxiosError).code).toBe('ECONNABORTED');
  expect((error as AxiosError).message).toBe('timeout of 50ms exceeded');
  await socketClosed;
});

test('with config.timeout set, aborting the signal is still a CanceledError', async () => {
  const server = await upstream(() => undefined);
  const hit = server.nextRequest();
  const controller = new AbortController();
  const pending = client.post(server.url, '{}', { timeout: 60_000, signal: controller.signal }).catch((error: unknown) => error);
  const { req } = await hit;
  const socketClosed = closed(req.socket);
  controller.abort();
  expect(await pending).toBeInstanceOf(CanceledError);
  await socketClosed;
});

test('a refused connection is an AxiosError with code ECONNREFUSED (provably not sent)', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port: p } = probe.address() as AddressInfo;
      probe.close(() => resolve(p));
    });
  });
  const error = await client.post(`http://127.0.0.1:${port}/sessions`, '{}').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AxiosError);
  expect((error as AxiosError).code).toBe('ECONNREFUSED');
  const failure = transportFailure(error, 'Resurs', false);
  expect(failure.kind).toBe('network');
  expect(failure.sent).toBe(false);
});

test('a connection reset mid-answer is a network error that may have been sent', async () => {
  const server = await upstream((_req, res) => {
    res.writeHead(200, { 'Content-Length': '1000' });
    res.write('{"id":', () => res.socket?.resetAndDestroy());
  });
  const error = await client.post(server.url, '{}').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AxiosError);
  expect(isCancel(error)).toBe(false);
  expect((error as AxiosError).code).toBe('ECONNRESET');
  const failure = transportFailure(error, 'Resurs', false);
  expect(failure.kind).toBe('network');
  expect(failure.sent).toBe(true);
});

test('sequential requests reuse one keep-alive connection', async () => {
  const server = await upstream((_req, res) => res.end('{}'));
  // undici hands a socket out again one event-loop turn after its answer ended (it checks the
  // server did not close it meanwhile); a request in that same turn opens a second connection.
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  await client.post(server.url, '{}');
  await nextTurn();
  await client.post(server.url, '{}');
  await nextTurn();
  await client.get(server.url);
  expect(server.connections()).toBe(1);
});

test('the POST body and the headers reach the server', async () => {
  const server = await upstream(() => undefined);
  const hit = server.nextRequest();
  const received = hit.then(
    ({ req, res }) =>
      new Promise<{ headers: http.IncomingHttpHeaders; body: string; method?: string; url?: string }>((resolve) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        req.on('end', () => {
          res.end('{}');
          resolve({ headers: req.headers, body, method: req.method, url: req.url });
        });
      }),
  );
  await client.post(`${server.url}/stores/s/sessions`, '{"campaign":"ö"}', {
    headers: {
      Authorization: 'Bearer jwt',
      'Content-Type': 'application/json',
      'X-Request-Id': 'req-1',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  });
  const { headers, body, method, url } = await received;
  expect({ method, url, body }).toEqual({ method: 'POST', url: '/stores/s/sessions', body: '{"campaign":"ö"}' });
  expect(headers).toMatchObject({
    'user-agent': 'express-resurs-checkout/test',
    accept: 'application/json',
    authorization: 'Bearer jwt',
    'content-type': 'application/json',
    'x-request-id': 'req-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'content-length': String(Buffer.byteLength('{"campaign":"ö"}')),
  });
  expect(headers['accept-encoding']).toBeUndefined(); // nothing compressed comes back
});

test('a URLSearchParams body arrives as a form', async () => {
  const server = await upstream(() => undefined);
  const hit = server.nextRequest();
  const pending = client.post(server.url, new URLSearchParams({ grant_type: 'client_credentials', scope: 'a b' }));
  const { req, res } = await hit;
  let body = '';
  for await (const chunk of req) body += (chunk as Buffer).toString('utf8');
  res.end('{}');
  await pending;
  expect(body).toBe('grant_type=client_credentials&scope=a+b');
  expect(req.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
});

test('proxy variables in the environment are ignored', async () => {
  const proxy = await upstream((_req, res) => res.end('{"via":"proxy"}'));
  const target = await upstream((_req, res) => res.end('{"via":"direct"}'));
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  Object.assign(process.env, { HTTP_PROXY: proxy.url, http_proxy: proxy.url });
  delete process.env.NO_PROXY;
  delete process.env.no_proxy;
  try {
    const other = createUndiciAdapter({ maxAnswerBytes: CAP }); // made while the variables are set
    const response = await createClient(other).get(target.url);
    await other.close();
    expect(response.data).toBe('{"via":"direct"}');
    expect(proxy.connections()).toBe(0);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});

test('a given dispatcher carries the requests instead of the own pools', async () => {
  const server = await upstream((_req, res) => res.end('{}'));
  const seen: string[] = [];
  const dispatcher = new Agent().compose((dispatch) => (options, handler) => {
    seen.push(`${options.method} ${String(options.origin)}${options.path}`);
    return dispatch(options, handler);
  });
  const viaDispatcher = createUndiciAdapter({ maxAnswerBytes: CAP, dispatcher });
  const response = await createClient(viaDispatcher).post(`${server.url}/x`, '{}');
  await dispatcher.close();
  expect(response.status).toBe(200);
  expect(seen).toEqual([`POST ${server.url}/x`]);
});

test('without validateStatus a 500 rejects as axios does, with the response', async () => {
  const server = await upstream((_req, res) => res.writeHead(500).end('{"error":"boom"}'));
  const strict = axios.create({ adapter, responseType: 'text', transformResponse: [(data: unknown) => data] });
  const error = await strict.get(server.url).catch((e: unknown) => e);
  expect((error as AxiosError).code).toBe('ERR_BAD_RESPONSE');
  expect((error as AxiosError).response?.status).toBe(500);
  expect((error as AxiosError).response?.data).toBe('{"error":"boom"}');
});

test('idle keep-alive sockets do not keep a process alive', async () => {
  const server = await upstream((_req, res) => res.end('{}'));
  const adapterPath = path.resolve(__dirname, '../../src/transport/undici-adapter.ts');
  // The pool would keep the idle socket for a minute: the child exits at once only if it is unref'd.
  const script = `
    const axios = require('axios');
    const { createUndiciAdapter } = require(${JSON.stringify(adapterPath)});
    const adapter = createUndiciAdapter({ maxAnswerBytes: 65536, keepAliveTimeoutMs: 60000 });
    axios.create({ adapter }).get(${JSON.stringify(server.url)}).then((r) => console.log('status', r.status));
  `;
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
  const guard = setTimeout(() => child.kill('SIGKILL'), 25_000); // a hang guard, not a timing assertion
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  clearTimeout(guard);
  expect({ code, signal, out: out.trim() }).toEqual({ code: 0, signal: null, out: 'status 200' });
  expect(server.connections()).toBe(1);
});
