/**
 * What a merchant gets from the registry: `npm pack` of a clean copy of the repository (so the
 * `prepack` build runs and a dist/ in use here is never touched), installed into a fresh project
 * outside the repository next to Express, then used from CommonJS, from ESM and from strict
 * TypeScript (module nodenext).
 *
 * No network: the fresh project gets a package-lock.json cut from the repository's (the locked
 * versions of what it needs, with their tarball URLs and integrity), so `npm ci --offline` takes
 * every tarball from the npm cache that the repository's own `npm ci` filled, and needs no registry
 * metadata. Only if a tarball is missing from that cache (ENOTCACHED) is the package unpacked by
 * hand and its dependencies linked from the repository's node_modules, with a warning.
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');
const NAME = 'express-resurs-checkout';

/** The runtime exports and what `typeof` says of each; add new public exports here. */
const RUNTIME_EXPORTS: Record<string, 'function' | 'string' | 'object'> = {
  createCheckoutRouter: 'function',
  createResursClient: 'function',
  optionsFromEnv: 'function',
  RESURS_MOCK_BASE_URL: 'string',
  ResursCheckoutError: 'function',
  ConfigError: 'function',
  ERROR_STATUS: 'object',
  MemorySessionStore: 'function',
  RedisSessionStore: 'function',
  RESURS_ENVIRONMENTS: 'object',
  RESURS_CALLBACK_IPS: 'object',
};

/** Not copied into the clean copy: what a fresh clone lacks (.gitignore) or never needs. */
const NOT_IN_A_CLONE = new Set(['.git', 'node_modules', 'dist', 'dist-test', 'coverage', 'test-artifacts']);

/** Child processes get no npm lifecycle variables from the `npm test` around this test. */
const childEnv: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^npm_(package_|lifecycle_|config_local_prefix$)/i.test(k)),
);
Object.assign(childEnv, { npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' });

/** npm's CLI script, run by this very node (so CI's per-version runs test that version). */
function npmCli(): string[] {
  const execPath = process.env.npm_execpath;
  if (execPath && /np[mx]-cli\.js$/.test(execPath)) {
    const cli = path.join(path.dirname(execPath), 'npm-cli.js');
    if (existsSync(cli)) return [process.execPath, cli];
  }
  return ['npm'];
}

function run(cmd: string[], cwd: string, timeout = 120_000): string {
  const options: ExecFileSyncOptions = { cwd, env: childEnv, stdio: 'pipe', timeout, encoding: 'utf8' };
  try {
    return execFileSync(cmd[0]!, cmd.slice(1), options) as string;
  } catch (err) {
    const e = err as { status?: number; signal?: string; stdout?: string; stderr?: string };
    throw new Error(
      `${cmd.map((c) => path.basename(c)).join(' ')} (in ${cwd}) failed: status ${e.status}, signal ${e.signal}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

const npm = (args: string[], cwd: string) => run([...npmCli(), ...args], cwd);
const node = (args: string[], cwd: string, timeout = 60_000) => run([process.execPath, ...args], cwd, timeout);

type LockEntry = {
  version?: string;
  resolved?: string;
  integrity?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
};
type Lock = { packages: Record<string, LockEntry> };

function lockedVersion(lock: Lock, name: string): string {
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return version;
}

/**
 * The lockfile entries that `deps` of the package at `from` need, transitively, taken from
 * `lock` (Node's lookup: the nearest node_modules up the path), each with its registry tarball URL
 * (this repository's lockfile leaves `resolved` out; npm maps the default registry to the
 * configured one).
 */
function cutLock(lock: Lock, roots: Array<[from: string, deps: Record<string, string>]>, out: Record<string, LockEntry>): void {
  const find = (from: string, dep: string): string | undefined => {
    for (let base = from; ; ) {
      const loc = `${base ? `${base}/` : ''}node_modules/${dep}`;
      if (lock.packages[loc]) return loc;
      if (!base) return undefined;
      const i = base.lastIndexOf('/node_modules/');
      base = i < 0 ? '' : base.slice(0, i);
    }
  };
  const queue = [...roots];
  for (let next = queue.shift(); next; next = queue.shift()) {
    const [from, deps] = next;
    for (const dep of Object.keys(deps)) {
      const loc = find(from, dep);
      const meta = out[from];
      const optional = meta?.optionalDependencies?.[dep] !== undefined || meta?.peerDependenciesMeta?.[dep]?.optional;
      if (!loc) {
        if (optional) continue;
        throw new Error(`${dep} (needed by ${from || 'the fresh project'}) is not in package-lock.json`);
      }
      if (out[loc]) continue;
      const entry: LockEntry = { ...lock.packages[loc]! };
      for (const flag of ['dev', 'optional', 'devOptional', 'peer'] as const) delete entry[flag];
      const name = loc.slice(loc.lastIndexOf('node_modules/') + 'node_modules/'.length);
      entry.resolved ??= `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${entry.version}.tgz`;
      out[loc] = entry;
      queue.push([loc, { ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies }]);
    }
  }
}

describe('the packed package, installed into a fresh project', () => {
  let work: string;
  let app: string;
  let tarball: string;
  let packedFiles: string[];
  let packedPkg: { dependencies?: Record<string, string>; peerDependencies?: Record<string, string>; engines?: { node?: string } };

  beforeAll(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'erc-packed-'));

    // 1. A clean copy of the repository, packed (prepack builds dist/).
    const source = path.join(work, 'source');
    cpSync(root, source, {
      recursive: true,
      filter: (src) => {
        const rel = path.relative(root, src);
        return rel === '' || (!NOT_IN_A_CLONE.has(rel.split(path.sep)[0]!) && !rel.endsWith('.tgz'));
      },
    });
    symlinkSync(path.join(root, 'node_modules'), path.join(source, 'node_modules'), 'dir');
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], source)) as Array<{ filename: string; integrity: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, packed[0]!.filename);
    packedFiles = packed[0]!.files.map((f) => f.path).sort();

    // 2. A fresh project that depends on the tarball and on Express (the peer), with types.
    app = path.join(work, 'app');
    mkdirSync(app);
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as Lock;
    const sourcePkg = JSON.parse(readFileSync(path.join(source, 'package.json'), 'utf8')) as LockEntry & { version: string };
    const devTypes = ['@types/express', '@types/node'];
    const appPkg = {
      name: 'packed-install-check',
      version: '1.0.0',
      private: true,
      dependencies: { [NAME]: `file:../${path.basename(tarball)}`, express: lockedVersion(lock, 'express') },
      devDependencies: Object.fromEntries(devTypes.map((t) => [t, lockedVersion(lock, t)])),
    };
    const ownEntry: LockEntry = {
      version: sourcePkg.version,
      resolved: appPkg.dependencies[NAME],
      integrity: packed[0]!.integrity,
      dependencies: sourcePkg.dependencies,
      peerDependencies: sourcePkg.peerDependencies,
    };
    const packages: Record<string, LockEntry> = {
      '': { name: appPkg.name, version: appPkg.version, dependencies: appPkg.dependencies, devDependencies: appPkg.devDependencies } as LockEntry,
      [`node_modules/${NAME}`]: ownEntry,
    };
    cutLock(lock, [
      ['', { express: appPkg.dependencies.express, ...appPkg.devDependencies }],
      [`node_modules/${NAME}`, { ...ownEntry.dependencies, ...ownEntry.peerDependencies }],
    ], packages);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify(appPkg, null, 2));
    writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify({ name: appPkg.name, version: appPkg.version, lockfileVersion: 3, requires: true, packages }, null, 2));
    try {
      npm(['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
    } catch (err) {
      if (!/ENOTCACHED/.test((err as Error).message)) throw err;
      console.warn(`The npm cache lacks a locked tarball, so the dependencies are linked from the repository:\n${(err as Error).message}`);
      rmSync(path.join(app, 'node_modules'), { recursive: true, force: true });
      const target = path.join(app, 'node_modules', NAME);
      mkdirSync(target, { recursive: true });
      run(['tar', '-xzf', tarball, '-C', target, '--strip-components=1'], app);
      for (const dep of [...Object.keys(sourcePkg.dependencies ?? {}), 'express', ...devTypes]) {
        mkdirSync(path.dirname(path.join(app, 'node_modules', dep)), { recursive: true });
        symlinkSync(path.join(root, 'node_modules', dep), path.join(app, 'node_modules', dep), 'dir');
      }
    }
    packedPkg = JSON.parse(readFileSync(path.join(app, 'node_modules', NAME, 'package.json'), 'utf8')) as typeof packedPkg;
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships dist/ (built), README.md, LICENSE and package.json, and no source maps', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) expect(packedFiles).toContain(file);
    expect(packedFiles.filter((f) => !['package.json', 'README.md', 'LICENSE'].includes(f) && !f.startsWith('dist/'))).toEqual([]);
    expect(packedFiles.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(packedFiles.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    const license = readFileSync(path.join(app, 'node_modules', NAME, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('Copyright (c) 2026 express-resurs-checkout contributors');
  });

  it('keeps express a peer, not a dependency, and states the supported Node versions', () => {
    expect(packedPkg.dependencies?.express).toBeUndefined();
    expect(packedPkg.peerDependencies?.express).toBeDefined();
    expect(packedPkg.engines?.node).toMatch(/20/);
  });

  it('loads with require() and exports the public API', () => {
    const out = node(['-e', `
      const api = require(${JSON.stringify(NAME)});
      const seen = {};
      for (const name of Object.keys(${JSON.stringify(RUNTIME_EXPORTS)})) seen[name] = typeof api[name];
      console.log(JSON.stringify({ seen, base: api.RESURS_MOCK_BASE_URL, resolved: require.resolve(${JSON.stringify(NAME)}) }));
    `], app);
    const { seen, base, resolved } = JSON.parse(out) as { seen: Record<string, string>; base: string; resolved: string };
    expect(seen).toEqual(RUNTIME_EXPORTS);
    expect(base).toBe('https://api.checkout.int.resurs.cloud/mock/payment/public/v1');
    expect(path.relative(app, resolved)).toBe(path.join('node_modules', NAME, 'dist', 'index.js'));
  }, 90_000);

  it('loads with ESM import, named exports included, and mounts on an Express app', () => {
    const names = Object.keys(RUNTIME_EXPORTS);
    writeFileSync(
      path.join(app, 'check.mjs'),
      `import express from 'express';
import { ${names.join(', ')} } from '${NAME}';
import * as api from '${NAME}';

const app = express();
app.use(createCheckoutRouter({
  storeId: 'store-1',
  baseUrl: 'http://127.0.0.1:9/unused',
  auth: { clientId: 'id', clientSecret: 'secret', tokenUrl: 'http://127.0.0.1:9/token' },
}));
let configError = 'none';
try {
  createCheckoutRouter({});
} catch (err) {
  configError = err instanceof ConfigError ? 'ConfigError' : String(err);
}
const types = Object.fromEntries([${names.map((n) => `['${n}', typeof ${n}]`).join(', ')}]);
console.log(JSON.stringify({ types, configError, same: api.createCheckoutRouter === createCheckoutRouter }));
`,
    );
    const { types, configError, same } = JSON.parse(node(['check.mjs'], app)) as { types: Record<string, string>; configError: string; same: boolean };
    expect(types).toEqual(RUNTIME_EXPORTS);
    expect(configError).toBe('ConfigError');
    expect(same).toBe(true);
  }, 90_000);

  it('type-checks under tsc --strict with module nodenext, from CommonJS and ESM', () => {
    const body = `
const options: CheckoutRouterOptions = {
  storeId: 'store-1',
  auth: { clientId: 'id', clientSecret: 'secret', tokenUrl: 'https://example.invalid/token' },
  reuse: { key: (req) => req.get('x-cart-id'), store: new MemorySessionStore() },
  onError: (event: CheckoutErrorEvent) => void event,
};
const app = express();
app.use(createCheckoutRouter(options));
export const url: string = RESURS_MOCK_BASE_URL;
export const problems: string[] = new ConfigError(['x']).problems;
// The declarations are real types, not any:
// @ts-expect-error storeId must be a string
export const bad: CheckoutRouterOptions = { storeId: 1, auth: { token: 'x' } };
`;
    const imports = `import express from 'express';
import { createCheckoutRouter, ConfigError, MemorySessionStore, RESURS_MOCK_BASE_URL } from '${NAME}';
import type { CheckoutErrorEvent, CheckoutRouterOptions } from '${NAME}';
`;
    writeFileSync(path.join(app, 'check.ts'), imports + body);
    writeFileSync(path.join(app, 'check-esm.mts'), imports + body);
    const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
    node([tsc, '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--esModuleInterop', 'check.ts', 'check-esm.mts'], app, 120_000);
  }, 150_000);
});
