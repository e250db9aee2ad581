/**
 * express-resurs-checkout: Resurs Bank checkout for any Express shop.
 * The public exports, and nothing else.
 */
export { createCheckoutRouter } from './routes/router';
export { createResursClient } from './resurs/client';
export type { ResursClient, CreateSessionInput, CreateSessionContext } from './resurs/client';
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
  RateLimitOptions,
  ResursClientOptions,
  ReuseOptions,
  SessionCreatedEvent,
  StaticTokenAuth,
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
