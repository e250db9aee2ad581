/**
 * Per-request state of every route (request id, logger, start time), kept on `res.locals`
 * under one symbol, and the one way a route answers a problem: logged, hooked, rendered.
 */
import type { RequestHandler, Response } from 'express';
import { ResursCheckoutError } from '../errors';
import type { Logger } from '../logger';
import { errorName, silentLogger, withFields } from '../logger';
import type { CheckoutErrorEvent } from '../options/options';
import { beginRoute, endRoute, runInRoute } from '../telemetry/route';
import type { RouteName, RouteTelemetry } from '../telemetry/route';
import { MerchantCodeFailed } from './merchant-code';
import { requestIdFrom } from './request-id';
import { sendProblem } from './respond';

/** Per-request state. */
export interface Exchange {
  requestId: string;
  log: Logger;
  startedAt: number;
  campaign?: string;
  /** The request's Resurs store, once chosen. */
  storeId?: string;
  /** The problem's code, once one was answered (for the request metric). */
  code?: string;
  telemetry: RouteTelemetry;
}

const EXCHANGE = Symbol('express-resurs-checkout');

export function exchangeOf(res: Response): Exchange {
  return (res.locals as Record<symbol, Exchange>)[EXCHANGE]!;
}

export function hasExchange(res: Response): boolean {
  return EXCHANGE in res.locals;
}

/**
 * The first stage of every route: a request id (echoed in `X-Request-Id`), a logger carrying it,
 * and the route's span and request metric, ended when the response closes.
 */
export function createBegin(logger: Logger, route: RouteName, path: string): RequestHandler {
  return (req, res, next) => {
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const log = logger === silentLogger ? silentLogger : withFields(logger, { requestId });
    const exchange: Exchange = { requestId, log, startedAt: Date.now(), telemetry: beginRoute(route, req.method, req.baseUrl + path) };
    (res.locals as Record<symbol, Exchange>)[EXCHANGE] = exchange;
    res.once('close', () =>
      endRoute(exchange.telemetry, {
        status: res.statusCode,
        code: exchange.code,
        finished: res.writableFinished,
        campaign: exchange.campaign,
        storeId: exchange.storeId,
      }),
    );
    res.setHeader('X-Request-Id', requestId); // res.set would look for a charset to add
    next();
  };
}

/** The route's handler, run with its span active (operations' spans nest under it). */
export function inRouteContext(handler: RequestHandler): RequestHandler {
  return (req, res, next) => runInRoute(exchangeOf(res).telemetry, () => handler(req, res, next));
}

/** Answers a problem: one log line (a bug's stack only for our own code), the onError hook, the body. */
export type Fail = (res: Response, error: ResursCheckoutError, cause?: unknown) => void;

export function createFail(onError: ((event: CheckoutErrorEvent) => void) | undefined): Fail {
  return (res, error, cause) => {
    const exchange = exchangeOf(res);
    exchange.code = error.code;
    const fields = { status: error.status, code: error.code, durationMs: Date.now() - exchange.startedAt };
    if (error.code === 'internal_error') {
      // The route passes what it caught; when that is already our 500, what it wraps is the bug.
      const caught = cause ?? error.cause;
      const bug = caught instanceof ResursCheckoutError ? caught.cause : caught;
      if (bug instanceof MerchantCodeFailed) {
        // The merchant's code may carry anything in its message: its name and which hook, nothing else.
        exchange.log.error({ ...fields, hook: bug.hook, ...bug.fields }, bug.message);
      } else {
        exchange.log.error(
          { ...fields, errorName: errorName(bug), stack: bug instanceof Error ? bug.stack : undefined },
          'express-resurs-checkout hit a bug; answered 500 without details.',
        );
      }
    } else {
      (error.status >= 500 ? exchange.log.warn : exchange.log.info)(fields, `Answered ${error.status} ${error.code}.`);
    }
    callHook(exchange.log, 'onError', () => onError?.({ error, campaign: exchange.campaign, storeId: exchange.storeId, requestId: exchange.requestId }));
    sendProblem(res, error, exchange.requestId);
  };
}

/** Runs a merchant's observation hook; a throw is logged by name and never changes the answer. */
export function callHook(log: Logger, name: string, hook: () => void): void {
  try {
    hook();
  } catch (error) {
    log.warn({ hook: name, errorName: errorName(error) }, `The ${name} hook threw; the answer is unaffected.`);
  }
}
