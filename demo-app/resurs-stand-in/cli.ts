/**
 * Run the stand-in on its own:
 *   node -r ts-node/register/transpile-only demo-app/resurs-stand-in/cli.ts --port 0 --latency 50
 * Prints one JSON line `{"url", "baseUrl", "tokenUrl"}` on stdout once listening; exits on SIGTERM/SIGINT.
 * Flags: --host, --port, --latency (ms), --session-ttl (s), --token-ttl (s), --max-sessions.
 * Credentials come from STAND_IN_JWT_SECRET, STAND_IN_CLIENT_ID, STAND_IN_CLIENT_SECRET (demo defaults otherwise).
 */
import { parseArgs } from 'node:util';
import { startStandIn } from './server';
import type { StandInOptions } from './types';

function integer(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got "${value}"`);
  return n;
}

function optionsFromArgs(argv: string[], env: NodeJS.ProcessEnv): StandInOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      latency: { type: 'string' },
      'session-ttl': { type: 'string' },
      'token-ttl': { type: 'string' },
      'max-sessions': { type: 'string' },
    },
    strict: true,
  });
  const options: StandInOptions = {
    host: values.host,
    port: integer('port', values.port, 0),
    latencyMs: integer('latency', values.latency, 0),
    sessionTtlSeconds: integer('session-ttl', values['session-ttl'], -86_400),
    tokenTtlSeconds: integer('token-ttl', values['token-ttl'], 1),
    maxSessions: integer('max-sessions', values['max-sessions'], 1),
    jwtSecret: env.STAND_IN_JWT_SECRET || undefined,
    clientId: env.STAND_IN_CLIENT_ID || undefined,
    clientSecret: env.STAND_IN_CLIENT_SECRET || undefined,
  };
  for (const key of Object.keys(options) as (keyof StandInOptions)[]) {
    if (options[key] === undefined) delete options[key];
  }
  return options;
}

async function main(): Promise<void> {
  const standIn = await startStandIn(optionsFromArgs(process.argv.slice(2), process.env));
  process.stdout.write(JSON.stringify({ url: standIn.url, baseUrl: standIn.baseUrl, tokenUrl: standIn.tokenUrl }) + '\n');
  const stop = (): void => {
    standIn.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`resurs-stand-in: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
