/**
 * Reads the storefront's small JSON body. The common request (a plain body with its
 * Content-Length, at most the limit) is read here in a few lines; everything else (chunked,
 * compressed, empty, over the limit, already read by a shop-wide parser) goes to `express.json`,
 * which it would have gone to anyway. Both end the same way: `req.body` set, or `next(error)` with
 * body-parser's error `type` and `status`, which `bodyError` turns into the contract's answers.
 */
import type { Request, RequestHandler } from 'express';

/** body-parser's strict mode: a JSON text must be an object or an array. */
const FIRST_NON_WHITESPACE = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d]|$)/;
const CANONICAL_LENGTH = /^[0-9]{1,10}$/;

/** An error as body-parser makes it: what `bodyError` reads is `type` and `status`. */
const bodyFailure = <E extends Error>(error: E, status: number, type: string): E & { status: number; type: string } => Object.assign(error, { status, type });

/** The announced length when this request can take the short way, else undefined. */
export function plainLength(req: Request, limitBytes: number): number | undefined {
  const { headers } = req;
  if (headers['content-encoding'] !== undefined || headers['transfer-encoding'] !== undefined) return undefined;
  const announced = headers['content-length'];
  if (announced === undefined || !CANONICAL_LENGTH.test(announced)) return undefined;
  const length = Number(announced);
  // Untouched: nobody read or started reading it before us (a shop-wide parser, a logger).
  if (length === 0 || length > limitBytes || req.readableEnded || req.readableFlowing !== null) return undefined;
  return length;
}

/** The body as body-parser's strict JSON parser reads UTF-8: BOM dropped, only an object or array. */
export function parseStrictJson(bytes: Buffer): unknown {
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = FIRST_NON_WHITESPACE.exec(text)?.[1];
  if (first !== '{' && first !== '[') throw bodyFailure(new SyntaxError(`Unexpected token ${first || 'end'} in JSON: expected an object or array`), 400, 'entity.parse.failed');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw bodyFailure(error instanceof SyntaxError ? error : new SyntaxError('malformed JSON'), 400, 'entity.parse.failed');
  }
}

/**
 * `fallback` (express.json with the route's options) for anything but a plain body of a known
 * length within `limitBytes`; that one is read here. `check` sees the bytes before they are parsed
 * (as body-parser's `verify`) and may throw a body-parser-style error.
 */
export function readJsonBody(limitBytes: number, fallback: RequestHandler, check: (req: Request, bytes: Buffer) => void): RequestHandler {
  return (req, res, next) => {
    const length = plainLength(req, limitBytes);
    if (length === undefined) return fallback(req, res, next);
    const chunks: Buffer[] = [];
    let received = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      chunks.push(chunk);
    };
    const onAborted = (): void => {
      stop();
      req.on('error', () => undefined); // the connection is gone; nothing more to hear from it
      next(bodyFailure(new Error('request aborted'), 400, 'request.aborted'));
    };
    const onEnd = (): void => {
      stop();
      if (received !== length) return next(bodyFailure(new Error('request size did not match content length'), 400, 'request.size.invalid'));
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
      try {
        check(req, bytes);
        req.body = parseStrictJson(bytes);
      } catch (error) {
        return next(error);
      }
      next();
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onAborted);
  };
}
