/**
 * The logger seam. Any pino-compatible logger fits (`logger.warn(obj, msg)`).
 * Every line we write carries the request id; nothing we pass here ever holds a token,
 * a client secret or Resurs' raw error body, because we only ever build log objects from
 * fields we chose (status, code, attempt, latency), never from upstream payloads or headers.
 */

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** A pino-compatible logger: `{debug, info, warn, error}`, each called as `(fields, message)`. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const noop: LogFn = () => undefined;

/** The default logger: writes nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A logger whose every line carries the given fields (the request id, for one request). */
export function withFields(logger: Logger, fields: Record<string, unknown>): Logger {
  const bind =
    (fn: LogFn): LogFn =>
    (more, message) =>
      fn.call(logger, { ...fields, ...more }, message);
  return { debug: bind(logger.debug), info: bind(logger.info), warn: bind(logger.warn), error: bind(logger.error) };
}

/** What kind of thing was thrown, for a log line: the error's name, never its message. */
export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * An Error's message, for a log line about our own dependencies (stores, libraries); for anything
 * else thrown only its type, since a thrown value could be anything.
 */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : typeof error;
}
