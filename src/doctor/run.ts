/**
 * `runDoctor(env)`: runs the checks in order with the package's own client (its axios instance,
 * token source and transport), watching the wire through an axios interceptor for statuses and
 * Date headers. A check whose premise failed is skipped. The report never holds a secret: the
 * checks build their text from safe facts, and every line is scrubbed of the client secret, the
 * static token and any fetched token before it is returned.
 */
import { randomBytes } from 'node:crypto';
import { isAxiosError } from 'axios';
import type { AxiosResponse } from 'axios';
import jwt from 'jsonwebtoken';
import { ConfigError, ResursCheckoutError } from '../errors';
import { optionsFromEnv } from '../options/from-env';
import type { ResursEnv } from '../options/from-env';
import { DEFAULTS, resolveClientOptions, resolveRouterOptions } from '../options/options';
import type { ResolvedClientOptions, ResursClientOptions } from '../options/options';
import { buildResursClient } from '../resurs/client';
import type { BuiltClient } from '../resurs/client';
import { UpstreamFailure } from '../transport/failure';
import {
  checkCallbackUrl,
  judgeClockSkew,
  judgeCredentials,
  judgeMerchantApi,
  judgeOptions,
  judgeStaticCredentials,
  judgeStore,
  judgeTokenEndpoint,
  judgeTokenLifetime,
  readTokenAnswer,
} from './checks';
import type { CallOutcome, FailureInfo, OptionsSummary } from './checks';
import { CHECK_IDS, fail, pass, skip } from './types';
import type { CheckId, CheckResult, DoctorReport, WireObservation } from './types';

export interface DoctorOptions {
  /** Time limit of each call, in ms. Default 10000. */
  timeoutMs?: number;
  /** The local clock (tests). */
  now?: () => number;
  /** More stores to check besides RESURS_STORE_ID (`--store`, for an app serving several). */
  stores?: readonly string[];
}

const REDACTED = '[redacted]';
/**
 * Shorter values are not scrubbed: the checks never put a secret into their text in the first
 * place, and scrubbing a one-letter "secret" would garble every line. Real secrets are longer.
 */
const MIN_SCRUBBED_LENGTH = 6;

function present(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Our own words about a failed call, from the error's cause chain. */
export function describeFailure(error: unknown): FailureInfo {
  let current: unknown = error;
  let outer: ResursCheckoutError | undefined;
  for (let depth = 0; depth < 6 && current instanceof Error; depth++) {
    if (current instanceof UpstreamFailure) {
      const info: FailureInfo = { kind: current.kind, message: current.message };
      if (current.status !== undefined) info.status = current.status;
      return info;
    }
    if (current instanceof ResursCheckoutError) outer ??= current;
    current = current.cause;
  }
  if (outer) return outer.code === 'upstream_timeout' ? { kind: 'timeout', message: outer.message } : { message: outer.message };
  return { message: error instanceof Error ? `unexpected ${error.name}` : 'unexpected failure' };
}

async function settle<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; failure: FailureInfo }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, failure: describeFailure(error) };
  }
}

function withLast<T>(outcome: { ok: true; value: T } | { ok: false; failure: FailureInfo }, last: WireObservation | undefined): CallOutcome<T> {
  return last ? { ...outcome, last } : outcome;
}

function header(response: AxiosResponse, name: string): string | undefined {
  const value: unknown = response.headers?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Records every answer and failure of the client's axios instance. */
function watch(client: BuiltClient, tokenUrl: string | undefined, now: () => number): WireObservation[] {
  const seen: WireObservation[] = [];
  client.transport.http.interceptors.response.use(
    (response) => {
      const url = response.config.url ?? '';
      const observation: WireObservation = { url, status: response.status, receivedAt: now() };
      const date = header(response, 'date');
      if (date !== undefined) observation.date = date;
      if (url === tokenUrl && typeof response.data === 'string') observation.body = response.data;
      seen.push(observation);
      return response;
    },
    (error: unknown) => {
      const observation: WireObservation = { url: isAxiosError(error) ? (error.config?.url ?? '') : '', receivedAt: now() };
      if (isAxiosError(error) && typeof error.code === 'string') observation.errorCode = error.code;
      seen.push(observation);
      return Promise.reject(error);
    },
  );
  return seen;
}

/** The last observation since `from` whose URL starts with `prefix`. */
function lastSeen(seen: readonly WireObservation[], from: number, prefix: string): WireObservation | undefined {
  return seen.slice(from).filter((o) => o.url === prefix || o.url.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`)).at(-1);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(REDACTED);
  return out;
}

/** One line for several stores: a pass when all passed, else the failures (and the first fix). */
export function combineStores(results: readonly CheckResult[]): CheckResult {
  if (results.length === 1) return results[0]!;
  const failed = results.filter((r) => r.status === 'fail');
  if (failed.length === 0) return pass('store', results.map((r) => r.detail).join('; '));
  const fixes = [...new Set(failed.map((r) => r.fix).filter((fix): fix is string => fix !== undefined))];
  return fail('store', `${failed.length} of ${results.length} stores failed: ${failed.map((r) => r.detail).join('; ')}`, fixes.join('; '));
}

/** Runs every check against the `RESURS_*` variables in `env`. */
export async function runDoctor(env: ResursEnv, options: DoctorOptions = {}): Promise<DoctorReport> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const results = new Map<CheckId, CheckResult>();
  const secrets = new Set<string>();
  for (const value of [env.RESURS_CLIENT_SECRET, env.RESURS_TOKEN]) {
    if (present(value)) secrets.add(present(value)!);
    if (value) secrets.add(value);
  }

  let resolved: ResolvedClientOptions | undefined;
  let client: BuiltClient | undefined;
  try {
    const fromEnv = optionsFromEnv(env);
    resolveRouterOptions(fromEnv);
    const clientInput: ResursClientOptions & { campaigns?: unknown } = { ...fromEnv };
    delete clientInput.campaigns;
    // One attempt per call: the doctor reports what happens, it does not paper over it.
    resolved = resolveClientOptions({ ...clientInput, retries: 0, breaker: false, timeoutMs, deadlineMs: Math.round(timeoutMs * 1.5) });
    client = buildResursClient(resolved);
  } catch (error) {
    const problems = error instanceof ConfigError ? error.problems : [`unexpected ${error instanceof Error ? error.name : 'failure'} while reading the options`];
    results.set('options', judgeOptions(problems, undefined));
  }

  try {
    if (resolved && client) await runCalls(env, resolved, client, results, secrets, now, options.stores ?? []);
  } finally {
    client?.close();
  }
  results.set('callback-url', checkCallbackUrl(env.RESURS_CALLBACK_BASE_URL));

  const ordered = [...secrets].filter((s) => s.length >= MIN_SCRUBBED_LENGTH).sort((a, b) => b.length - a.length);
  const checks = CHECK_IDS.map((id) => {
    const found = results.get(id) ?? skip(id, "skipped: needs 'options valid'");
    const clean: CheckResult = { ...found, detail: scrub(found.detail, ordered) };
    if (found.fix !== undefined) clean.fix = scrub(found.fix, ordered);
    return clean;
  });
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

async function runCalls(
  env: ResursEnv,
  resolved: ResolvedClientOptions,
  client: BuiltClient,
  results: Map<CheckId, CheckResult>,
  secrets: Set<string>,
  now: () => number,
  moreStores: readonly string[],
): Promise<void> {
  const auth = resolved.auth;
  const staticToken = 'token' in auth;
  const tokenUrl = 'clientId' in auth ? auth.tokenUrl : undefined;
  const summary: OptionsSummary = {
    storeId: resolved.storeId,
    environment: resolved.environment,
    auth: staticToken ? 'static token' : 'client credentials',
    baseUrl: resolved.baseUrl,
    merchantApiUrl: resolved.merchantApiUrl,
    overrides: ['RESURS_BASE_URL', 'RESURS_MERCHANT_API_URL', ...(staticToken ? [] : ['RESURS_TOKEN_URL'])].filter((name) => present(env[name])),
    nodeEnvProduction: env.NODE_ENV === 'production',
  };
  if (tokenUrl) summary.tokenUrl = tokenUrl;
  results.set('options', judgeOptions(undefined, summary));
  const seen = watch(client, tokenUrl, now);
  const rememberTokens = () => {
    for (const o of seen) {
      const token = o.body !== undefined ? readTokenAnswer(o.body, o.receivedAt).token : undefined;
      if (token) secrets.add(token);
    }
  };

  // Token: fetched with client credentials, or read from the static JWT.
  let tokenUsable: boolean;
  if ('clientId' in auth) {
    const outcome = await settle(() => client.warmUp());
    rememberTokens();
    const last = lastSeen(seen, 0, tokenUrl!);
    const reachable = judgeTokenEndpoint(withLast(outcome, last), tokenUrl!);
    results.set('token-endpoint', reachable);
    const credentials = reachable.ok
      ? judgeCredentials(last, { clientId: auth.clientId, scope: auth.scope ?? DEFAULTS.scope, environment: resolved.environment })
      : skip('credentials', "skipped: needs 'token endpoint reachable'");
    results.set('credentials', credentials);
    if (credentials.ok && last) {
      const date = last.date !== undefined ? Date.parse(last.date) : Number.NaN;
      const serverNow = Number.isNaN(date) ? last.receivedAt : date + 500;
      results.set('token-lifetime', judgeTokenLifetime(readTokenAnswer(last.body, serverNow).lifetimeSeconds, 'fetched'));
    } else {
      results.set('token-lifetime', skip('token-lifetime', "skipped: needs 'credentials and scope accepted'"));
    }
    results.set('clock-skew', last?.status !== undefined ? judgeClockSkew(last, 'token endpoint') : skip('clock-skew', "skipped: needs 'token endpoint reachable'"));
    tokenUsable = credentials.ok;
  } else if ('token' in auth) {
    results.set('token-endpoint', skip('token-endpoint', 'skipped: RESURS_TOKEN is set, so no token endpoint is called'));
    const payload = jwt.decode(auth.token);
    const exp = payload && typeof payload === 'object' && typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
    const remaining = exp !== undefined ? (exp - now()) / 1000 : undefined;
    results.set('token-lifetime', judgeTokenLifetime(remaining, 'static', exp));
    tokenUsable = remaining === undefined || remaining > 0;
    if (!tokenUsable) {
      results.set('credentials', skip('credentials', 'skipped: RESURS_TOKEN has expired (see token lifetime)'));
      results.set('clock-skew', skip('clock-skew', 'skipped: RESURS_TOKEN has expired, so Resurs was not called'));
    }
  } else {
    tokenUsable = false; // a token function cannot come from the environment
  }

  const needToken = "skipped: needs a usable token ('credentials and scope accepted', 'token lifetime')";
  if (!tokenUsable) {
    results.set('store', skip('store', needToken));
    results.set('merchant-api', skip('merchant-api', needToken));
    return;
  }

  // Store known: one real session per store, as a shopper's would be.
  const checkStore = async (storeId: string) => {
    const from = seen.length;
    const session = await settle(() => client.forStore(storeId).createSession({}, { requestId: `doctor-${randomBytes(6).toString('hex')}` }));
    rememberTokens();
    const last = lastSeen(seen, from, resolved.baseUrl);
    const judged = judgeStore(withLast(session, last), {
      storeId,
      environment: resolved.environment,
      baseUrl: resolved.baseUrl,
      baseUrlOverridden: present(env.RESURS_BASE_URL) !== undefined,
      staticToken,
    });
    return { judged, last };
  };
  const first = await checkStore(resolved.storeId);
  const lastSession = first.last;
  const others: CheckResult[] = [];
  for (const storeId of moreStores.filter((id) => id !== resolved.storeId)) others.push((await checkStore(storeId)).judged);
  const storeResult = combineStores([first.judged, ...others]);
  if (staticToken) {
    const credentials = judgeStaticCredentials(lastSession);
    results.set('credentials', credentials);
    results.set('clock-skew', judgeClockSkew(lastSession, 'sessions API'));
    results.set('store', credentials.status === 'fail' ? skip('store', "skipped: needs 'credentials and scope accepted'") : storeResult);
  } else {
    results.set('store', storeResult);
  }

  // Merchant API: a search for an order reference nobody uses: an empty list, or any 2xx.
  const merchantFrom = seen.length;
  const orderReference = `doctor-${randomBytes(8).toString('hex')}`;
  const search = await settle(() => client.payments.search({ orderReference }, { requestId: `doctor-${randomBytes(6).toString('hex')}` }));
  rememberTokens();
  results.set('merchant-api', judgeMerchantApi(withLast(search, lastSeen(seen, merchantFrom, resolved.merchantApiUrl)), resolved.merchantApiUrl));
}
