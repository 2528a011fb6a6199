/**
 * Tracing settings from the standard OpenTelemetry variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/),
 * the subset Herald's services act on. Read once at start-up; a value that
 * cannot be acted on stops the service, naming the variable, like Herald's own
 * configuration does.
 */

/** Where spans go once tracing is on. */
export type TracesExporter = 'otlp' | 'console';

/** OTLP over HTTP: protobuf (the specification's default) or JSON. */
export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** A sampler of the specification's list (`OTEL_TRACES_SAMPLER`). */
export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

/** Tracing switched on: what to export, where, and how much. */
export interface TracingOn {
  enabled: true;
  exporters: TracesExporter[];
  /** The full URL spans are POSTed to (`.../v1/traces`). */
  otlpTracesUrl: string;
  otlpProtocol: OtlpProtocol;
  sampler: SamplerName;
  /** The ratio of the `*traceidratio` samplers, 0 to 1. */
  samplerRatio: number;
  /** `OTEL_SERVICE_NAME`, when set: it replaces the service's own name. */
  serviceName: string | undefined;
  batch: {
    scheduledDelayMillis: number;
    exportTimeoutMillis: number;
    maxQueueSize: number;
    maxExportBatchSize: number;
  };
}

/** Tracing off, and why (for the one start-up log line). */
export interface TracingOff {
  enabled: false;
  reason: string;
}

export type TracingConfig = TracingOn | TracingOff;

const samplers: readonly SamplerName[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

/**
 * Reads the tracing settings. Tracing is on when an exporter is asked for
 * (`OTEL_TRACES_EXPORTER=otlp` or `console`) or, with `OTEL_TRACES_EXPORTER`
 * unset, when an OTLP endpoint is set; `OTEL_SDK_DISABLED=true` or
 * `OTEL_TRACES_EXPORTER=none` turn it off whatever else is set. With nothing
 * set it is off: the services then create no span and add no header.
 *
 * @throws Error naming every variable whose value cannot be acted on.
 */
export function readTracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig {
  const value = (name: string): string | undefined => {
    const raw = env[name]?.trim();
    return raw ? raw : undefined;
  };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };

  const problems: string[] = [];
  const tracesEndpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  let exporters: TracesExporter[];
  const exporterList = value('OTEL_TRACES_EXPORTER');
  if (exporterList === undefined) {
    if (tracesEndpoint === undefined && endpoint === undefined) {
      return { enabled: false, reason: 'no OTEL_TRACES_EXPORTER and no OTLP endpoint set' };
    }
    exporters = ['otlp'];
  } else {
    const names = [...new Set(exporterList.split(',').map((name) => name.trim().toLowerCase()))];
    if (names.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
    exporters = [];
    for (const name of names) {
      if (name === 'otlp' || name === 'console') exporters.push(name);
      else problems.push(`OTEL_TRACES_EXPORTER: "${name}" is not one of otlp, console, none`);
    }
  }

  let otlpTracesUrl = 'http://localhost:4318/v1/traces';
  if (tracesEndpoint !== undefined) otlpTracesUrl = tracesEndpoint;
  else if (endpoint !== undefined) otlpTracesUrl = `${endpoint.replace(/\/+$/, '')}/v1/traces`;
  const urlVariable =
    tracesEndpoint !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  if (!/^https?:\/\/[^/]/.test(otlpTracesUrl))
    problems.push(`${urlVariable}: "${otlpTracesUrl}" is not an http(s) URL`);

  const protocolVariable = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = value(protocolVariable) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    problems.push(`${protocolVariable}: "${protocol}" is not supported; use http/protobuf or http/json`);
  }

  const sampler = (value('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase() as SamplerName;
  if (!samplers.includes(sampler))
    problems.push(`OTEL_TRACES_SAMPLER: "${sampler}" is not one of ${samplers.join(', ')}`);
  let samplerRatio = 1;
  const ratioText = value('OTEL_TRACES_SAMPLER_ARG');
  if (ratioText !== undefined && sampler.endsWith('traceidratio')) {
    samplerRatio = Number(ratioText);
    if (!Number.isFinite(samplerRatio) || samplerRatio < 0 || samplerRatio > 1) {
      problems.push(`OTEL_TRACES_SAMPLER_ARG: "${ratioText}" is not a ratio between 0 and 1`);
    }
  }

  const millis = (name: string, fallback: number, least: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    const parsed = Number(text);
    if (!Number.isInteger(parsed) || parsed < least) {
      problems.push(`${name}: "${text}" is not a whole number of at least ${least}`);
      return fallback;
    }
    return parsed;
  };
  const batch = {
    scheduledDelayMillis: millis('OTEL_BSP_SCHEDULE_DELAY', 5000, 0),
    exportTimeoutMillis: millis('OTEL_BSP_EXPORT_TIMEOUT', 30000, 1),
    maxQueueSize: millis('OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1),
    maxExportBatchSize: millis('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1),
  };
  // The batch processor refuses batches larger than its queue; the specification caps them the same way.
  batch.maxExportBatchSize = Math.min(batch.maxExportBatchSize, batch.maxQueueSize);

  if (problems.length > 0) throw new Error(`invalid tracing configuration: ${problems.join('; ')}`);
  return {
    enabled: true,
    exporters,
    otlpTracesUrl,
    otlpProtocol: protocol as OtlpProtocol,
    sampler,
    samplerRatio,
    serviceName: value('OTEL_SERVICE_NAME'),
    batch,
  };
}
