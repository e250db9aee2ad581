/**
 * Light validation of Merchant API request bodies, answering problems the way Resurs does: a map
 * from the field's path (`order.orderReference`, `order.orderLines[2].quantity`) to a message.
 */
import type { PaymentOrderLine } from './types';

/** A checked body, or the fields that are wrong. */
export type Validated<T> = { ok: true; value: T } | { ok: false; parameters: Record<string, string> };

/** A create request that passed validation. */
export interface CreatePaymentInput {
  storeId: string;
  paymentMethodId: string;
  orderReference: string;
  orderLines: PaymentOrderLine[];
  customer?: Record<string, unknown>;
  initiatedOnCustomersDevice?: boolean;
  handleFrozenPayments?: boolean;
  successUrl?: string;
  failUrl?: string;
  authorizationCallbackUrl?: string;
  managementCallbackUrl?: string;
  timeToLiveInMinutes: number;
}

/** A search request that passed validation. */
export interface SearchInput {
  storeId: string;
  orderReference?: string;
}

/** A capture/cancel/refund body that passed validation (no lines: the whole remaining amount). */
export interface ActionInput {
  orderLines?: PaymentOrderLine[];
  creator?: string;
}

/** Default and bounds of `options.timeToLiveInMinutes`. */
export const TTL_MINUTES = { default: 120, min: 1, max: 43_200 } as const;

const MAX_LINES = 1000;
const MAX_REPORTED = 20;
const BLANK = 'must not be blank';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Collects problems, keeping only the first few so an answer stays small. */
class Problems {
  readonly parameters: Record<string, string> = {};
  private count = 0;

  add(path: string, message: string): void {
    this.count += 1;
    if (this.count <= MAX_REPORTED) this.parameters[path] = message;
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** Problems found so far (reported or not). */
  get total(): number {
    return this.count;
  }
}

function nonBlank(problems: Problems, path: string, value: unknown): value is string {
  if (typeof value !== 'string' || value.trim() === '') {
    problems.add(path, BLANK);
    return false;
  }
  return true;
}

function optionalText(problems: Problems, path: string, value: unknown, max: number): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') problems.add(path, 'must be a string');
  else if (value.length > max) problems.add(path, `size must be between 0 and ${max}`);
}

function checkLine(problems: Problems, path: string, line: unknown): void {
  if (!isRecord(line)) {
    problems.add(path, 'must be an object');
    return;
  }
  if (!isFiniteNumber(line.quantity)) problems.add(`${path}.quantity`, 'must not be null');
  else if (line.quantity <= 0) problems.add(`${path}.quantity`, 'must be greater than 0');
  if (!isFiniteNumber(line.vatRate)) problems.add(`${path}.vatRate`, 'must not be null');
  else if (line.vatRate < 0 || line.vatRate > 100) problems.add(`${path}.vatRate`, 'must be between 0 and 100');
  if (!isFiniteNumber(line.totalAmountIncludingVat)) problems.add(`${path}.totalAmountIncludingVat`, 'must not be null');
  for (const field of ['unitAmountIncludingVat', 'totalVatAmount'] as const) {
    if (line[field] !== undefined && line[field] !== null && !isFiniteNumber(line[field])) problems.add(`${path}.${field}`, 'must be a number');
  }
  optionalText(problems, `${path}.description`, line.description, 50);
  optionalText(problems, `${path}.reference`, line.reference, 50);
  optionalText(problems, `${path}.quantityUnit`, line.quantityUnit, 50);
  optionalText(problems, `${path}.type`, line.type, 50);
}

function checkLines(problems: Problems, path: string, value: unknown): value is PaymentOrderLine[] {
  if (!Array.isArray(value)) {
    problems.add(path, 'must not be null');
    return false;
  }
  if (value.length < 1 || value.length > MAX_LINES) {
    problems.add(path, `size must be between 1 and ${MAX_LINES}`);
    return false;
  }
  const before = problems.total;
  value.forEach((line, i) => checkLine(problems, `${path}[${i}]`, line));
  return problems.total === before;
}

function optionalUrl(problems: Problems, path: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return value;
    } catch {
      // reported below
    }
  }
  problems.add(path, 'must be a valid URL');
  return undefined;
}

function optionalBoolean(problems: Problems, path: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') problems.add(path, 'must be a boolean');
  return value === true;
}

function nested(value: unknown, ...keys: string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** Parse a JSON body; an empty body is `{}` when `emptyIsObject`. */
export function parseJsonBody(text: string, emptyIsObject: boolean): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return emptyIsObject ? { ok: true, value: {} } : { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Check a `POST /v2/payments` body; `knownMethod` tells whether a payment method id exists. */
export function validateCreatePayment(body: unknown, knownMethod: (id: string) => boolean): Validated<CreatePaymentInput> {
  const problems = new Problems();
  if (!isRecord(body)) return { ok: false, parameters: { body: 'must be a JSON object' } };
  const storeOk = nonBlank(problems, 'storeId', body.storeId);
  if (nonBlank(problems, 'paymentMethodId', body.paymentMethodId) && !knownMethod(body.paymentMethodId)) {
    problems.add('paymentMethodId', 'unknown payment method for this store');
  }
  const order = body.order;
  let referenceOk = false;
  let linesOk = false;
  if (!isRecord(order)) {
    problems.add('order', 'must not be null');
  } else {
    const reference = order.orderReference;
    if (nonBlank(problems, 'order.orderReference', reference)) {
      if (reference.length > 64) problems.add('order.orderReference', 'size must be between 1 and 64');
      else referenceOk = true;
    }
    linesOk = checkLines(problems, 'order.orderLines', order.orderLines);
  }
  const customer = body.customer;
  if (customer !== undefined && customer !== null) {
    if (!isRecord(customer)) problems.add('customer', 'must be an object');
    else if (customer.customerType !== undefined && customer.customerType !== 'NATURAL' && customer.customerType !== 'LEGAL') {
      problems.add('customer.customerType', 'must be NATURAL or LEGAL');
    }
  }
  const options = body.options;
  if (options !== undefined && options !== null && !isRecord(options)) problems.add('options', 'must be an object');
  const ttl = nested(body, 'options', 'timeToLiveInMinutes');
  if (ttl !== undefined && ttl !== null && !(Number.isInteger(ttl) && (ttl as number) >= TTL_MINUTES.min && (ttl as number) <= TTL_MINUTES.max)) {
    problems.add('options.timeToLiveInMinutes', `must be between ${TTL_MINUTES.min} and ${TTL_MINUTES.max}`);
  }
  const input = {
    initiatedOnCustomersDevice: optionalBoolean(problems, 'options.initiatedOnCustomersDevice', nested(body, 'options', 'initiatedOnCustomersDevice')),
    handleFrozenPayments: optionalBoolean(problems, 'options.handleFrozenPayments', nested(body, 'options', 'handleFrozenPayments')),
    successUrl: optionalUrl(problems, 'options.redirectionUrls.customer.successUrl', nested(body, 'options', 'redirectionUrls', 'customer', 'successUrl')),
    failUrl: optionalUrl(problems, 'options.redirectionUrls.customer.failUrl', nested(body, 'options', 'redirectionUrls', 'customer', 'failUrl')),
    authorizationCallbackUrl: optionalUrl(problems, 'options.callbacks.authorization.url', nested(body, 'options', 'callbacks', 'authorization', 'url')),
    managementCallbackUrl: optionalUrl(problems, 'options.callbacks.management.url', nested(body, 'options', 'callbacks', 'management', 'url')),
  };
  if (!problems.empty || !storeOk || !referenceOk || !linesOk || !isRecord(order)) return { ok: false, parameters: problems.parameters };
  // From here on every field has been checked.
  const value: CreatePaymentInput = {
    storeId: body.storeId as string,
    paymentMethodId: body.paymentMethodId as string,
    orderReference: order.orderReference as string,
    orderLines: structuredClone(order.orderLines as PaymentOrderLine[]),
    timeToLiveInMinutes: typeof ttl === 'number' ? ttl : TTL_MINUTES.default,
  };
  if (isRecord(customer)) value.customer = structuredClone(customer);
  for (const [key, field] of Object.entries(input) as [keyof typeof input, boolean | string | undefined][]) {
    if (field !== undefined) (value as unknown as Record<string, unknown>)[key] = field;
  }
  return { ok: true, value };
}

/** Check a `POST /v2/payments/search` body. */
export function validateSearch(body: unknown): Validated<SearchInput> {
  const problems = new Problems();
  if (!isRecord(body)) return { ok: false, parameters: { body: 'must be a JSON object' } };
  nonBlank(problems, 'storeId', body.storeId);
  if (body.orderReference !== undefined && body.orderReference !== null && typeof body.orderReference !== 'string') {
    problems.add('orderReference', 'must be a string');
  }
  if (!problems.empty) return { ok: false, parameters: problems.parameters };
  const value: SearchInput = { storeId: body.storeId as string };
  if (typeof body.orderReference === 'string' && body.orderReference !== '') value.orderReference = body.orderReference;
  return { ok: true, value };
}

/** Check a capture/cancel/refund body (empty means "everything that is left"). */
export function validateAction(body: unknown): Validated<ActionInput> {
  const problems = new Problems();
  if (!isRecord(body)) return { ok: false, parameters: { body: 'must be a JSON object' } };
  const value: ActionInput = {};
  if (body.orderLines !== undefined && body.orderLines !== null) {
    if (checkLines(problems, 'orderLines', body.orderLines)) value.orderLines = structuredClone(body.orderLines as PaymentOrderLine[]);
  }
  optionalText(problems, 'creator', body.creator, 200);
  if (typeof body.creator === 'string') value.creator = body.creator;
  if (!problems.empty) return { ok: false, parameters: problems.parameters };
  return { ok: true, value };
}
