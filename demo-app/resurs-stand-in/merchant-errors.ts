/** Error answers of the Merchant API, shaped like Resurs' (ecom2 `Lib/Model/Network/Response/Error`). */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { sendJson } from './http-util';

/** A Merchant API error body: `parameters` maps field paths to messages on validation errors. */
export interface MerchantErrorBody {
  traceId: string;
  code: string;
  message: string;
  timestamp: string;
  parameters?: Record<string, string>;
}

/** Build an error body with a fresh `traceId` and `timestamp`. */
export function merchantError(code: string, message: string, parameters?: Record<string, string>): MerchantErrorBody {
  const body: MerchantErrorBody = { traceId: randomUUID(), code, message, timestamp: new Date().toISOString() };
  if (parameters) body.parameters = parameters;
  return body;
}

/** Answer an error (no-op when the client has gone). */
export function sendMerchantError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  parameters?: Record<string, string>,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, merchantError(code, message, parameters), headers);
}
