/** Public types of the Resurs stand-in. */

/** Options for {@link StandIn} start-up; every field has a demo-friendly default. */
export interface StandInOptions {
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /** Port; default 0 (a random free port). */
  port?: number;
  /** HS256 secret used to sign and verify merchant JWTs; default `DEMO_JWT_SECRET`. */
  jwtSecret?: string;
  /** OAuth2 client id; default `DEMO_CLIENT_ID`. */
  clientId?: string;
  /** OAuth2 client secret; default `DEMO_CLIENT_SECRET`. */
  clientSecret?: string;
  /** `expires_in` of issued tokens; default 3600. */
  tokenTtlSeconds?: number;
  /** Sessions expire this many seconds after creation; default 900. */
  sessionTtlSeconds?: number;
  /** Delay added before every Create Session answer; default 0. */
  latencyMs?: number;
  /** Sessions kept for the payment-method route; the oldest are dropped past this; default 100 000. */
  maxSessions?: number;
  /** Recorded requests kept per list; the oldest are dropped past this; default 10 000. */
  maxRecordedRequests?: number;
}

/** One request as the stand-in received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** `Date.now()` when the body had been read. */
  at: number;
}

/** One misbehaviour the stand-in can show instead of (or before) its normal answer. */
export type Fault =
  /** Wait, then answer normally. */
  | { kind: 'latency'; ms: number }
  /** Answer this status; `body` is sent as JSON (a string is sent verbatim as text/plain). */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** 201 with a JSON content type but an invalid JSON body. */
  | { kind: 'malformed-json' }
  /** 201 with valid JSON whose fields are missing or of the wrong type. */
  | { kind: 'wrong-shape' }
  /** 201 with `expiresAt` in the past (the session is stored, so the browser route refuses it). */
  | { kind: 'past-expiry' }
  /** 201 with `embed.src` on https://evil.example. */
  | { kind: 'foreign-script' }
  /** Redirect (default 302) to `location`. */
  | { kind: 'redirect'; location: string; status?: number }
  /** 201 with a JSON-looking body of exactly `bytes` bytes, with Content-Length or chunked. */
  | { kind: 'oversized'; bytes: number; announceLength: boolean }
  /** 201 headers, then a body that never ends (until the client goes away or close()). */
  | { kind: 'endless' }
  /** Reset the connection without answering. */
  | { kind: 'drop' }
  /** Send headers and part of the body, then destroy the socket. */
  | { kind: 'reset-mid-answer' }
  /** Never answer (until the client gives up or close()). */
  | { kind: 'hang' };

/** Which requests get which fault. Precedence: `queue`, then `always`, then `ratio`. */
export interface FaultPlan {
  /** Applied one each to the next requests, in order. */
  queue?: Fault[];
  /** Applied to every request once the queue is empty. */
  always?: Fault;
  /** Applied at random to this share (0..1) of requests once the queue is empty. */
  ratio?: { share: number; fault: Fault };
  /** Seed of the PRNG behind `ratio`, for reproducible runs; random when omitted. */
  seed?: number;
}

/** A running stand-in. */
export interface StandIn {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  /** `url` + '/mock/payment/public/v1' */
  baseUrl: string;
  /** `url` + '/oauth2/token' */
  tokenUrl: string;
  /** Origin of `embed.src` (= `url`). */
  scriptOrigin: string;
  /** Every Create Session request received (faulted ones too), in order. */
  sessionRequests: RecordedRequest[];
  /** Every token-endpoint request, in order. */
  tokenRequests: RecordedRequest[];
  /** Sign a merchant JWT the stand-in accepts; a negative `expiresInSeconds` gives an expired one. */
  issueToken(claims?: { expiresInSeconds?: number; storeId?: string; scope?: string }): string;
  /** Fault plan for Create Session; `null` clears. Throws TypeError on an invalid plan. */
  setFaults(plan: FaultPlan | null): void;
  /** Fault plan for the token endpoint; `null` clears. Throws TypeError on an invalid plan. */
  setTokenFaults(plan: FaultPlan | null): void;
  /** Delay before every Create Session answer. */
  setLatency(ms: number): void;
  /** Clear recordings and both fault plans; latency back to the option. Sessions are kept. */
  reset(): void;
  /** Close the server and destroy every open socket (keep-alive, hanging, endless). */
  close(): Promise<void>;
}
