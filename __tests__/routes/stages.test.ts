/** A route's stages run as one handler, the way Express would run them one layer each. */
import express from 'express';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import request from 'supertest';
import { inSequence } from '../../src/routes/stages';

function appWith(stages: RequestHandler[]) {
  const app = express();
  app.post('/x', inSequence(stages));
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ caught: error instanceof Error ? error.message : String(error) });
  });
  return app;
}

const mark =
  (name: string): RequestHandler =>
  (_req, res, next) => {
    res.locals.trail = [...((res.locals.trail as string[] | undefined) ?? []), name];
    next();
  };
const answer: RequestHandler = (_req, res) => void res.json({ trail: res.locals.trail });

describe('inSequence', () => {
  it('runs the stages in order, each after the one before calls next()', async () => {
    const res = await request(appWith([mark('a'), mark('b'), mark('c'), answer])).post('/x');
    expect(res.body).toEqual({ trail: ['a', 'b', 'c'] });
  });

  it('stops where a stage answers without calling next()', async () => {
    const later = jest.fn();
    const res = await request(appWith([mark('a'), (_req, res) => void res.status(403).json({ stopped: true }), later])).post('/x');
    expect([res.status, res.body]).toEqual([403, { stopped: true }]);
    expect(later).not.toHaveBeenCalled();
  });

  it.each<[string, RequestHandler]>([
    ['passed to next', (_req, _res, next) => next(new Error('passed'))],
    ['thrown', () => {
      throw new Error('thrown');
    }],
    ['a rejected promise', async () => {
      await Promise.resolve();
      throw new Error('rejected');
    }],
  ])('hands an error %s to the error stage, and runs no later stage', async (_name, failing) => {
    const later = jest.fn();
    const res = await request(appWith([mark('a'), failing, later])).post('/x');
    expect(res.status).toBe(500);
    expect(['passed', 'thrown', 'rejected']).toContain(res.body.caught);
    expect(later).not.toHaveBeenCalled();
  });

  it('goes on to the next route when every stage called next()', async () => {
    const app = express();
    app.post('/x', inSequence([mark('a'), mark('b')]));
    app.post('/x', answer);
    expect((await request(app).post('/x')).body).toEqual({ trail: ['a', 'b'] });
  });
});
