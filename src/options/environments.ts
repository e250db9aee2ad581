/**
 * Resurs' two environments and their URLs. `environment` picks a column; `baseUrl`,
 * `merchantApiUrl` and `auth.tokenUrl` each override their row.
 */

/** The documented Resurs mock base URL for sessions; the default `baseUrl`. */
export const RESURS_MOCK_BASE_URL = 'https://api.checkout.int.resurs.cloud/mock/payment/public/v1';

/** Which of Resurs' environments to talk to. */
export type ResursEnvironment = 'test' | 'production';

/** The URLs of one environment. */
export interface EnvironmentUrls {
  /** Create Session (payment elements). */
  readonly baseUrl: string;
  /** Merchant API v2 (payments). */
  readonly merchantApiUrl: string;
  /** OAuth2 client-credentials token endpoint. */
  readonly tokenUrl: string;
}

/** Resurs' environments, from Resurs' own docs (see the README for what to confirm with Resurs). */
export const RESURS_ENVIRONMENTS: Readonly<Record<ResursEnvironment, EnvironmentUrls>> = Object.freeze({
  test: Object.freeze({
    baseUrl: RESURS_MOCK_BASE_URL,
    merchantApiUrl: 'https://merchant-api.integration.resurs.com',
    tokenUrl: 'https://merchant-api.integration.resurs.com/oauth2/token',
  }),
  production: Object.freeze({
    baseUrl: 'https://api.checkout.prod.resurs.cloud/payment/public/v1',
    merchantApiUrl: 'https://merchant-api.resurs.com',
    tokenUrl: 'https://merchant-api.resurs.com/oauth2/token',
  }),
});

/** True when any of the URLs in use is one of the test column's. */
export function usesTestEnvironment(urls: { baseUrl: string; merchantApiUrl: string; tokenUrl?: string | undefined }): boolean {
  const test = RESURS_ENVIRONMENTS.test;
  const host = (url: string | undefined) => (url ? new URL(url).host : '');
  const testHosts = new Set([host(test.baseUrl), host(test.merchantApiUrl), host(test.tokenUrl), 'apigw.integration.resurs.com']);
  return [urls.baseUrl, urls.merchantApiUrl, urls.tokenUrl].some((url) => url !== undefined && testHosts.has(host(url)));
}
