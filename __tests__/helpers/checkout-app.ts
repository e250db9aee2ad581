/**
 * Builds a shop the way the README tells a merchant to: an Express app with the router
 * mounted by one app.use(), talking to a real Resurs stand-in on 127.0.0.1.
 */
import express from 'express';
import type { Express } from 'express';
import { createCheckoutRouter } from '../../src';
import type { CheckoutRouterOptions } from '../../src';
import { startStandIn } from '../../demo-app/resurs-stand-in';
import type { StandIn, StandInOptions } from '../../demo-app/resurs-stand-in';
import { recordingLogger } from './recording-logger';
import type { LogLine } from './recording-logger';

export interface CheckoutHarness {
  standIn: StandIn;
  /** A merchant JWT the stand-in accepts (the default `auth.token`). */
  token: string;
  /** Builds an app with the router; `options` override the defaults (storeId, baseUrl, auth, logger). */
  app(options?: Partial<CheckoutRouterOptions>): Express;
  /** Every line logged by apps built here. */
  lines: LogLine[];
  close(): Promise<void>;
}

export async function startHarness(standInOptions: StandInOptions = {}): Promise<CheckoutHarness> {
  const standIn = await startStandIn(standInOptions);
  const token = standIn.issueToken();
  const { logger, lines } = recordingLogger();
  return {
    standIn,
    token,
    lines,
    app(options = {}) {
      const app = express();
      app.use(
        createCheckoutRouter({
          storeId: 'test-store',
          baseUrl: standIn.baseUrl,
          auth: { token },
          logger,
          ...options,
        } as CheckoutRouterOptions),
      );
      return app;
    },
    close: () => standIn.close(),
  };
}

/**
 * Registers the usual hooks: one harness for the file (or describe block), closed afterwards,
 * with the stand-in's recordings, faults and the log cleared before each test. The returned
 * object is filled in by `beforeAll`.
 */
export function useHarness(standInOptions: StandInOptions = {}): CheckoutHarness {
  const harness = {} as CheckoutHarness;
  beforeAll(async () => {
    Object.assign(harness, await startHarness(standInOptions));
  });
  afterAll(() => harness.close());
  beforeEach(() => {
    harness.standIn.reset();
    harness.lines.length = 0;
  });
  return harness;
}
