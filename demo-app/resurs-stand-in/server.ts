/** `startStandIn`: the HTTP server that imitates Resurs for the demo, the tests and the benchmarks. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  APPROVAL_PAGE_PATH,
  CONTROL_PATH,
  DEMO_CLIENT_ID,
  DEMO_CLIENT_SECRET,
  DEMO_JWT_SECRET,
  MAX_MERCHANT_BODY_BYTES,
  MERCHANT_API_PATH,
  MOCK_API_PATH,
  SCRIPT_PATH,
  STAND_IN_CAMPAIGNS,
  TOKEN_PATH,
} from './constants';
import { DEFAULT_CALLBACK_DELIVERY, mergeCallbackDelivery } from './callbacks';
import { handleControl } from './control';
import { FaultSelector } from './fault-plan';
import { Timers, readBody, sendJson, sendTooLarge, splitUrl } from './http-util';
import { MerchantApi } from './merchant-api';
import { sendPaymentElementsScript } from './payment-elements-script';
import { handlePaymentMethodGroups } from './payment-methods';
import { SessionRegistry, handleCreateSession } from './sessions';
import { handleTokenEndpoint } from './token-endpoint';
import { TokenAuthority } from './tokens';
import type { FaultPlan, RecordedRequest, StandIn, StandInOptions } from './types';

export * from './constants';
export type * from './types';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const SESSIONS_ROUTE = new RegExp(`^${escape(MOCK_API_PATH)}/stores/([^/]+)/sessions/?$`);
const GROUPS_ROUTE = new RegExp(`^${escape(MOCK_API_PATH)}/sessions/([^/]+)/payment-method-groups/?$`);

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Appends to a recording list, dropping the oldest entries past `max`. */
function pushBounded(list: RecordedRequest[], entry: RecordedRequest, max: number): void {
  list.push(entry);
  if (list.length > max) list.splice(0, list.length - max);
}

/** Start a stand-in on `host:port` (default 127.0.0.1 and a random free port). */
export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? DEMO_CLIENT_ID;
  const clientSecret = options.clientSecret ?? DEMO_CLIENT_SECRET;
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  const sessionTtlSeconds = options.sessionTtlSeconds ?? 900;
  const maxRecorded = options.maxRecordedRequests ?? 10_000;
  const authority = new TokenAuthority(options.jwtSecret ?? DEMO_JWT_SECRET, clientId, tokenTtlSeconds);
  const registry = new SessionRegistry(options.maxSessions ?? 100_000);
  const sessionFaults = new FaultSelector();
  const tokenFaults = new FaultSelector();
  const timers = new Timers();
  const campaigns = options.campaigns === 'any' ? 'any' : new Set(options.campaigns ?? STAND_IN_CAMPAIGNS);
  const sockets = new Set<Socket>();
  const sessionRequests: RecordedRequest[] = [];
  const tokenRequests: RecordedRequest[] = [];
  const counts = { sessionRequests: 0, tokenRequests: 0 };
  let latencyMs = options.latencyMs ?? 0;
  let scriptUrl = '';
  const merchantApi = new MerchantApi({
    authority,
    timers,
    maxPayments: options.maxPayments ?? 100_000,
    maxRecorded,
    callbackDelivery: mergeCallbackDelivery(DEFAULT_CALLBACK_DELIVERY, options.callbackDelivery ?? {}),
  });
  const merchant = merchantApi.control();

  const control = {
    setFaults: (plan: FaultPlan | null): void => sessionFaults.set(plan),
    setTokenFaults: (plan: FaultPlan | null): void => tokenFaults.set(plan),
    setLatency: (ms: number): void => {
      if (!Number.isFinite(ms) || ms < 0) throw new TypeError('latency must be a non-negative number of milliseconds');
      latencyMs = ms;
    },
    reset: (): void => {
      sessionRequests.length = 0;
      tokenRequests.length = 0;
      counts.sessionRequests = 0;
      counts.tokenRequests = 0;
      sessionFaults.set(null);
      tokenFaults.set(null);
      latencyMs = options.latencyMs ?? 0;
      merchantApi.reset();
    },
    stats: () => ({ ...counts }),
    merchant: { merchant, stats: () => merchantApi.stats() },
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { path, query } = splitUrl(req.url);
    const isMerchantApi = path === MERCHANT_API_PATH || path.startsWith(`${MERCHANT_API_PATH}/`);
    const body = await readBody(req, isMerchantApi ? MAX_MERCHANT_BODY_BYTES : undefined);
    if (isMerchantApi) return merchantApi.handleApi(req, res, path.slice(MERCHANT_API_PATH.length), body, query);
    const record = (): RecordedRequest => ({ method: req.method ?? '', path, headers: req.headers, body: body.text, at: Date.now() });

    const session = SESSIONS_ROUTE.exec(path);
    if (session) {
      counts.sessionRequests += 1;
      pushBounded(sessionRequests, record(), maxRecorded);
      if (body.tooLarge) return sendTooLarge(res);
      const storeId = decode(session[1]);
      if (storeId === undefined) return sendJson(res, 400, { message: 'Malformed store id' });
      return handleCreateSession(req, res, storeId, body.text, {
        authority, registry, faults: sessionFaults, timers, campaigns, scriptUrl, sessionTtlSeconds, latencyMs: () => latencyMs,
      });
    }
    if (path === TOKEN_PATH) {
      counts.tokenRequests += 1;
      pushBounded(tokenRequests, record(), maxRecorded);
      if (body.tooLarge) return sendTooLarge(res);
      return handleTokenEndpoint(req, res, body.text, { authority, clientId, clientSecret, tokenTtlSeconds, faults: tokenFaults, timers });
    }
    if (body.tooLarge) return sendTooLarge(res);
    const groups = GROUPS_ROUTE.exec(path);
    if (groups) {
      const sessionId = decode(groups[1]);
      if (sessionId === undefined) return sendJson(res, 400, { message: 'Malformed session id' }, { 'Access-Control-Allow-Origin': '*' });
      return handlePaymentMethodGroups(req, res, sessionId, query, registry);
    }
    if (path === SCRIPT_PATH && (req.method === 'GET' || req.method === 'HEAD')) return sendPaymentElementsScript(res);
    if (path.startsWith(`${APPROVAL_PAGE_PATH}/`)) return merchantApi.handleApprovalPage(req, res, path.slice(APPROVAL_PAGE_PATH.length), body.text);
    if (path.startsWith(`${CONTROL_PATH}/`)) return handleControl(req, res, path.slice(CONTROL_PATH.length + 1), body.text, control);
    sendJson(res, 404, { message: `No stand-in route for ${req.method ?? ''} ${path}` });
  }

  const server = createServer((req, res) => {
    route(req, res).catch(() => sendJson(res, 500, { message: 'Stand-in internal error' }));
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const { port } = server.address() as AddressInfo;
  const url = `http://${urlHost(host)}:${port}`;
  scriptUrl = url + SCRIPT_PATH;
  merchantApi.setOrigin(url);
  let closing: Promise<void> | undefined;

  return {
    url,
    baseUrl: url + MOCK_API_PATH,
    tokenUrl: url + TOKEN_PATH,
    merchantApiUrl: url + MERCHANT_API_PATH,
    merchant,
    scriptOrigin: url,
    sessionRequests,
    tokenRequests,
    issueToken: (claims = {}) => authority.issue(claims),
    setFaults: control.setFaults,
    setTokenFaults: control.setTokenFaults,
    setLatency: control.setLatency,
    reset: control.reset,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        timers.clear();
        merchantApi.close();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
