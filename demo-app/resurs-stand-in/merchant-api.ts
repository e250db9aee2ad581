/**
 * Resurs' Merchant API v2 payment routes under `{merchantApiUrl}` (= `{url}/merchant-api`):
 *   POST /v2/payments                      create (201)
 *   POST /v2/payments/search               {storeId, orderReference?} -> {content, page}
 *   GET  /v2/payments/{id}                 the payment (404 when unknown)
 *   POST /v2/payments/{id}/capture|cancel|refund   {orderLines?, creator?} -> the payment
 * All need `Authorization: Bearer <jwt>` (401 otherwise). Also the approval page's decisions and
 * the in-process control object (`standIn.merchant`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APPROVAL_PAGE_PATH } from './constants';
import { handleApprovalPage } from './approval-page';
import { CallbackDispatcher } from './callbacks';
import { FaultSelector } from './fault-plan';
import { applyFault, type FaultAnswers } from './faults';
import { Timers, sendJson, type ReadBody } from './http-util';
import { sendMerchantError } from './merchant-errors';
import { PaymentStore, createPayment, decide, forceStatus, knownPaymentMethod, manage, type Refusal, type StoredPayment } from './merchant-payments';
import { parseJsonBody, validateAction, validateCreatePayment, validateSearch } from './merchant-validation';
import type { TokenAuthority } from './tokens';
import type {
  ApprovalOutcome,
  ApprovalResult,
  CallbackDelivery,
  CallbackKind,
  Fault,
  ManagementAction,
  MerchantPayment,
  MerchantRequest,
  PaymentStatus,
  StandInMerchant,
} from './types';

/** What the Merchant API needs from the server. */
export interface MerchantApiDeps {
  authority: TokenAuthority;
  /** The server's cancellable timers (fault latency). */
  timers: Timers;
  maxPayments: number;
  maxRecorded: number;
  callbackDelivery: CallbackDelivery;
}

type Route = { name: 'create' } | { name: 'search' } | { name: 'get'; paymentId: string } | { name: 'capture' | 'cancel' | 'refund'; paymentId: string };

/** An answer computed by a route, sent as JSON unless a post-effect fault replaces it. */
interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const INVALID_TOKEN = { 'WWW-Authenticate': 'Bearer error="invalid_token"' };
const PAYMENT_STATUSES: readonly PaymentStatus[] = ['TASK_REDIRECTION_REQUIRED', 'INSPECTION', 'SUPPLEMENTING_REQUIRED', 'FROZEN', 'ACCEPTED', 'REJECTED'];
const APPROVAL_OUTCOMES: readonly ApprovalOutcome[] = ['AUTHORIZED', 'CAPTURED', 'FROZEN'];
const ACTIONS: Record<'capture' | 'cancel' | 'refund', ManagementAction> = { capture: 'CAPTURE', cancel: 'CANCEL', refund: 'REFUND' };

/** Faults that act before the request has any effect (the rest act after it, on its answer). */
const PRE_EFFECT = new Set<Fault['kind']>(['latency', 'status', 'redirect', 'drop', 'hang']);
/** Faults with nothing to do on these routes: the answer is normal. */
const INERT = new Set<Fault['kind']>(['past-expiry', 'foreign-script']);

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function matchRoute(subPath: string): Route | undefined {
  const path = subPath.length > 1 && subPath.endsWith('/') ? subPath.slice(0, -1) : subPath;
  if (path === '/v2/payments') return { name: 'create' };
  if (path === '/v2/payments/search') return { name: 'search' };
  const match = /^\/v2\/payments\/([^/]+)(?:\/(capture|cancel|refund))?$/.exec(path);
  const paymentId = match ? decodeSegment(match[1]) : undefined;
  if (!match || paymentId === undefined) return undefined;
  const action = match[2] as 'capture' | 'cancel' | 'refund' | undefined;
  return action ? { name: action, paymentId } : { name: 'get', paymentId };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function copy(payment: MerchantPayment): MerchantPayment {
  return structuredClone(payment);
}

function refusalError(refusal: Refusal): Answer {
  return { status: refusal.status, body: { code: refusal.code, message: refusal.message } };
}

/** The Merchant API: routes, the payment record, callbacks, faults and the control object. */
export class MerchantApi {
  readonly store: PaymentStore;
  readonly callbacks: CallbackDispatcher;
  private readonly createFaults = new FaultSelector();
  private readonly lookupFaults = new FaultSelector();
  private readonly actionFaults = new FaultSelector();
  private readonly recorded: MerchantRequest[] = [];
  private requestCount = 0;
  private origin = '';

  constructor(private readonly deps: MerchantApiDeps) {
    this.store = new PaymentStore(deps.maxPayments);
    this.callbacks = new CallbackDispatcher({
      maxRecords: deps.maxRecorded,
      delivery: deps.callbackDelivery,
      otherUrl: (kind, paymentId, orderReference) => this.otherCallbackUrl(kind, paymentId, orderReference),
    });
  }

  /** The stand-in's own origin, for `customerUrl` (known once listening). */
  setOrigin(origin: string): void {
    this.origin = origin;
  }

  /** `customerUrl` of a payment: the approval page. */
  customerUrl(paymentId: string): string {
    return `${this.origin}${APPROVAL_PAGE_PATH}/${encodeURIComponent(paymentId)}`;
  }

  /** Counts since start or the last reset. */
  stats(): { merchantRequests: number; payments: number; callbacks: number } {
    return { merchantRequests: this.requestCount, payments: this.store.size, callbacks: this.callbacks.count };
  }

  /** Clear payments, recordings, fault plans and callback state. */
  reset(): void {
    this.store.clear();
    this.recorded.length = 0;
    this.requestCount = 0;
    this.createFaults.set(null);
    this.lookupFaults.set(null);
    this.actionFaults.set(null);
    this.callbacks.reset();
  }

  /** Stop callback delivery for good. */
  close(): void {
    this.callbacks.close();
  }

  /** The in-process control object (`standIn.merchant`). */
  control(): StandInMerchant {
    const settle = async (paymentId: string, outcome: ApprovalOutcome | 'REJECTED'): Promise<ApprovalResult> => {
      const decided = await this.decide(paymentId, outcome);
      if (!decided.ok) throw new Error(decided.message);
      return decided.result;
    };
    return {
      approve: async (paymentId, options = {}) => {
        const outcome = options.outcome ?? 'AUTHORIZED';
        if (!APPROVAL_OUTCOMES.includes(outcome)) throw new TypeError(`outcome must be one of ${APPROVAL_OUTCOMES.join(', ')}`);
        return settle(paymentId, outcome);
      },
      decline: (paymentId) => settle(paymentId, 'REJECTED'),
      payments: (filter = {}) =>
        this.store
          .list()
          .filter((s) => (filter.orderReference === undefined || s.payment.order.orderReference === filter.orderReference) && (filter.storeId === undefined || s.payment.storeId === filter.storeId))
          .map((s) => copy(s.payment)),
      payment: (paymentId) => {
        const stored = this.store.get(paymentId);
        return stored ? copy(stored.payment) : undefined;
      },
      paymentOptions: (paymentId) => {
        const stored = this.store.get(paymentId);
        return stored ? { ...stored.options } : undefined;
      },
      setStatus: (paymentId, status) => {
        if (!PAYMENT_STATUSES.includes(status)) throw new TypeError(`status must be one of ${PAYMENT_STATUSES.join(', ')}`);
        const stored = this.store.get(paymentId);
        if (!stored) throw new Error(`No payment ${paymentId}`);
        forceStatus(stored, status);
        return copy(stored.payment);
      },
      requests: () => structuredClone(this.recorded),
      callbacks: () => this.callbacks.list(),
      setPaymentFaults: (plan) => this.createFaults.set(plan),
      setLookupFaults: (plan) => this.lookupFaults.set(plan),
      setActionFaults: (plan) => this.actionFaults.set(plan),
      setCallbackMode: (mode) => this.callbacks.setMode(mode),
      setCallbackDelivery: (delivery) => this.callbacks.setDelivery(delivery),
      flushCallbacks: () => this.callbacks.flush(),
      settled: () => this.callbacks.settled(),
    };
  }

  /** Approve or decline (page, control object, control route): state change, then the authorization callback per mode. */
  async decide(paymentId: string, outcome: ApprovalOutcome | 'REJECTED'): Promise<{ ok: true; result: ApprovalResult } | Refusal> {
    const stored = this.store.get(paymentId);
    if (!stored) return { ok: false, status: 404, code: 'NOT_FOUND', message: 'Payment not found' };
    const decision = decide(stored, outcome);
    if (!decision.ok) return decision;
    const { payment, options } = stored;
    await this.callbacks.dispatch({
      kind: 'authorization',
      paymentId: payment.id,
      orderReference: payment.order.orderReference,
      url: options.authorizationCallbackUrl,
      body: { paymentId: payment.id, status: decision.callbackStatus, created: new Date().toISOString() },
    });
    const result: ApprovalResult = { payment: copy(payment) };
    const location = decision.shopperPresent ? (outcome === 'REJECTED' ? options.failUrl : options.successUrl) : undefined;
    if (location !== undefined) result.location = location;
    return { ok: true, result };
  }

  /** Answer a request under the approval page path. */
  handleApprovalPage(req: IncomingMessage, res: ServerResponse, subPath: string, body: string): Promise<void> {
    return handleApprovalPage(req, res, subPath, body, { find: (id) => this.store.get(id), decide: (id, outcome) => this.decide(id, outcome) });
  }

  /** Answer a request under `MERCHANT_API_PATH`; `subPath` is what follows it. */
  async handleApi(req: IncomingMessage, res: ServerResponse, subPath: string, body: ReadBody, query: URLSearchParams): Promise<void> {
    const route = matchRoute(subPath);
    this.record(req, subPath, route, body.text);
    if (body.tooLarge) return sendMerchantError(res, 413, 'PAYLOAD_TOO_LARGE', 'Request body is too large', undefined, { Connection: 'close' });
    if (!route) return sendMerchantError(res, 404, 'NOT_FOUND', `No Merchant API route for ${req.method ?? ''} ${subPath}`);
    const method = route.name === 'get' ? 'GET' : 'POST';
    if (req.method !== method) return sendMerchantError(res, 405, 'METHOD_NOT_ALLOWED', `Use ${method}`, undefined, { Allow: method });

    const selector = route.name === 'create' ? this.createFaults : route.name === 'get' || route.name === 'search' ? this.lookupFaults : this.actionFaults;
    const fault = selector.next();
    const placeholder: FaultAnswers = { successStatus: route.name === 'create' ? 201 : 200, sample: () => ({ id: 'pending' }), wrongShape: {} };
    if (fault && PRE_EFFECT.has(fault.kind) && (await applyFault(fault, req, res, this.deps.timers, placeholder)) === 'answered') return;

    const auth = this.deps.authority.verifyHeader(req.headers.authorization);
    if (!auth.ok) return sendMerchantError(res, 401, 'UNAUTHORIZED', auth.message, undefined, INVALID_TOKEN);
    const contentType = req.headers['content-type'];
    if (method === 'POST' && body.text.trim() !== '' && contentType !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
      return sendMerchantError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
    }
    const tokenStore = auth.claims.storeId;
    const answer = await this.answer(route, body.text, query, tokenStore, fault);

    const postFault = fault && !PRE_EFFECT.has(fault.kind) && !INERT.has(fault.kind) && fault.kind !== 'customer-url' ? fault : undefined;
    if (postFault && answer.status >= 200 && answer.status < 300) {
      const answers: FaultAnswers = {
        successStatus: answer.status,
        sample: () => answer.body as Record<string, unknown>,
        wrongShape: route.name === 'search' ? { content: 'not-a-list', page: 0 } : { id: 12345, status: 42, order: 'none', taskRedirectionUrls: { customerUrl: 7 } },
      };
      await applyFault(postFault, req, res, this.deps.timers, answers);
      return;
    }
    const { status } = answer;
    if (status >= 400) {
      const error = answer.body as { code: string; message: string; parameters?: Record<string, string> };
      return sendMerchantError(res, status, error.code, error.message, error.parameters, answer.headers);
    }
    sendJson(res, status, answer.body, answer.headers);
  }

  private async answer(route: Route, text: string, query: URLSearchParams, tokenStore: string | undefined, fault: Fault | undefined): Promise<Answer> {
    const parsed = parseJsonBody(text, route.name !== 'create' && route.name !== 'search');
    if (route.name === 'get') {
      const stored = this.store.get(route.paymentId);
      if (!stored || (tokenStore !== undefined && stored.payment.storeId !== tokenStore)) return { status: 404, body: { code: 'NOT_FOUND', message: 'Payment not found' } };
      return { status: 200, body: copy(stored.payment) };
    }
    if (!parsed.ok) return { status: 400, body: { code: 'VALIDATION_ERROR', message: 'Malformed JSON body', parameters: { body: 'must be valid JSON' } } };
    if (route.name === 'create') {
      const checked = validateCreatePayment(parsed.value, knownPaymentMethod);
      if (!checked.ok) return { status: 400, body: { code: 'VALIDATION_ERROR', message: 'Validation failed', parameters: checked.parameters } };
      if (tokenStore !== undefined && checked.value.storeId !== tokenStore) {
        return { status: 403, body: { code: 'FORBIDDEN', message: 'Token is not valid for this store' } };
      }
      const stored = createPayment(checked.value, (id) => this.customerUrl(id));
      if (fault?.kind === 'customer-url') stored.payment.taskRedirectionUrls = { customerUrl: fault.url };
      this.store.add(stored);
      return { status: 201, body: copy(stored.payment) };
    }
    if (route.name === 'search') {
      const checked = validateSearch(parsed.value);
      if (!checked.ok) return { status: 400, body: { code: 'VALIDATION_ERROR', message: 'Validation failed', parameters: checked.parameters } };
      if (tokenStore !== undefined && checked.value.storeId !== tokenStore) {
        return { status: 403, body: { code: 'FORBIDDEN', message: 'Token is not valid for this store' } };
      }
      const found = this.store.search(checked.value.storeId, checked.value.orderReference).map((s) => copy(s.payment));
      const size = Math.min(Math.max(Number.parseInt(query.get('size') ?? '', 10) || 100, 1), 1000);
      const page = Math.max(Number.parseInt(query.get('page') ?? '', 10) || 0, 0);
      return {
        status: 200,
        body: {
          content: found.slice(page * size, page * size + size),
          page: { number: page, size, totalElements: found.length, totalPages: Math.ceil(found.length / size) },
        },
      };
    }
    const stored = this.store.get(route.paymentId);
    if (!stored || (tokenStore !== undefined && stored.payment.storeId !== tokenStore)) return { status: 404, body: { code: 'NOT_FOUND', message: 'Payment not found' } };
    const checked = validateAction(parsed.value);
    if (!checked.ok) return { status: 400, body: { code: 'VALIDATION_ERROR', message: 'Validation failed', parameters: checked.parameters } };
    const action = ACTIONS[route.name];
    const done = manage(stored, action, checked.value);
    if (!done.ok) return refusalError(done);
    const { payment, options } = stored;
    await this.callbacks.dispatch({
      kind: 'management',
      paymentId: payment.id,
      orderReference: payment.order.orderReference,
      url: options.managementCallbackUrl,
      body: { paymentId: payment.id, action, actionId: done.entry.actionId, created: done.entry.created },
    });
    return { status: 200, body: copy(payment) };
  }

  private record(req: IncomingMessage, subPath: string, route: Route | undefined, text: string): void {
    this.requestCount += 1;
    const parsed = parseJsonBody(text, false);
    const entry: MerchantRequest = {
      method: req.method ?? '',
      path: subPath,
      route: route?.name ?? 'unknown',
      headers: req.headers,
      authorization: req.headers.authorization !== undefined,
      bodyText: text,
      body: parsed.ok ? parsed.value : undefined,
      at: Date.now(),
    };
    const requestId = header(req.headers['x-request-id']);
    if (requestId !== undefined) entry.requestId = requestId;
    this.recorded.push(entry);
    if (this.recorded.length > this.deps.maxRecorded) this.recorded.splice(0, this.recorded.length - this.deps.maxRecorded);
  }

  /** The newest other order's callback URL of `kind` (for forged `other-ref` callbacks). */
  private otherCallbackUrl(kind: CallbackKind, paymentId: string, orderReference: string): string | undefined {
    const urlOf = (s: StoredPayment): string | undefined => (kind === 'authorization' ? s.options.authorizationCallbackUrl : s.options.managementCallbackUrl);
    const mine = this.store.get(paymentId);
    const own = mine ? urlOf(mine) : undefined;
    const others = this.store.list().filter((s) => s.payment.order.orderReference !== orderReference && urlOf(s) !== undefined && urlOf(s) !== own);
    const other = others.at(-1);
    return other ? urlOf(other) : undefined;
  }
}
