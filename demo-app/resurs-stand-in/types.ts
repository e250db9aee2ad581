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
  /** Merchant API payments kept in memory; the oldest are dropped past this; default 100 000. */
  maxPayments?: number;
  /**
   * Campaign names Create Session accepts (others answer 400, as Resurs does for a campaign it
   * does not know); `'any'` accepts every name (property tests). Default STAND_IN_CAMPAIGNS.
   */
  campaigns?: readonly string[] | 'any';
  /** How callbacks are delivered (attempts, retry interval, timeout); see {@link CallbackDelivery}. */
  callbackDelivery?: Partial<CallbackDelivery>;
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
  | { kind: 'hang' }
  /**
   * Merchant API create and capture/cancel/refund: the request takes effect (the payment is
   * stored and findable by search; the action is applied and its callback sent), then the
   * connection is reset without an answer. Elsewhere the same as `drop`.
   */
  | { kind: 'record-then-drop' }
  /** Like `record-then-drop`, but then no answer at all until the client gives up or close(). Elsewhere `hang`. */
  | { kind: 'record-then-hang' }
  /** Like `record-then-drop`, but then answer this status (body as in `status`). Elsewhere `status`. */
  | { kind: 'record-then-status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Merchant API create only: answer normally, but with `taskRedirectionUrls.customerUrl` set to `url`. */
  | { kind: 'customer-url'; url: string };

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

/** Payment statuses of Resurs' Merchant API v2 (ecom2 `Module/Payment/Enum/Status`). */
export type PaymentStatus = 'TASK_REDIRECTION_REQUIRED' | 'INSPECTION' | 'SUPPLEMENTING_REQUIRED' | 'FROZEN' | 'ACCEPTED' | 'REJECTED';

/** `status` of an authorization callback. */
export type AuthorizationCallbackStatus = 'AUTHORIZED' | 'CAPTURED' | 'FROZEN' | 'REJECTED';

/** `action` of a management callback, and the route that causes it. */
export type ManagementAction = 'CAPTURE' | 'CANCEL' | 'REFUND';

/** Entries of `order.possibleActions` (ecom2 `PossibleAction`). */
export type PossibleAction = 'CAPTURE' | 'PARTIAL_CAPTURE' | 'REFUND' | 'PARTIAL_REFUND' | 'CANCEL' | 'PARTIAL_CANCEL';

/** One order line as the merchant sent it (extra fields are kept as sent). */
export interface PaymentOrderLine {
  description?: string;
  reference?: string;
  quantity: number;
  quantityUnit?: string;
  vatRate: number;
  unitAmountIncludingVat?: number;
  totalAmountIncludingVat: number;
  totalVatAmount?: number;
  type?: string;
  [field: string]: unknown;
}

/** One entry of `order.actionLog` (CREATE and every action) and of `paymentActions` (actions only). */
export interface PaymentActionEntry {
  actionId: string;
  type: 'CREATE' | ManagementAction;
  /** ISO 8601. */
  created: string;
  /** Sum of the lines' `totalAmountIncludingVat`. */
  amount: number;
  orderLines: PaymentOrderLine[];
  creator?: string;
}

/** A payment as the Merchant API answers it (create, get, search, capture, cancel, refund). */
export interface MerchantPayment {
  /** UUID. */
  id: string;
  /** ISO 8601. */
  created: string;
  storeId: string;
  paymentMethodId: string;
  paymentMethod: { name: string; type: string };
  countryCode: string;
  customer?: Record<string, unknown>;
  status: PaymentStatus;
  /** Capture, cancel and refund actions, oldest first. */
  paymentActions: PaymentActionEntry[];
  order: {
    orderReference: string;
    orderLines: PaymentOrderLine[];
    /** Sum of the lines' `totalAmountIncludingVat` (the same as `totalOrderAmount`). */
    totalAmountIncludingVat: number;
    totalOrderAmount: number;
    authorizedAmount: number;
    capturedAmount: number;
    canceledAmount: number;
    refundedAmount: number;
    actionLog: PaymentActionEntry[];
    possibleActions: { action: PossibleAction }[];
  };
  application: { requestedCreditLimit: number; approvedCreditLimit: number };
  /** Present while `status` is TASK_REDIRECTION_REQUIRED: where the shopper approves or declines. */
  taskRedirectionUrls?: { customerUrl: string };
}

/** What the stand-in keeps of a create request's `options` (URLs exactly as sent). */
export interface PaymentOptionsRecord {
  initiatedOnCustomersDevice?: boolean;
  handleFrozenPayments?: boolean;
  successUrl?: string;
  failUrl?: string;
  authorizationCallbackUrl?: string;
  managementCallbackUrl?: string;
  timeToLiveInMinutes: number;
  /** ISO 8601: after this the approval page refuses the payment. */
  expiresAt: string;
}

/** One Merchant API request as the stand-in received it (faulted ones too). */
export interface MerchantRequest {
  method: string;
  /** Path after `merchantApiUrl`, e.g. '/v2/payments/search'. */
  path: string;
  /** Which route it matched. */
  route: 'create' | 'get' | 'search' | 'capture' | 'cancel' | 'refund' | 'unknown';
  headers: Record<string, string | string[] | undefined>;
  /** True when an Authorization header was sent (valid or not). */
  authorization: boolean;
  /** The X-Request-Id header, if any. */
  requestId?: string;
  /** The body as sent. */
  bodyText: string;
  /** The body parsed as JSON; undefined when empty or not JSON. */
  body: unknown;
  /** `Date.now()` when the body had been read. */
  at: number;
}

/** Body of an authorization callback. */
export interface AuthorizationCallbackBody {
  paymentId: string;
  status: AuthorizationCallbackStatus;
  created: string;
}

/** Body of a management callback. */
export interface ManagementCallbackBody {
  paymentId: string;
  action: ManagementAction;
  actionId: string;
  created: string;
}

/** Which callback URL a callback goes to. */
export type CallbackKind = 'authorization' | 'management';

/** One delivery attempt of a callback, recorded when it finished. */
export interface CallbackRecord {
  /** All attempts (retries) of one delivery share this number; duplicates get their own. */
  deliveryId: number;
  kind: CallbackKind;
  /** The URL posted to (exactly the one given on create, unless `forged`). */
  url: string;
  body: AuthorizationCallbackBody | ManagementCallbackBody;
  /** 1 for the first try, 2 for the first retry, ... */
  attempt: number;
  /** Set on a forged delivery: `bad-sig` (sig altered) or `other-ref` (another order's URL or ref). */
  forged?: 'bad-sig' | 'other-ref';
  /** Status the receiver answered; undefined when it gave none. */
  status?: number;
  /** Why there was no answer (connection error, 'timeout', or 'refused: ...' for non-loopback URLs). */
  error?: string;
  /** `Date.now()` when the attempt started. */
  at: number;
  durationMs: number;
}

/** Retry policy of callback delivery: a delivery that answers non-2xx or not at all is tried again. */
export interface CallbackDelivery {
  /** Tries per delivery, first one included (1..10); default 3. */
  maxAttempts: number;
  /** Wait between tries (0..60000 ms); default 100. */
  retryIntervalMs: number;
  /** Per-try timeout (1..60000 ms); default 5000. */
  timeoutMs: number;
}

/** Limits a callback mode to one kind of callback; the other kind is delivered normally. */
interface CallbackModeScope {
  only?: CallbackKind;
}

/**
 * How the stand-in delivers callbacks. "Answer" is the 303 after the approval form, the return
 * of `merchant.approve()`/`decline()`, or the 200 of capture/cancel/refund.
 */
export type CallbackMode = CallbackModeScope &
  (
    /** Deliver right after the answer (the default). */
    | { mode: 'normal' }
    /** Deliver `ms` after the answer. */
    | { mode: 'delay'; ms: number }
    /** Deliver (with retries) and wait for it before answering. */
    | { mode: 'before-redirect' }
    /** Deliver the same callback `times` times (2..20), one after another or all at once. */
    | { mode: 'duplicate'; times: number; concurrent?: boolean }
    /**
     * Hold each callback until the next one for the same payment exists, then deliver the newer
     * one first and the held one after it (e.g. CAPTURE before AUTHORIZED, REFUND before CAPTURE).
     * A held callback goes out alone after `holdMs` (default 2000) or on `flushCallbacks()`.
     */
    | { mode: 'out-of-order'; holdMs?: number }
    /**
     * Before the genuine callback (unless `genuine: false`), deliver forged ones: `bad-sig` (the
     * URL's `sig` altered), `other-ref` (to another payment's callback URL, or with `ref` altered
     * when there is none), or `both` (the default).
     */
    | { mode: 'forged'; variant?: 'bad-sig' | 'other-ref' | 'both'; genuine?: boolean }
    /** Deliver nothing. */
    | { mode: 'none' }
  );

/** Outcome of approving a payment (page or `merchant.approve`): how it ends at Resurs. */
export type ApprovalOutcome = 'AUTHORIZED' | 'CAPTURED' | 'FROZEN';

/** Result of `merchant.approve()` / `decline()`. */
export interface ApprovalResult {
  payment: MerchantPayment;
  /** Where the browser would be sent (`successUrl`/`failUrl`); undefined when there is none. */
  location?: string;
}

/**
 * The stand-in's Merchant API v2, steered in-process. Fault plans per route group:
 * `setPaymentFaults` for create, `setLookupFaults` for get and search, `setActionFaults` for
 * capture, cancel and refund. On create and the actions, faults that answer 2xx-looking garbage
 * (`malformed-json`, `wrong-shape`, `oversized`, `endless`, `reset-mid-answer`, `customer-url`)
 * and the `record-then-*` faults act after the request took effect; `status`, `redirect`, `drop`,
 * `hang` and `latency` act before anything happens (latency then answers normally). A request
 * that fails auth or validation is answered normally and consumes a post-effect fault.
 */
export interface StandInMerchant {
  /** The shopper approves (default outcome AUTHORIZED): like the page's buttons, callbacks per mode. Rejects when not allowed. */
  approve(paymentId: string, options?: { outcome?: ApprovalOutcome }): Promise<ApprovalResult>;
  /** The shopper declines: status REJECTED, callback REJECTED. Rejects when not allowed. */
  decline(paymentId: string): Promise<ApprovalResult>;
  /** Stored payments, oldest first (copies), optionally filtered. */
  payments(filter?: { orderReference?: string; storeId?: string }): MerchantPayment[];
  /** One stored payment (a copy). */
  payment(paymentId: string): MerchantPayment | undefined;
  /** The create request's options kept for a payment (redirect and callback URLs as sent). */
  paymentOptions(paymentId: string): PaymentOptionsRecord | undefined;
  /** Set a payment's status directly (no callback), e.g. INSPECTION; returns the payment. */
  setStatus(paymentId: string, status: PaymentStatus): MerchantPayment;
  /** Every Merchant API request, in order (capped at `maxRecordedRequests`). */
  requests(): MerchantRequest[];
  /** Every finished callback attempt, in the order they finished (capped at `maxRecordedRequests`). */
  callbacks(): CallbackRecord[];
  /** Fault plan for create; `null` clears. Throws TypeError on an invalid plan. */
  setPaymentFaults(plan: FaultPlan | null): void;
  /** Fault plan for get and search; `null` clears. */
  setLookupFaults(plan: FaultPlan | null): void;
  /** Fault plan for capture, cancel and refund; `null` clears. */
  setActionFaults(plan: FaultPlan | null): void;
  /** How callbacks are delivered from now on; `null` is `normal`. Throws TypeError when invalid. */
  setCallbackMode(mode: CallbackMode | null): void;
  /** Change the retry policy (fields left out keep their value). Throws TypeError when invalid. */
  setCallbackDelivery(delivery: Partial<CallbackDelivery>): void;
  /** Deliver every callback held by `out-of-order` now; resolves when they are done. */
  flushCallbacks(): Promise<void>;
  /** Resolves once no callback delivery is in flight or scheduled (held ones excepted). */
  settled(): Promise<void>;
}

/** A running stand-in. */
export interface StandIn {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  /** `url` + '/mock/payment/public/v1' */
  baseUrl: string;
  /** `url` + '/oauth2/token' */
  tokenUrl: string;
  /** `url` + '/merchant-api': the Merchant API base (`{merchantApiUrl}/v2/payments`). */
  merchantApiUrl: string;
  /** The Merchant API routes, their payments, callbacks and faults. */
  merchant: StandInMerchant;
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
  /**
   * Clear recordings and every fault plan; latency back to the option. Sessions are kept.
   * Merchant API: payments, requests and callback records cleared, held and scheduled callbacks
   * dropped, callback mode back to `normal`, delivery back to the options.
   */
  reset(): void;
  /** Close the server and destroy every open socket (keep-alive, hanging, endless). */
  close(): Promise<void>;
}
