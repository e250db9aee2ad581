/**
 * The `express-resurs-checkout` command line, as a function (the bin in `src/bin/cli.ts` only
 * wires it to the process): `express-resurs-checkout doctor [--json] [--help]`.
 * Exit codes: 0 every check passed (skipped ones allowed), 1 a check failed, 2 usage error.
 */
import type { ResursEnv } from '../options/from-env';
import { checkStoreId } from '../options/options';
import { VERSION } from '../version';
import { formatHuman, formatJson } from './format';
import { runDoctor } from './run';
import type { DoctorOptions } from './run';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

export const HELP = `Usage: express-resurs-checkout doctor [--json] [--store <id>]...

Checks the Resurs set-up that optionsFromEnv() reads from the environment, one line each,
with a fix for each failure:
  options valid                  the RESURS_* variables make valid options
  token endpoint reachable       the OAuth2 token endpoint answers (client credentials)
  credentials and scope accepted Resurs issues a token for RESURS_CLIENT_ID/SECRET and RESURS_SCOPE
  token lifetime                 at least 5 minutes (from expires_in / the JWT's exp)
  clock skew                     local clock within 30 s of Resurs' Date header
  store known                    a checkout session is created for RESURS_STORE_ID (and each --store)
  Merchant API reachable         a payment search (random order reference) answers
  callback URL publicly https    RESURS_CALLBACK_BASE_URL is https on a public host

Reads RESURS_STORE_ID, RESURS_ENVIRONMENT, RESURS_BASE_URL, RESURS_MERCHANT_API_URL,
RESURS_TOKEN or RESURS_CLIENT_ID + RESURS_CLIENT_SECRET (+ RESURS_TOKEN_URL, RESURS_SCOPE),
RESURS_CAMPAIGNS and RESURS_CALLBACK_BASE_URL (the public origin + mount path of the router).

Notes:
  - It creates one checkout session (sessions expire by themselves) and searches payments;
    it never creates, captures or refunds a payment.
  - With RESURS_TOKEN (a static JWT) no token endpoint is called: the lifetime is read from
    the JWT's exp, and Resurs' verdict on it from the session call.
  - RESURS_CALLBACK_BASE_URL is needed only with payments: unset, its check is skipped,
    which does not count as a failure. Its host is judged by name and IP range only (no DNS).
  - A check whose premise failed is skipped. Each call is tried once (no retries).
  - Secrets (RESURS_CLIENT_SECRET, RESURS_TOKEN, fetched tokens) are never printed.

Options:
  --json        one JSON object on stdout: {ok, summary, checks: [{id, name, status, ok, detail, fix?}]}
  --store <id>  also check this store (repeat it for each store of an app serving several)
  --help        this text

Exit codes: 0 every check passed (skipped ones allowed), 1 a check failed, 2 usage error.
`;

const USAGE = 'Usage: express-resurs-checkout doctor [--json] [--store <id>]... [--help]\n';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Runs the command line; resolves to the exit code. */
export async function cli(argv: readonly string[], env: ResursEnv, io: CliIo, options: DoctorOptions = {}): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP);
    return EXIT_OK;
  }
  if (command === '--version' || command === '-v') {
    io.stdout(`${VERSION}\n`);
    return EXIT_OK;
  }
  if (command !== 'doctor') {
    io.stderr(command === undefined ? USAGE : `Unknown command '${command}'.\n${USAGE}`);
    return EXIT_USAGE;
  }
  let json = false;
  const stores: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === '--help' || arg === '-h') {
      io.stdout(HELP);
      return EXIT_OK;
    }
    if (arg === '--json') json = true;
    else if (arg === '--store' || arg.startsWith('--store=')) {
      const value = arg === '--store' ? rest[++i] : arg.slice('--store='.length);
      try {
        stores.push(checkStoreId(value ?? ''));
      } catch {
        io.stderr(`--store needs a Resurs store id (a non-empty string of at most 256 characters, other than "." or "..").\n${USAGE}`);
        return EXIT_USAGE;
      }
    } else {
      io.stderr(`Unknown option '${arg}'.\n${USAGE}`);
      return EXIT_USAGE;
    }
  }
  let report;
  try {
    report = await runDoctor(env, stores.length > 0 ? { ...options, stores } : options);
  } catch (error) {
    // A bug: say so without echoing anything that might hold a secret.
    io.stderr(`express-resurs-checkout doctor: unexpected ${error instanceof Error ? error.name : 'failure'}; please report it.\n`);
    return EXIT_CHECK_FAILED;
  }
  io.stdout(json ? formatJson(report) : formatHuman(report));
  return report.ok ? EXIT_OK : EXIT_CHECK_FAILED;
}
