/** `POST /oauth2/token`: OAuth2 client credentials, as Resurs' token endpoint answers it. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultSelector } from './fault-plan';
import { applyFault, type FaultAnswers } from './faults';
import { Timers, sendJson } from './http-util';
import type { TokenAuthority } from './tokens';

/** What the token endpoint needs from the server. */
export interface TokenEndpointDeps {
  authority: TokenAuthority;
  clientId: string;
  clientSecret: string;
  tokenTtlSeconds: number;
  faults: FaultSelector;
  timers: Timers;
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

function decodeBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic +(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/** Answer one token request whose body has been read. */
export async function handleTokenEndpoint(req: IncomingMessage, res: ServerResponse, body: string, deps: TokenEndpointDeps): Promise<void> {
  if (req.method !== 'POST') {
    sendJson(res, 405, { error: 'invalid_request', error_description: 'Use POST' }, { Allow: 'POST' });
    return;
  }
  const ttl = deps.tokenTtlSeconds;
  const fault = deps.faults.next();
  if (fault) {
    const answers: FaultAnswers = {
      successStatus: 200,
      sample: () => ({ access_token: deps.authority.issue({ expiresInSeconds: ttl }), token_type: 'Bearer', expires_in: ttl }),
      wrongShape: { access_token: 12345, token_type: 'Bearer' },
    };
    if ((await applyFault(fault, req, res, deps.timers, answers)) === 'answered') return;
  }

  const contentType = req.headers['content-type'] ?? '';
  if (!contentType.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'Body must be application/x-www-form-urlencoded' }, NO_STORE);
    return;
  }
  const form = new URLSearchParams(body);
  const grantType = form.get('grant_type');
  if (!grantType) {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'grant_type is required' }, NO_STORE);
    return;
  }
  if (grantType !== 'client_credentials') {
    sendJson(res, 400, { error: 'unsupported_grant_type' }, NO_STORE);
    return;
  }
  const basic = decodeBasic(req.headers.authorization);
  const id = basic?.id ?? form.get('client_id');
  const secret = basic?.secret ?? form.get('client_secret');
  if (id !== deps.clientId || secret !== deps.clientSecret) {
    const challenge: Record<string, string> = basic ? { 'WWW-Authenticate': 'Basic realm="resurs-stand-in"' } : {};
    sendJson(res, 401, { error: 'invalid_client' }, { ...NO_STORE, ...challenge });
    return;
  }
  const scope = form.get('scope') || 'merchant-api';
  const expired = fault?.kind === 'past-expiry';
  const token = deps.authority.issue({ scope, clientId: id, expiresInSeconds: expired ? -60 : ttl });
  sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: expired ? 0 : ttl, scope }, NO_STORE);
}
