/**
 * The pino logger: JSON lines by default, pretty only when asked
 * (`LOG_FORMAT=pretty`). Authorization headers, cookies and anything
 * named like a secret are redacted wherever they appear.
 */
import { type Logger, pino } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Written to instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
}

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.env',
  '*.password',
  '*.token',
  '*.apiKey',
];

/** Creates the server's logger. */
export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACT, censor: '***' },
    base: { service: 'orchestrator-mcp' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.format === 'pretty') {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } },
    });
  }
  return options.destination ? pino(base, options.destination) : pino(base);
}
