/**
 * One payment per order reference. Concurrent requests for one order share one create (in this
 * process by single flight, across instances by a lock in the shared store); later requests get
 * the same payment back from the store until its time to live ends; another payment method for
 * the same order answers 409. The guard fails closed: when the store cannot confirm the lock in
 * time, Resurs is asked (search) instead of creating blind; when that cannot settle it either,
 * the answer is 503.
 */
import { createHash } from 'node:crypto';
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { sleep } from '../resilience/abort';
import type { Payment } from '../resurs/payment';
import { UnsettledPayment } from '../resurs/payments';
import { StoreUnavailable, bounded } from '../store/bounded';
import { tryLock } from '../store/lock';
import type { SessionStore } from '../store/session-store';
import type { StopSignal } from '../resilience/stop';

/** What the storefront is answered, and what the store keeps per order (no amounts, no customer data). */
export interface PaymentRecord {
  paymentId: string;
  status: string;
  redirectUrl?: string;
  paymentMethodId: string;
}

export interface PaymentGuardOptions {
  store: SessionStore & Required<Pick<SessionStore, 'add'>>;
  /** Keeps orders of different stores and Merchant APIs apart in a shared store. */
  namespace: string;
  /** How long a record is kept: the payment's time to live. */
  recordTtlMs: number;
  /** How long a lock lives if its holder dies: a create and its settling search. */
  lockTtlMs: number;
}

/** One request for an order. */
export interface GuardedCreate {
  orderReference: string;
  paymentMethodId: string;
  /** Bounds every wait of this request. */
  signal: StopSignal;
  log: Logger;
  /** Creates the payment at Resurs (settling an unknown outcome itself). */
  create(): Promise<Payment>;
  /** Looks the order up at Resurs. */
  search(): Promise<Payment[]>;
  /** The storefront's answer for a payment (checks the redirect URL). */
  toRecord(payment: Payment): Omit<PaymentRecord, 'paymentMethodId'>;
}

export interface PaymentGuard {
  run(request: GuardedCreate): Promise<PaymentRecord>;
}

const inProgress = () =>
  new ResursCheckoutError(
    'payment_in_progress',
    'A payment with another payment method is already under way for this order. Finish or cancel it, or start a new order.',
  );

export function createPaymentGuard(options: PaymentGuardOptions): PaymentGuard {
  const { store } = options;
  const inFlight = new Map<string, { paymentMethodId: string; run: Promise<PaymentRecord> }>();
  const keyOf = (kind: string, orderReference: string) =>
    `payment-${kind}:${createHash('sha256').update(`${options.namespace}\n${orderReference}`).digest('base64url')}`;

  const matching = (record: PaymentRecord, paymentMethodId: string): PaymentRecord => {
    if (record.paymentMethodId !== paymentMethodId) throw inProgress();
    return record;
  };

  async function readRecord(key: string): Promise<PaymentRecord | undefined> {
    const text = await bounded('get', () => store.get(key));
    if (!text) return undefined;
    try {
      const value = JSON.parse(text) as PaymentRecord;
      return typeof value.paymentId === 'string' && typeof value.paymentMethodId === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** What Resurs knows of the order, as a record; undefined when it knows no payment for it. */
  async function fromResurs(request: GuardedCreate, found?: Payment[]): Promise<PaymentRecord | undefined> {
    found ??= await request.search();
    if (found.length === 0) return undefined;
    const same = found.find((p) => p.paymentMethodId === undefined || p.paymentMethodId === request.paymentMethodId);
    if (!same) throw inProgress();
    return { ...request.toRecord(same), paymentMethodId: request.paymentMethodId };
  }

  /** The store cannot vouch for the lock: ask Resurs, never create blind. */
  async function failClosed(request: GuardedCreate, error: StoreUnavailable): Promise<PaymentRecord> {
    request.log.warn({ op: error.op }, 'The payment store did not answer in time: asking Resurs instead of creating blind.');
    let payments: Payment[] | undefined;
    try {
      payments = await request.search();
    } catch {
      payments = undefined;
    }
    // Resurs knows the order: its payment is the answer (or 409, or 502 for one we cannot pass on).
    const found = payments ? await fromResurs(request, payments) : undefined;
    if (found) return found;
    throw new ResursCheckoutError('upstream_unavailable', 'The shop cannot confirm this payment right now. Try again shortly; no payment was made.', {
      retryAfter: 2,
      cause: error,
    });
  }

  async function runOnce(request: GuardedCreate): Promise<PaymentRecord> {
    const recordKey = keyOf('record', request.orderReference);
    const lockKey = keyOf('lock', request.orderReference);
    const unsettledKey = keyOf('unsettled', request.orderReference);
    for (let wait = 25; ; wait = Math.min(250, wait * 2)) {
      const done = await readRecord(recordKey);
      if (done) return matching(done, request.paymentMethodId);
      const taking = tryLock(store, lockKey, options.lockTtlMs, request.paymentMethodId);
      const lock = await bounded('add', () => taking).catch((error: unknown) => {
        // A slow store may still take the lock after we gave up on it: let it go then, so the
        // order is not blocked for the lock's whole time to live.
        taking.then((late) => late?.release(), () => undefined);
        throw error;
      });
      if (!lock) {
        // Another instance is creating: same method, wait for its record; another method, 409.
        const holder = await bounded('get', () => store.get(lockKey));
        if (holder !== undefined && !holder.endsWith(`:${request.paymentMethodId}`)) throw inProgress();
        await sleep(wait, request.signal).catch(() => {
          throw new ResursCheckoutError('upstream_unavailable', 'This order\'s payment is still being created. Try again shortly.', { retryAfter: 2 });
        });
        continue;
      }
      try {
        const again = await readRecord(recordKey);
        if (again) return matching(again, request.paymentMethodId);
        // An earlier try ended without knowing whether Resurs created the payment: ask first.
        if (await bounded('get', () => store.get(unsettledKey))) {
          let payments: Payment[];
          try {
            payments = await request.search();
          } catch (error) {
            // Still not known whether the payment exists: never create blind; the storefront tries again.
            request.log.warn({ settled: 'unknown' }, 'An earlier try left this order unsettled and Resurs cannot be asked now: not creating.');
            throw new UnsettledPayment(error);
          }
          const known = await fromResurs(request, payments);
          if (known) return await keep(recordKey, known, request);
        }
        // Noted before the create is sent, so that whatever happens next (no answer, the store
        // failing when the record is written, this process dying) the next try looks the order
        // up at Resurs first. A store that cannot take the note cannot vouch for the order: the
        // create is not sent blind (StoreUnavailable: fail closed).
        await bounded('set', () => store.set(unsettledKey, '1', options.recordTtlMs));
        let payment: Payment;
        try {
          payment = await request.create();
        } catch (error) {
          // Our own answers other than "unsettled" mean Resurs made no payment for this try (refused,
          // or searched and not found): the note can go. Anything else keeps it.
          if (error instanceof ResursCheckoutError && !(error instanceof UnsettledPayment)) {
            await bounded('delete', () => store.delete(unsettledKey)).catch(() => undefined);
          }
          throw error;
        }
        // A payment we cannot answer (e.g. a refused redirect URL) throws here; the note written
        // before the create stays, so whoever tries next looks it up instead of creating another.
        const record = { ...request.toRecord(payment), paymentMethodId: request.paymentMethodId };
        return await keep(recordKey, record, request);
      } finally {
        await lock.release();
      }
    }
  }

  async function keep(recordKey: string, record: PaymentRecord, request: GuardedCreate): Promise<PaymentRecord> {
    try {
      await bounded('set', () => store.set(recordKey, JSON.stringify(record), options.recordTtlMs));
    } catch {
      request.log.error({}, 'The payment was created but could not be recorded in the store; a repeat request will look it up at Resurs.');
      await bounded('set', () => store.set(keyOf('unsettled', request.orderReference), '1', options.recordTtlMs)).catch(() => undefined);
    }
    return record;
  }

  return {
    async run(request) {
      const shared = inFlight.get(request.orderReference);
      if (shared) {
        if (shared.paymentMethodId !== request.paymentMethodId) throw inProgress();
        return shared.run;
      }
      const run = runOnce(request).catch((error: unknown) => {
        if (error instanceof StoreUnavailable) return failClosed(request, error);
        throw error;
      });
      const entry = { paymentMethodId: request.paymentMethodId, run };
      inFlight.set(request.orderReference, entry);
      const forget = () => {
        if (inFlight.get(request.orderReference) === entry) inFlight.delete(request.orderReference);
      };
      run.then(forget, forget);
      return run;
    },
  };
}
