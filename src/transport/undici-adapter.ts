/**
 * An axios adapter over undici: axios stays the client (instance, interceptors, error types),
 * undici carries the bytes. Keep-alive pools, one per origin, no pipelining. Never follows a
 * redirect, never reads proxy variables from the environment, and refuses an answer as soon as
 * more than the cap has arrived on the wire (at once when Content-Length announces more).
 */
import axios, { AxiosError, AxiosHeaders, CanceledError } from 'axios';
import type { AxiosAdapter, AxiosResponse, InternalAxiosRequestConfig } from 'axios';
import { linkedStop } from '../resilience/stop';
import type { StopSignal } from '../resilience/stop';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';

export interface UndiciAdapterOptions {
  /**
   * Sends every request through this undici dispatcher instead of the adapter's own pools, e.g.
   * `new ProxyAgent('http://proxy.corp:3128')` for a corporate proxy, or an `Agent` with tuned
   * TLS. The adapter never closes it: its owner does.
   */
  dispatcher?: Dispatcher | undefined;
  /** Answers with more bytes than this are refused; a request's `maxContentLength` may only lower it. */
  maxAnswerBytes: number;
  /**
   * Connections per origin in the adapter's own pools. Default: unbounded, so a burst never waits
   * in a local queue (time spent there would count against Resurs as a timeout).
   */
  connections?: number | null | undefined;
  /** How long an idle keep-alive socket is kept, in ms, unless the server's Keep-Alive hint says less (default 4000). */
  keepAliveTimeoutMs?: number | undefined;
}

/** An axios adapter that can also close the connections it opened. */
export interface UndiciAdapter extends AxiosAdapter {
  /** Closes the adapter's pools (after their requests finish). A later request opens new ones. */
  close(): Promise<void>;
}

/** What `response.request` and `error.request` hold: the request as sent, without its headers. */
export interface UndiciRequestInfo {
  method: string;
  origin: string;
  path: string;
}

type Body = string | Buffer | undefined;

/**
 * Creates an axios adapter over undici. Use it as `axios.create({ adapter })`. Honours the
 * config's `signal` (aborting destroys the request and rejects with a `CanceledError`),
 * `timeout`, `validateStatus`, `maxContentLength`, `maxBodyLength`, `auth` and `responseType`
 * (`'arraybuffer'` gives a Buffer, anything else but `'stream'` a string). Ignores `proxy`,
 * `httpAgent`, `httpsAgent`, `maxRedirects` (nothing is ever followed) and `decompress` (no
 * Accept-Encoding is sent unless the caller sets one).
 *
 * Connection errors become an AxiosError whose `code` is the socket's (`ECONNREFUSED`,
 * `ENOTFOUND`, ...); a connection lost mid-request is `ECONNRESET`; undici's own timeouts are
 * `ETIMEDOUT`; an answer over the cap is `ERR_BAD_RESPONSE` "maxContentLength size of N exceeded",
 * as axios' own adapters say.
 */
export function createUndiciAdapter(options: UndiciAdapterOptions): UndiciAdapter {
  const pools = new Map<string, Pool>();
  const dispatcherFor = (origin: string): Dispatcher => {
    if (options.dispatcher) return options.dispatcher;
    let pool = pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: options.connections ?? null,
        pipelining: 1,
        keepAliveTimeout: options.keepAliveTimeoutMs ?? 4_000,
      });
      pools.set(origin, pool);
    }
    return pool;
  };

  const adapter = (config: InternalAxiosRequestConfig): Promise<AxiosResponse> => send(config, options, dispatcherFor);
  return Object.assign(adapter, {
    close: async () => {
      const closing = [...pools.values()].map((pool) => pool.close());
      pools.clear();
      await Promise.all(closing);
    },
  });
}

async function send(
  config: InternalAxiosRequestConfig,
  options: UndiciAdapterOptions,
  dispatcherFor: (origin: string) => Dispatcher,
): Promise<AxiosResponse> {
  const url = parseUrl(fullUrl(config));
  if (!url) throw new AxiosError('Invalid URL', AxiosError.ERR_INVALID_URL, config);
  const request: UndiciRequestInfo = { method: (config.method ?? 'get').toUpperCase(), origin: url.origin, path: url.pathname + url.search };
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AxiosError(`Unsupported protocol ${url.protocol}`, AxiosError.ERR_BAD_REQUEST, config, request);
  }
  const body = requestBody(config.data);
  if (body === null) throw new AxiosError('Request body type not supported by the undici adapter', AxiosError.ERR_NOT_SUPPORT, config, request);
  if (config.responseType === 'stream') throw new AxiosError("Response type 'stream' is not supported", AxiosError.ERR_NOT_SUPPORT, config, request);
  if (isLimit(config.maxBodyLength) && body !== undefined && Buffer.byteLength(body) > config.maxBodyLength) {
    throw new AxiosError('Request body larger than maxBodyLength limit', AxiosError.ERR_BAD_REQUEST, config, request);
  }
  const cap = isLimit(config.maxContentLength) ? Math.min(config.maxContentLength, options.maxAnswerBytes) : options.maxAnswerBytes;

  const signals = abortSignals(config);
  try {
    const answer = await exchange(
      dispatcherFor(request.origin),
      { origin: request.origin, path: request.path, method: request.method as Dispatcher.HttpMethod, headers: requestHeaders(config, url), body: body ?? null },
      signals.signal,
      cap,
      () => tooLarge(cap, config, request),
    );
    const bytes = answer.bytes;
    const response: AxiosResponse = {
      data: config.responseType === 'arraybuffer' ? bytes : bytes.toString('utf8'),
      status: answer.statusCode,
      statusText: answer.statusText,
      headers: new AxiosHeaders(answer.headers as Record<string, string | string[]>),
      config,
      request,
    };
    const { validateStatus } = config;
    if (!validateStatus || validateStatus(response.status)) return response;
    throw new AxiosError(
      `Request failed with status code ${response.status}`,
      response.status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE,
      config,
      request,
      response,
    );
  } catch (error) {
    throw signals.timedOut()
      ? new AxiosError(`timeout of ${config.timeout}ms exceeded`, AxiosError.ECONNABORTED, config, request)
      : config.signal?.aborted
        ? new CanceledError(undefined, config, request)
        : asAxiosError(error, config, request);
  } finally {
    signals.done();
  }
}

/** The absolute URL; axios' own joining only when there is a baseURL or params to apply. */
const fullUrl = (config: InternalAxiosRequestConfig): string => (config.baseURL || config.params ? axios.getUri(config) : config.url ?? '');

/** One parse (URL.canParse and then new URL would be two). */
function parseUrl(href: string): URL | undefined {
  try {
    return new URL(href);
  } catch {
    return undefined;
  }
}

const isLimit = (n: number | undefined): n is number => typeof n === 'number' && n > -1;

/** The body axios' transformRequest left (a string for JSON and forms), as undici takes it; null if unsupported. */
function requestBody(data: unknown): Body | null {
  if (data === undefined || data === null) return undefined;
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
  if (data instanceof URLSearchParams) return data.toString();
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

/** axios' headers as a plain object, with axios' User-Agent and `auth` applied as its http adapter does. */
function requestHeaders(config: InternalAxiosRequestConfig, url: URL): Record<string, string> {
  const headers = AxiosHeaders.from(config.headers);
  headers.set('User-Agent', `axios/${axios.VERSION}`, false);
  const user = config.auth ?? (url.username || url.password ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined);
  if (user) headers.set('Authorization', `Basic ${Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64')}`);
  const plain: Record<string, string> = {};
  const json = headers.toJSON(true); // without null/false values; arrays joined
  for (const name in json) plain[name] = String(json[name]);
  return plain;
}

/** The request's own signal, plus config.timeout when set (`timedOut` tells the two apart). */
function abortSignals(config: InternalAxiosRequestConfig): { signal: StopSignal | undefined; timedOut(): boolean; done(): void } {
  const own = config.signal as StopSignal | undefined;
  if (!config.timeout) return { signal: own, timedOut: () => false, done: () => undefined };
  const link = linkedStop(own, config.timeout);
  return { signal: link.stop, timedOut: link.timedOut, done: link.dispose };
}

/** An answer as read off the wire. */
interface Answer {
  statusCode: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  bytes: Buffer;
}

/**
 * One request through `dispatcher`'s handler interface (no response stream is made): the whole
 * body, counted as it arrives. Past `cap` (or at once when Content-Length announces more) the
 * request is aborted, which drops its connection. `signal` aborts it with its reason.
 */
function exchange(dispatcher: Dispatcher, request: Dispatcher.DispatchOptions, signal: StopSignal | undefined, cap: number, tooLargeError: () => AxiosError): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let statusCode = 0;
    let statusText = '';
    let headers: Answer['headers'] = {};
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: unknown): void => {
      if (settle()) reject(error);
    };
    /** Aborts the request (undici then reports `error` back, which finds it settled) and rejects. */
    const stop = (error: unknown): void => {
      controller?.abort(error as Error);
      fail(error);
    };
    const onAbort = (): void => stop(signal!.reason);
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', onAbort);
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        controller = started;
        if (settled) started.abort(signal?.reason as Error); // stopped while waiting for a connection
      },
      onResponseStart(_controller, status, responseHeaders, message) {
        if (status < 200) return; // 1xx: informational, the answer follows
        statusCode = status;
        statusText = message ?? '';
        headers = responseHeaders;
        const announced = request.method === 'HEAD' ? 0 : Number(responseHeaders['content-length']); // a HEAD answer has no body
        if (announced > cap) stop(tooLargeError());
      },
      onResponseData(_controller, chunk) {
        if (settled) return;
        size += chunk.length;
        if (size > cap) return stop(tooLargeError());
        chunks.push(chunk);
      },
      onResponseEnd() {
        if (settle()) resolve({ statusCode, statusText, headers, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
      },
      onResponseError(_controller, error) {
        fail(error);
      },
    };
    try {
      dispatcher.dispatch(request, handler);
    } catch (error) {
      fail(error); // a dispatcher of the merchant's that throws instead of reporting
    }
  });
}

const tooLarge = (cap: number, config: InternalAxiosRequestConfig, request: UndiciRequestInfo) =>
  new AxiosError(`maxContentLength size of ${cap} exceeded`, AxiosError.ERR_BAD_RESPONSE, config, request);

/** undici's error codes that mean the connection was lost or timed out, as the socket codes axios users know. */
const CODES: Record<string, string> = {
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_CLOSED: 'ECONNRESET',
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_HEADERS_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_BODY_TIMEOUT: 'ETIMEDOUT',
};

function asAxiosError(error: unknown, config: InternalAxiosRequestConfig, request: UndiciRequestInfo): AxiosError {
  if (error instanceof AxiosError) {
    error.config ??= config;
    error.request ??= request;
    return error;
  }
  // Not `instanceof Error`: errors from node's own modules may come from another realm (e.g. under jest).
  const raw = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return AxiosError.from(error, raw !== undefined ? CODES[raw] ?? raw : AxiosError.ERR_NETWORK, config, request);
}
