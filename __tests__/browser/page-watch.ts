/** Records what a browser context did: every request, CSP violations and uncaught page errors. */
import type { BrowserContext } from 'playwright-core';

export interface PageWatch {
  /** Every request URL any page of the context made, in order. */
  requests: string[];
  /** `securitypolicyviolation` events and Chromium's CSP console messages. */
  cspViolations: string[];
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
}

type ReportFn = (text: string) => void;

/** Starts watching `context`; call before opening pages. */
export async function watchContext(context: BrowserContext): Promise<PageWatch> {
  const watch: PageWatch = { requests: [], cspViolations: [], pageErrors: [] };
  context.on('request', (request) => watch.requests.push(request.url()));
  context.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) watch.cspViolations.push(`console: ${message.text()}`);
  });
  context.on('weberror', (error) => watch.pageErrors.push(error.error().message));
  await context.exposeFunction('__reportCspViolation', (text: string) => {
    watch.cspViolations.push(`event: ${text}`);
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      const report = (window as unknown as { __reportCspViolation: ReportFn }).__reportCspViolation;
      void report(`${event.effectiveDirective} blocked ${event.blockedURI}`);
    });
  });
  return watch;
}

/** Requests whose host is not 127.0.0.1 (data: URLs make no network request and are ignored). */
export function nonLoopbackRequests(watch: PageWatch): string[] {
  return watch.requests.filter((url) => {
    const parsed = new URL(url);
    return parsed.protocol !== 'data:' && parsed.hostname !== '127.0.0.1';
  });
}
