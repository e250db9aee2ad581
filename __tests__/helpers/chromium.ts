/**
 * Real headless Chromium for browser suites (Debian's /usr/bin/chromium, driven by playwright-core).
 * Without Chromium a suite is skipped with a warning on a developer machine, and fails in CI.
 */
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/** Flags that keep Chromium quiet: no first-run work, no calls home, loopback-only tests. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Path of the Chromium executable, or undefined when none is installed. */
export const chromiumPath: string | undefined = CANDIDATES.find(
  (candidate): candidate is string => typeof candidate === 'string' && candidate !== '' && isExecutable(candidate),
);

const MISSING = 'Chromium is not installed: run `apt-get install -y chromium` (or set CHROMIUM_PATH)';

/**
 * `describe` when Chromium is available. Without it: outside CI the suite is skipped with a
 * console.warn; in CI (`CI` set) the suite fails loudly instead of passing silently.
 */
export function describeWithChromium(name: string, fn: () => void): void {
  if (chromiumPath) {
    describe(name, fn);
  } else if (process.env.CI) {
    describe(name, () => {
      test('needs Chromium', () => {
        throw new Error(`${MISSING}. Browser suites never skip in CI.`);
      });
    });
  } else {
    console.warn(`Skipping "${name}": ${MISSING}.`);
    describe.skip(name, fn);
  }
}

/** Launches headless Chromium with a fresh temporary profile (Playwright's default). */
export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error(MISSING);
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: [...CHROMIUM_ARGS] });
}
