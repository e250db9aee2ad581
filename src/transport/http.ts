/**
 * The one axios instance per client: keep-alive agents, no redirects (they would carry the JWT
 * elsewhere), a 64 KiB cap on answers (announced or not), no proxy from the environment (pass
 * an agent for that), and bodies left as text so we parse and judge them ourselves.
 */
import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import type { AxiosInstance } from 'axios';
import { USER_AGENT } from '../version';

/** Answers larger than this are refused. */
export const MAX_ANSWER_BYTES = 64 * 1024;

const sharedHttpAgent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });
const sharedHttpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64 });

export interface HttpOptions {
  httpAgent?: http.Agent | undefined;
  httpsAgent?: https.Agent | undefined;
}

/** Creates the axios instance used for Create Session and token requests. */
export function createHttp(options: HttpOptions): AxiosInstance {
  return axios.create({
    httpAgent: options.httpAgent ?? sharedHttpAgent,
    httpsAgent: options.httpsAgent ?? sharedHttpsAgent,
    maxRedirects: 0,
    maxContentLength: MAX_ANSWER_BYTES,
    maxBodyLength: MAX_ANSWER_BYTES,
    proxy: false,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    headers: { 'User-Agent': USER_AGENT, Accept: 'application/json' },
  });
}
