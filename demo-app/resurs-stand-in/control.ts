/** Loopback-only control routes under `/__stand-in/`, so other processes can steer the stand-in. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isLoopback, sendJson } from './http-util';
import { handleMerchantControl, type MerchantControlTarget } from './merchant-control';
import type { FaultPlan } from './types';

/** What the control routes act on. */
export interface ControlTarget {
  setFaults(plan: FaultPlan | null): void;
  setTokenFaults(plan: FaultPlan | null): void;
  setLatency(ms: number): void;
  reset(): void;
  /** Requests received since start or the last reset (not capped like the recordings). */
  stats(): { sessionRequests: number; tokenRequests: number };
  /** The Merchant API's control routes (see merchant-control.ts). */
  merchant: MerchantControlTarget;
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  if (body.trim() === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false };
  }
}

type Action = (value: unknown) => void;

function actions(target: ControlTarget): Record<string, Action> {
  return {
    faults: (value) => target.setFaults(value as FaultPlan | null),
    'token-faults': (value) => target.setTokenFaults(value as FaultPlan | null),
    latency: (value) => {
      const ms = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).ms : undefined;
      if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 600_000) throw new TypeError('latency body must be {"ms": 0..600000}');
      target.setLatency(ms);
    },
    reset: () => target.reset(),
  };
}

/**
 * Answer a control request. `name` is the path after `/__stand-in/`: `POST faults` (a FaultPlan,
 * or null/empty to clear), `POST token-faults`, `POST latency` `{ms}`, `POST reset`, `GET stats`,
 * and the Merchant API's routes (merchant-control.ts).
 */
export async function handleControl(req: IncomingMessage, res: ServerResponse, name: string, body: string, target: ControlTarget): Promise<void> {
  if (!isLoopback(req)) {
    sendJson(res, 403, { message: 'Control routes answer loopback clients only' });
    return;
  }
  if (await handleMerchantControl(req, res, name, parseJson(body), target.merchant)) return;
  if (name === 'stats') {
    if (req.method !== 'GET') return sendJson(res, 405, { message: 'Use GET' }, { Allow: 'GET' });
    return sendJson(res, 200, target.stats());
  }
  const table = actions(target);
  const action = Object.hasOwn(table, name) ? table[name] : undefined;
  if (!action) return sendJson(res, 404, { message: `No control route "${name}"` });
  if (req.method !== 'POST') return sendJson(res, 405, { message: 'Use POST' }, { Allow: 'POST' });
  const parsed = parseJson(body);
  if (!parsed.ok) return sendJson(res, 400, { message: 'Malformed JSON body' });
  try {
    action(parsed.value);
  } catch (error) {
    return sendJson(res, 400, { message: error instanceof Error ? error.message : 'Invalid request' });
  }
  sendJson(res, 200, { ok: true });
}
