/**
 * The `express-resurs-checkout` bin: argument handling and exit codes as a function, then the
 * real thing as a child process against the stand-in (exit codes 0 / 1 / 2, --json on stdout,
 * no secret in either stream).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { DEMO_CLIENT_ID, startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn } from '../../demo-app/resurs-stand-in';
import { EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE, HELP, cli } from '../../src/doctor/cli-main';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'src/bin/cli.ts');
const SECRET = 'cli-test-secret-93d1f0';

let standIn: StandIn;
beforeAll(async () => {
  standIn = await startStandIn({ clientSecret: SECRET });
});
afterAll(() => standIn.close());
afterEach(() => standIn.reset());

function envFor(s: StandIn, extra: Record<string, string> = {}): Record<string, string> {
  return {
    RESURS_STORE_ID: 'cli-store',
    RESURS_BASE_URL: s.baseUrl,
    RESURS_MERCHANT_API_URL: s.merchantApiUrl,
    RESURS_TOKEN_URL: s.tokenUrl,
    RESURS_CLIENT_ID: DEMO_CLIENT_ID,
    RESURS_CLIENT_SECRET: SECRET,
    RESURS_SCOPE: 'mock-merchant-api',
    RESURS_CALLBACK_BASE_URL: 'https://shop.example.com/resurs',
    ...extra,
  };
}

async function callCli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await cli(argv, env, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

/** Runs the bin as a child process (async, so the stand-in in this process keeps answering). */
function runBin(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', BIN, ...args], {
      cwd: ROOT,
      // Only what the doctor should read: no RESURS_* leaking in from the test's own environment.
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('cli() arguments', () => {
  test('no command, an unknown command or an unknown option: usage on stderr, exit 2', async () => {
    for (const argv of [[], ['diagnose'], ['doctor', '--jsn']]) {
      const { code, stdout, stderr } = await callCli(argv);
      expect(code).toBe(EXIT_USAGE);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/Usage: express-resurs-checkout doctor \[--json\] \[--store <id>\]\.\.\. \[--help\]/);
    }
  });

  test('--help: the help text, exit 0, without running any check', async () => {
    for (const argv of [['--help'], ['doctor', '--help'], ['doctor', '--json', '-h']]) {
      const { code, stdout } = await callCli(argv, envFor(standIn));
      expect(code).toBe(EXIT_OK);
      expect(stdout).toBe(HELP);
    }
    expect(standIn.tokenRequests).toHaveLength(0);
    expect(HELP).toMatch(/needed only with payments: unset, its check is skipped/);
    expect(HELP).toMatch(/Exit codes: 0 every check passed \(skipped ones allowed\), 1 a check failed, 2 usage error/);
  });

  test('--store without a valid store id is a usage error, before any call', async () => {
    for (const argv of [['doctor', '--store'], ['doctor', '--store', '..'], ['doctor', '--store=']]) {
      const { code, stderr } = await callCli(argv, envFor(standIn));
      expect(code).toBe(EXIT_USAGE);
      expect(stderr).toMatch(/--store needs a Resurs store id/);
    }
    expect(standIn.tokenRequests).toHaveLength(0);
  });

  test('--store adds stores to the store check: each gets its session', async () => {
    const { code, stdout } = await callCli(['doctor', '--store', 'no-store', '--store=fi-store'], envFor(standIn));
    expect(code).toBe(EXIT_OK);
    expect(stdout).toMatch(/✓ store known: .*'cli-store'.*; .*'no-store'.*; .*'fi-store'/);
    expect(standIn.sessionRequests.map((r) => r.path.replace(/^.*\/stores\//, ''))).toEqual(['cli-store/sessions', 'no-store/sessions', 'fi-store/sessions']);
  });

  test('doctor: exit 0 when all pass, 1 when one fails; human lines by default', async () => {
    const good = await callCli(['doctor'], envFor(standIn));
    expect(good.code).toBe(EXIT_OK);
    expect(good.stdout).toMatch(/^✓ options valid: /);
    expect(good.stdout).toMatch(/8 passed, 0 failed, 0 skipped: ready\n$/);

    standIn.setFaults({ always: { kind: 'status', status: 404 } });
    const bad = await callCli(['doctor'], envFor(standIn));
    expect(bad.code).toBe(EXIT_CHECK_FAILED);
    expect(bad.stdout).toMatch(/^✗ store known: .* — check RESURS_STORE_ID belongs to RESURS_ENVIRONMENT/m);
    expect(bad.stdout + bad.stderr).not.toContain(SECRET);
  });
});

describe('the bin as a child process', () => {
  // ts-node loads the whole graph: seconds per child on a busy machine.
  jest.setTimeout(60_000);

  test('all good: exit 0, one JSON object on stdout', async () => {
    const { code, stdout, stderr } = await runBin(['doctor', '--json'], envFor(standIn));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(true);
    expect(report.summary).toEqual({ passed: 8, failed: 0, skipped: 0 });
    expect(stdout).not.toContain(SECRET);
  });

  test('a check failing (wrong client secret): exit 1, the failing check with its fix, no secret', async () => {
    const wrong = 'wrong-cli-secret-11c2';
    const { code, stdout, stderr } = await runBin(['doctor', '--json'], envFor(standIn, { RESURS_CLIENT_SECRET: wrong }));
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report.ok).toBe(false);
    const credentials = report.checks.find((c: { id: string }) => c.id === 'credentials');
    expect(credentials).toMatchObject({ status: 'fail', fix: expect.stringMatching(/RESURS_CLIENT_SECRET/) });
    for (const secret of [wrong, SECRET]) expect(stdout + stderr).not.toContain(secret);
  });
});

describe('the bin file', () => {
  test('starts with a shebang, which the TypeScript emit keeps', () => {
    const source = readFileSync(BIN, 'utf8');
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const emitted = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    expect(emitted.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  test('package.json names it as the bin', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ 'express-resurs-checkout': 'dist/bin/cli.js' });
  });
});
