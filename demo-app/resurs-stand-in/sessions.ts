/** Create Session: `POST {baseUrl}/stores/:storeId/sessions`, and the sessions it remembers. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultSelector } from './fault-plan';
import { applyFault, type FaultAnswers } from './faults';
import { Timers, isoSeconds, sendJson } from './http-util';
import type { TokenAuthority } from './tokens';

/** What the stand-in remembers of a session, for the payment-method route. */
export interface StoredSession {
  storeId: string;
  campaign?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Sessions by id, dropping the oldest past `max` entries. */
export class SessionRegistry {
  private readonly sessions = new Map<string, StoredSession>();

  constructor(private readonly max: number) {}

  add(id: string, session: StoredSession): void {
    this.sessions.set(id, session);
    while (this.sessions.size > this.max) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
  }

  get(id: string): StoredSession | undefined {
    return this.sessions.get(id);
  }

  get size(): number {
    return this.sessions.size;
  }
}

/** What Create Session needs from the server. */
export interface CreateSessionDeps {
  authority: TokenAuthority;
  registry: SessionRegistry;
  faults: FaultSelector;
  timers: Timers;
  /** Known campaign names, or `'any'`. */
  campaigns: ReadonlySet<string> | 'any';
  scriptUrl: string;
  sessionTtlSeconds: number;
  latencyMs: () => number;
}

/** `embed.src` of the `foreign-script` fault. */
export const FOREIGN_SCRIPT_URL = 'https://evil.example/payment/standin/resurs-payment-elements.js';

const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };

type Parsed = { ok: true; campaign?: string } | { ok: false; status: number; message: string };

function parseRequest(req: IncomingMessage, body: string, campaigns: ReadonlySet<string> | 'any'): Parsed {
  const contentType = req.headers['content-type'];
  if (contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
    return { ok: false, status: 415, message: 'Content-Type must be application/json' };
  }
  if (body.trim() === '') return { ok: true };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, status: 400, message: 'Malformed JSON body' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, status: 400, message: 'Body must be a JSON object' };
  }
  const campaign: unknown = (value as Record<string, unknown>).campaign;
  if (campaign === undefined) return { ok: true };
  if (typeof campaign !== 'string') return { ok: false, status: 400, message: 'campaign must be a string' };
  if (campaigns !== 'any' && !campaigns.has(campaign)) return { ok: false, status: 400, message: `Unknown campaign "${campaign}"` };
  return { ok: true, campaign };
}

/** Answer one Create Session request whose body has been read. */
export async function handleCreateSession(
  req: IncomingMessage,
  res: ServerResponse,
  storeId: string,
  body: string,
  deps: CreateSessionDeps,
): Promise<void> {
  if (req.method !== 'POST') {
    sendJson(res, 405, { message: 'Use POST' }, { Allow: 'POST' });
    return;
  }
  const fault = deps.faults.next();
  if (fault) {
    const answers: FaultAnswers = {
      successStatus: 201,
      sample: () => ({ id: randomUUID(), expiresAt: isoSeconds(Date.now() + deps.sessionTtlSeconds * 1000), embed: { src: deps.scriptUrl } }),
      wrongShape: { id: 12345, expiresAt: 'soon', embed: 'not-an-object' },
    };
    if ((await applyFault(fault, req, res, deps.timers, answers)) === 'answered') return;
  }
  await deps.timers.delay(deps.latencyMs());

  const auth = deps.authority.verifyHeader(req.headers.authorization);
  if (!auth.ok) {
    sendJson(res, 401, { message: auth.message }, INVALID_TOKEN);
    return;
  }
  if (auth.claims.storeId !== undefined && auth.claims.storeId !== storeId) {
    sendJson(res, 403, { message: `Token is not valid for store "${storeId}"` });
    return;
  }
  const parsed = parseRequest(req, body, deps.campaigns);
  if (!parsed.ok) {
    sendJson(res, parsed.status, { message: parsed.message });
    return;
  }

  const now = Date.now();
  const expiresAt = Math.floor((fault?.kind === 'past-expiry' ? now - 60_000 : now + deps.sessionTtlSeconds * 1000) / 1000) * 1000;
  const id = randomUUID();
  const session: StoredSession = { storeId, expiresAt };
  if (parsed.campaign !== undefined) session.campaign = parsed.campaign;
  deps.registry.add(id, session);
  const src = fault?.kind === 'foreign-script' ? FOREIGN_SCRIPT_URL : deps.scriptUrl;
  sendJson(res, 201, { id, expiresAt: isoSeconds(expiresAt), embed: { src } });
}
