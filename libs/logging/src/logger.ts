import { hostname } from 'node:os';
import pino, { type Logger } from 'pino';

export type { Logger };

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The service name, on every line. */
  service: string;
  /** Least severe level written. @defaultValue 'info' */
  level?: string;
  /** The instance name, on every line. @defaultValue `<hostname>-<pid>` */
  instance?: string;
  /** Where lines go. @defaultValue standard output */
  destination?: pino.DestinationStream;
}

/**
 * A JSON-lines logger: one object per line with `level`, `time`, `service`,
 * `instance` and `msg`. Child loggers add context such as `subscription`.
 * Payloads are never logged.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, instance: options.instance || defaultInstanceId() },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** `<hostname>-<pid>`: unique enough on one machine and readable in logs. */
export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

/** A logger that writes nothing, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
