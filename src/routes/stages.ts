/**
 * A route's stages as one Express handler: each stage runs when the one before calls `next()`,
 * as Express would run them, without a router layer per stage. An error (passed to `next`,
 * thrown, or a rejected promise) goes to Express' `next`, so the route's error stage gets it.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export function inSequence(stages: readonly RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, done: NextFunction) => {
    let index = 0;
    const next = (error?: unknown): void => {
      // 'route' and 'router' mean "skip the rest" to Express; no stage of ours says them, but pass them on.
      if (error !== undefined || index === stages.length) return done(error);
      const stage = stages[index++]!;
      try {
        const returned = stage(req, res, next) as unknown;
        if (isThenable(returned)) returned.then(undefined, (rejection: unknown) => done(rejection ?? new Error('a stage rejected without a reason')));
      } catch (thrown) {
        done(thrown);
      }
    };
    next();
  };
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
