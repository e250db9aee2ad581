/** Fixed names and demo credentials the stand-in uses. Demo values only: never real secrets. */

/** HS256 secret the stand-in signs and verifies merchant JWTs with, unless `jwtSecret` is given. */
export const DEMO_JWT_SECRET = 'stand-in-demo-jwt-secret-not-for-production';
/** OAuth2 client id the token endpoint accepts by default. */
export const DEMO_CLIENT_ID = 'demo-client';
/** OAuth2 client secret the token endpoint accepts by default. */
export const DEMO_CLIENT_SECRET = 'demo-secret';

/**
 * Campaigns that exist at the stand-in. `SPRING_2025` still exists here; the demo configures it
 * as already expired on the merchant side.
 */
export const STAND_IN_CAMPAIGNS: readonly string[] = Object.freeze(['SUMMER_SALE', 'BLACK_FRIDAY', 'SPRING_2025']);

/** Path prefix that mirrors Resurs' documented mock base URL. */
export const MOCK_API_PATH = '/mock/payment/public/v1';
/** Path of the OAuth2 client-credentials endpoint. */
export const TOKEN_PATH = '/oauth2/token';
/** Path of the payment-elements browser script (`embed.src`). */
export const SCRIPT_PATH = '/payment/standin/resurs-payment-elements.js';
/** Prefix of the loopback-only control routes. */
export const CONTROL_PATH = '/__stand-in';
/** Path prefix of the Merchant API v2 routes (`merchantApiUrl`), distinct from the sessions mock path. */
export const MERCHANT_API_PATH = '/merchant-api';
/** Path prefix of the shopper-facing approval pages (`taskRedirectionUrls.customerUrl`). */
export const APPROVAL_PAGE_PATH = '/merchant-api-ui/payments';

/** Largest request body any route reads (64 KiB), except the Merchant API routes. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest request body the Merchant API routes read (1 MiB: up to 1000 order lines). */
export const MAX_MERCHANT_BODY_BYTES = 1024 * 1024;

/**
 * Text in the default body of a `status` fault that looks like a leaked upstream secret, so tests
 * can assert it never reaches a storefront or a log.
 */
export const FAULT_RAW_SECRET_MARKER = 'RAW-UPSTREAM-DETAIL db_password=hunter2 internal_trace=0xDEADBEEF';
