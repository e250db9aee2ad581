/**
 * express-resurs-checkout: Resurs Bank checkout for any Express shop.
 * The public exports, and nothing else.
 */
export { createCheckoutRouter } from './routes/router';
export type { CheckoutRouter } from './routes/router';
export { createResursClient } from './resurs/client';
export type { ResursClient, CreateSessionInput, CreateSessionContext } from './resurs/client';
export type { CallContext } from './transport/transport';
export type { PaymentsClient, CreatePaymentInput, CreatePaymentOptions, PaymentActionInput } from './resurs/payments';
export type { Payment, PaymentStatus, Order, OrderLine, OrderLineType, Customer } from './resurs/payment';
export { RESURS_ENVIRONMENTS } from './options/environments';
export type { ResursEnvironment, EnvironmentUrls } from './options/environments';
export { RESURS_CALLBACK_IPS } from './callbacks/ip-allow-list';
export { optionsFromEnv } from './options/from-env';
export type { ResursEnv } from './options/from-env';
export { RESURS_MOCK_BASE_URL } from './options/options';
export type {
  AuthOptions,
  BreakerOptions,
  CampaignPredicate,
  CampaignRule,
  CampaignWindow,
  CheckoutErrorEvent,
  CheckoutRouterOptions,
  ClientCredentialsAuth,
  PaymentsOptions,
  PaymentUpdateEvent,
  RedirectTarget,
  RateLimitOptions,
  ResursClientOptions,
  ReuseOptions,
  SessionCreatedEvent,
  StaticTokenAuth,
  StoreChoice,
  TokenFunctionAuth,
} from './options/options';
export type { CheckoutSession } from './resurs/session';
export { ConfigError, ResursCheckoutError, ERROR_STATUS } from './errors';
export type { ErrorCode, FieldError } from './errors';
export type { ProblemBody } from './problem';
export type { Logger } from './logger';
export { MemorySessionStore } from './store/memory-store';
export type { MemorySessionStoreOptions } from './store/memory-store';
export { RedisSessionStore } from './store/redis-store';
export type { RedisSessionStoreOptions, SendCommandFn } from './store/redis-store';
export type { SessionStore } from './store/session-store';
