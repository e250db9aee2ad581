/**
 * Child entry: the Resurs stand-in for the benchmarks, on 127.0.0.1 and a free port.
 * Like demo-app/resurs-stand-in/cli.ts, but it also exits when its parent goes away and keeps its
 * recordings small. Prints one line `{"url", "baseUrl", "tokenUrl"}` once listening.
 * Args: [latencyMs] [maxSessions]
 */
import { startStandIn } from '../demo-app/resurs-stand-in';
import { exitWithParent } from './processes';

async function main(): Promise<void> {
  const latencyMs = Number(process.argv[2] ?? 0);
  const maxSessions = Number(process.argv[3] ?? 10_000);
  const standIn = await startStandIn({ host: '127.0.0.1', port: 0, latencyMs, maxSessions, maxRecordedRequests: 100 });
  exitWithParent(() => standIn.close());
  process.stdout.write(JSON.stringify({ url: standIn.url, baseUrl: standIn.baseUrl, tokenUrl: standIn.tokenUrl, pid: process.pid }) + '\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`bench stand-in: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
