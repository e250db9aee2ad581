/** The doctor's vocabulary: what a check reports, and what the run saw on the wire. */

/** The checks, in the order they are run and printed. */
export const CHECK_IDS = [
  'options',
  'token-endpoint',
  'credentials',
  'token-lifetime',
  'clock-skew',
  'store',
  'merchant-api',
  'callback-url',
] as const;

export type CheckId = (typeof CHECK_IDS)[number];

/** The line each check prints. */
export const CHECK_NAMES: Readonly<Record<CheckId, string>> = {
  options: 'options valid',
  'token-endpoint': 'token endpoint reachable',
  credentials: 'credentials and scope accepted',
  'token-lifetime': 'token lifetime',
  'clock-skew': 'clock skew',
  store: 'store known',
  'merchant-api': 'Merchant API reachable',
  'callback-url': 'callback URL publicly https',
};

/** `skip`: not run (an earlier check failed, or it does not apply); never counts as a failure. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** One check's outcome. `detail` and `fix` never hold a secret. */
export interface CheckResult {
  id: CheckId;
  name: string;
  status: CheckStatus;
  /** True only for `pass`. */
  ok: boolean;
  /** What was found (or why it was skipped). */
  detail: string;
  /** What to do about it; present when the check failed. */
  fix?: string;
}

/** The whole run. */
export interface DoctorReport {
  /** True when no check failed (skipped checks allowed): the command's exit code is 0 exactly then. */
  ok: boolean;
  checks: CheckResult[];
}

/** One HTTP answer (or failure) the client met, seen through its axios instance. */
export interface WireObservation {
  url: string;
  /** HTTP status, when an answer came. */
  status?: number;
  /** The answer's `Date` header, if any. */
  date?: string;
  /** Local clock (ms) when the answer arrived. */
  receivedAt: number;
  /** The answer's body; kept only for token answers (it holds the token: never printed). */
  body?: string;
  /** Error code of a failed request (ECONNREFUSED, ENOTFOUND, ERR_CANCELED, ...). */
  errorCode?: string;
}

export function result(id: CheckId, status: CheckStatus, detail: string, fix?: string): CheckResult {
  const out: CheckResult = { id, name: CHECK_NAMES[id], status, ok: status === 'pass', detail };
  if (fix !== undefined && status === 'fail') out.fix = fix;
  return out;
}

export const pass = (id: CheckId, detail: string): CheckResult => result(id, 'pass', detail);
export const fail = (id: CheckId, detail: string, fix: string): CheckResult => result(id, 'fail', detail, fix);
export const skip = (id: CheckId, detail: string): CheckResult => result(id, 'skip', detail);
