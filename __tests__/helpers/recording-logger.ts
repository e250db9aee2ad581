import type { Logger } from '../../src/logger';

/** One recorded log call. */
export interface LogLine {
  level: keyof Logger;
  fields: Record<string, unknown>;
  message: string;
}

/** A logger that keeps every line, for assertions. */
export function recordingLogger(): { logger: Logger; lines: LogLine[]; warns: () => LogLine[] } {
  const lines: LogLine[] = [];
  const record =
    (level: keyof Logger) =>
    (fields: Record<string, unknown>, message: string): void => {
      lines.push({ level, fields, message });
    };
  const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  return { logger, lines, warns: () => lines.filter((line) => line.level === 'warn') };
}

/** Every log line as one JSON string each, for "never contains" assertions. */
export function logText(lines: LogLine[]): string {
  return lines.map((line) => JSON.stringify(line)).join('\n');
}
