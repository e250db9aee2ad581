/**
 * The one axios instance per client: no redirects (they would carry the JWT elsewhere), a 64 KiB
 * cap on answers (announced or not, counted on the wire), no proxy from the environment, and
 * bodies left as text so we parse and judge them ourselves. The bytes go over undici (keep-alive
 * pools, no pipelining) unless the merchant gives `httpAgent`/`httpsAgent`: then axios' own http
 * adapter carries them through those agents, as before. `dispatcher` (e.g. undici's ProxyAgent)
 * replaces the pools.
 */
import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import type { Dispatcher } from 'undici';
import { USER_AGENT } from '../version';
import { createUndiciAdapter } from './undici-adapter';

/** Answers larger than this are refused. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** Shared by every client without its own agents or dispatcher; pools are made per origin on first use. */
// Unbounded pools: a request never waits locally for a socket, where its attempt timeout would
// run out and be blamed on Resurs (and open the breaker).
const sharedAdapter = createUndiciAdapter({ maxAnswerBytes: MAX_ANSWER_BYTES });
const sharedHttpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 64 });
const sharedHttpsAgent = new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 64 });

export interface HttpOptions {
  httpAgent?: http.Agent | undefined;
  httpsAgent?: https.Agent | undefined;
  dispatcher?: Dispatcher | undefined;
}

/** Creates the axios instance used for every Resurs call and token request. */
export function createHttp(options: HttpOptions): AxiosInstance {
  const withAgents = options.httpAgent !== undefined || options.httpsAgent !== undefined;
  const instance = withAgents
    ? axios.create({
        adapter: 'http',
        // axios' http adapter follows redirects, reads proxies from the environment, turns JSON
        // into objects and rejects non-2xx answers unless told not to.
        httpAgent: options.httpAgent ?? sharedHttpAgent,
        httpsAgent: options.httpsAgent ?? sharedHttpsAgent,
        maxRedirects: 0,
        proxy: false,
        maxContentLength: MAX_ANSWER_BYTES,
        maxBodyLength: MAX_ANSWER_BYTES,
        responseType: 'text',
        transformRequest: [],
        transformResponse: [],
        validateStatus: null,
      })
    : axios.create({
        adapter: options.dispatcher ? createUndiciAdapter({ maxAnswerBytes: MAX_ANSWER_BYTES, dispatcher: options.dispatcher }) : sharedAdapter,
        maxBodyLength: MAX_ANSWER_BYTES,
      });
  // axios.create copies in all of axios' defaults, and every request merges every one of them
  // again. Keep only what this client uses: the browser-only XSRF names, the environment's
  // FormData, the transitional flags and per-method header buckets cost time on each call. The
  // undici adapter needs fewer still: it caps answers at MAX_ANSWER_BYTES itself, hands back
  // text, and settles every status when validateStatus is unset; with no transforms set, axios
  // leaves bodies as they are.
  const defaults = instance.defaults as unknown as Record<string, unknown>;
  const unused = ['transitional', 'env', 'xsrfCookieName', 'xsrfHeaderName', 'timeout'];
  if (!withAgents) unused.push('maxContentLength', 'responseType', 'transformRequest', 'transformResponse', 'validateStatus');
  for (const key of unused) delete defaults[key];
  instance.defaults.headers = { 'User-Agent': USER_AGENT, Accept: 'application/json' } as unknown as typeof instance.defaults.headers;
  return instance;
}
