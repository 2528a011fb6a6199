import { hostname } from 'node:os';
import { trace } from '@opentelemetry/api';
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
 * A line written while an OpenTelemetry span is active (a traced call being
 * handled) also carries its `trace_id` and `span_id`. Payloads are never logged.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, instance: options.instance || defaultInstanceId() },
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: traceFields,
      // pino's own strategy assigns the line's fields into the mixin's object: the shared empty one must stay empty.
      mixinMergeStrategy: (fields, mixed) => (mixed === noFields ? fields : Object.assign(mixed, fields)),
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

const noFields: object = Object.freeze({});

/**
 * The ids of the active span, named as OpenTelemetry's log data model names
 * them. With tracing off no span is ever active and this costs a lookup per
 * line written.
 */
function traceFields(): object {
  const span = trace.getActiveSpan();
  if (!span) return noFields;
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** `<hostname>-<pid>`: unique enough on one machine and readable in logs. */
export function defaultInstanceId(): string {
  return `${hostname()}-${process.pid}`;
}

/** A logger that writes nothing, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
