/**
 * `optionsFromEnv`: router options from environment variables, for twelve-factor set-ups.
 * It only maps variables to options; `createCheckoutRouter` validates them and reports
 * every problem at once.
 */
import { ConfigError } from '../errors';
import type { AuthOptions, CheckoutRouterOptions } from './options';

/** Environment variables read by `optionsFromEnv`. */
export interface ResursEnv {
  RESURS_STORE_ID?: string;
  RESURS_ENVIRONMENT?: string;
  RESURS_BASE_URL?: string;
  RESURS_MERCHANT_API_URL?: string;
  RESURS_TOKEN?: string;
  RESURS_CLIENT_ID?: string;
  RESURS_CLIENT_SECRET?: string;
  RESURS_TOKEN_URL?: string;
  RESURS_SCOPE?: string;
  RESURS_CAMPAIGNS?: string;
  [name: string]: string | undefined;
}

function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function authFromEnv(env: ResursEnv, hasEnvironment: boolean): AuthOptions {
  const token = present(env.RESURS_TOKEN);
  const clientId = present(env.RESURS_CLIENT_ID);
  if (token && clientId) {
    throw new ConfigError(['Set either RESURS_TOKEN or RESURS_CLIENT_ID (+ RESURS_CLIENT_SECRET, RESURS_TOKEN_URL), not both.']);
  }
  if (token) return { token };
  if (clientId) {
    const clientSecret = present(env.RESURS_CLIENT_SECRET);
    const tokenUrl = present(env.RESURS_TOKEN_URL);
    const missing = [!clientSecret && 'RESURS_CLIENT_SECRET', !tokenUrl && !hasEnvironment && 'RESURS_TOKEN_URL (or RESURS_ENVIRONMENT)'].filter(Boolean);
    if (missing.length > 0) throw new ConfigError([`RESURS_CLIENT_ID is set, so set ${missing.join(' and ')} too.`]);
    const scope = present(env.RESURS_SCOPE);
    return { clientId, clientSecret: clientSecret!, ...(tokenUrl ? { tokenUrl } : {}), ...(scope ? { scope } : {}) };
  }
  throw new ConfigError(['Set RESURS_TOKEN (a merchant JWT), or RESURS_CLIENT_ID + RESURS_CLIENT_SECRET (+ RESURS_TOKEN_URL unless RESURS_ENVIRONMENT is set).']);
}

/**
 * Builds router options from `RESURS_STORE_ID`, `RESURS_ENVIRONMENT`, `RESURS_BASE_URL`,
 * `RESURS_MERCHANT_API_URL`, `RESURS_TOKEN` or `RESURS_CLIENT_ID` + `RESURS_CLIENT_SECRET`
 * (+ `RESURS_TOKEN_URL` unless `RESURS_ENVIRONMENT` is set, + `RESURS_SCOPE`), and
 * `RESURS_CAMPAIGNS` (a comma-separated allow-list). Throws ConfigError when they don't add up.
 */
export function optionsFromEnv(env: ResursEnv = process.env): CheckoutRouterOptions & { storeId: string } {
  const storeId = present(env.RESURS_STORE_ID);
  const problems: string[] = [];
  if (!storeId) problems.push('Set RESURS_STORE_ID to your Resurs store id.');
  const environment = present(env.RESURS_ENVIRONMENT);
  if (environment !== undefined && environment !== 'test' && environment !== 'production') {
    problems.push("Set RESURS_ENVIRONMENT to 'test' or 'production'.");
  }
  let auth: AuthOptions | undefined;
  try {
    auth = authFromEnv(env, environment !== undefined);
  } catch (error) {
    problems.push(...(error as ConfigError).problems);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const options: CheckoutRouterOptions & { storeId: string } = { storeId: storeId!, auth: auth! };
  if (environment === 'test' || environment === 'production') options.environment = environment;
  const baseUrl = present(env.RESURS_BASE_URL);
  if (baseUrl) options.baseUrl = baseUrl;
  const merchantApiUrl = present(env.RESURS_MERCHANT_API_URL);
  if (merchantApiUrl) options.merchantApiUrl = merchantApiUrl;
  const campaigns = present(env.RESURS_CAMPAIGNS)
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (campaigns && campaigns.length > 0) options.campaigns = campaigns;
  return options;
}
