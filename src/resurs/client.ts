/**
 * `createResursClient`: the Resurs operations without Express: Create Session and the Merchant
 * API's payments, all on one transport (token source, deadline, breaker per host, retries).
 */
import { isLoopbackHost } from '../net';
import type { ResolvedClientOptions, ResolvedUpstreamOptions, ResursClientOptions } from '../options/options';
import { checkStoreId, resolveClientOptions } from '../options/options';
import { createTransport } from '../transport/transport';
import type { CallContext, ScopeContext, Transport } from '../transport/transport';
import { createPaymentOperations } from './payments';
import type { PaymentOperations, PaymentsClient } from './payments';
import { createSessionOperation } from './session';
import type { CheckoutSession } from './session';

/** What to create a session for. */
export interface CreateSessionInput {
  /** A campaign name; omitted means only non-campaign payment methods. */
  campaign?: string;
}

/** Per-call context. */
export type CreateSessionContext = CallContext;

/** The Resurs calls without Express. */
export interface ResursClient {
  /**
   * Creates a session. Resolves to a validated session (exactly `{id, expiresAt, embed: {src}}`);
   * rejects with a ResursCheckoutError, or with the signal's reason when `signal` aborts.
   */
  createSession(input?: CreateSessionInput, context?: CreateSessionContext): Promise<CheckoutSession>;
  /** Payments on Resurs' Merchant API v2 (`merchantApiUrl`). */
  readonly payments: PaymentsClient;
  /**
   * The same calls for another of your Resurs stores, on this client's token source, deadline
   * and breakers. Throws ConfigError when `storeId` is not a valid store id.
   */
  forStore(storeId: string): ResursClient;
  /**
   * Fetches the token now (client credentials), so the first shopper does not wait for it.
   * Rejects with ResursCheckoutError when Resurs refuses; resolves at once for other auth forms.
   */
  warmUp(): Promise<void>;
  /** Stops the background token refresh (for tests and graceful shutdown). */
  close(): void;
}

/** One store's calls on the shared transport. */
export interface StoreCalls {
  readonly storeId: string;
  createSession(input?: CreateSessionInput, context?: ScopeContext): Promise<CheckoutSession>;
  /** The store's payments, plus the scoped create and search the router uses. */
  readonly payments: PaymentOperations;
}

/** The transport (token source, deadline, breaker per host) and the calls of any store on it. */
export interface Upstream {
  readonly transport: Transport;
  /** The calls of one store; cheap, but the router builds each store's once. */
  store(storeId: string): StoreCalls;
  warmUp(): Promise<void>;
  close(): void;
}

/** A client and its transport (the doctor watches the wire through it). */
export interface BuiltClient extends ResursClient {
  readonly transport: Transport;
}

/** Creates a client; throws ConfigError on invalid options. */
export function createResursClient(options: ResursClientOptions): ResursClient {
  return buildResursClient(resolveClientOptions(options));
}

/** Builds the transport and the per-store calls from already-resolved options. */
export function buildUpstream(options: ResolvedUpstreamOptions): Upstream {
  const transport = createTransport(options);
  const rules = {
    baseUrlIsLoopback: isLoopbackHost(new URL(options.baseUrl).hostname),
    allowedScriptOrigins: options.allowedScriptOrigins,
  };
  return {
    transport,
    store(storeId) {
      const sessionFor = createSessionOperation(options.baseUrl, storeId, rules);
      return {
        storeId,
        createSession: (input = {}, context) => transport.call(sessionFor(input.campaign), context),
        payments: createPaymentOperations(transport, options.merchantApiUrl, storeId),
      };
    },
    warmUp: () => transport.tokens.warmUp(options.logger),
    close: () => transport.tokens.close(),
  };
}

/** Builds a client from already-resolved options (the doctor shares its validation). */
export function buildResursClient(options: ResolvedClientOptions): BuiltClient {
  const upstream = buildUpstream(options);
  const view = (storeId: string): BuiltClient => {
    const calls = upstream.store(storeId);
    return {
      transport: upstream.transport,
      createSession: calls.createSession,
      payments: calls.payments,
      forStore: (other) => view(checkStoreId(other)),
      warmUp: upstream.warmUp,
      close: upstream.close,
    };
  };
  return view(options.storeId);
}
