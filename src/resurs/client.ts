/**
 * `createResursClient`: the Resurs operations without Express: Create Session and the Merchant
 * API's payments, all on one transport (token source, deadline, breaker per host, retries).
 */
import { isLoopbackHost } from '../net';
import type { ResolvedClientOptions, ResursClientOptions } from '../options/options';
import { resolveClientOptions } from '../options/options';
import { createTransport } from '../transport/transport';
import type { CallContext, Transport } from '../transport/transport';
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
   * Fetches the token now (client credentials), so the first shopper does not wait for it.
   * Rejects with ResursCheckoutError when Resurs refuses; resolves at once for other auth forms.
   */
  warmUp(): Promise<void>;
  /** Stops the background token refresh (for tests and graceful shutdown). */
  close(): void;
}

/** The client and the parts the router builds on. */
export interface BuiltClient extends ResursClient {
  readonly transport: Transport;
  readonly paymentOperations: PaymentOperations;
}

/** Creates a client; throws ConfigError on invalid options. */
export function createResursClient(options: ResursClientOptions): ResursClient {
  return buildResursClient(resolveClientOptions(options));
}

/** Builds a client from already-resolved options (the router shares its validation). */
export function buildResursClient(options: ResolvedClientOptions): BuiltClient {
  const transport = createTransport(options);
  const sessionFor = createSessionOperation(options.baseUrl, options.storeId, {
    baseUrlIsLoopback: isLoopbackHost(new URL(options.baseUrl).hostname),
    allowedScriptOrigins: options.allowedScriptOrigins,
  });
  const paymentOperations = createPaymentOperations(transport, options.merchantApiUrl, options.storeId);
  return {
    transport,
    paymentOperations,
    payments: paymentOperations,
    createSession: (input = {}, context) => transport.call(sessionFor(input.campaign), context),
    warmUp: () => transport.tokens.warmUp(options.logger),
    close: () => transport.tokens.close(),
  };
}
