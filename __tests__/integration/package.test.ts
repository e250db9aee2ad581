/**
 * What a merchant installs: `tsc` builds dist/ with declarations, package.json points there,
 * and the built entry exports the public API. Built into a temporary folder so the test never
 * disturbs a dist/ in use (a sibling of dist/, so the built files find package.json and
 * node_modules exactly as dist/ does).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  exports: Record<string, { types: string; default: string }>;
  peerDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};

describe('the published package', () => {
  let outDir: string;

  beforeAll(() => {
    outDir = path.join(root, 'dist-test');
    rmSync(outDir, { recursive: true, force: true });
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], {
      cwd: root,
      stdio: 'pipe',
    });
  }, 120_000);
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('points main, types and exports at the built files', () => {
    const rel = (file: string) => path.join(outDir, path.relative('dist', file));
    expect(existsSync(rel(pkg.main))).toBe(true);
    expect(existsSync(rel(pkg.types))).toBe(true);
    expect(existsSync(rel(pkg.exports['.']!.default))).toBe(true);
    expect(existsSync(rel(pkg.exports['.']!.types))).toBe(true);
  });

  it('exports the public API from the built entry', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const api = require(path.join(outDir, 'index.js')) as Record<string, unknown>;
    for (const name of ['createCheckoutRouter', 'createResursClient', 'optionsFromEnv', 'ResursCheckoutError', 'ConfigError', 'MemorySessionStore', 'RedisSessionStore']) {
      expect(typeof api[name]).toBe('function');
    }
    expect(api.RESURS_MOCK_BASE_URL).toBe('https://api.checkout.int.resurs.cloud/mock/payment/public/v1');
  });

  it('declares its types, with no `any` in the public declarations of the options', () => {
    const options = readFileSync(path.join(outDir, 'options', 'options.d.ts'), 'utf8');
    expect(options).toContain('export interface CheckoutRouterOptions');
    const code = options.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\bany\b/);
  });

  it('keeps express a peer dependency covering 4 and 5', () => {
    expect(pkg.dependencies.express).toBeUndefined();
    expect(pkg.peerDependencies.express).toMatch(/\^4\.\d+\.\d+ \|\| \^5/);
  });
});
