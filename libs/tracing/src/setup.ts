import { DiagLogLevel, type DiagLogger, type Tracer, context, diag, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { type TracingConfig, type TracingOn, readTracingConfig } from './config';

/** The few logger methods tracing uses (a pino logger has them). */
export interface TracingLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/** Options of {@link startTracing}. */
export interface TracingOptions {
  /** The service's name; `service.name` is `herald-<service>` unless `OTEL_SERVICE_NAME` says otherwise. */
  service: string;
  /** `service.instance.id`: the instance name the logs use. */
  instanceId: string;
  logger: TracingLogger;
  /** Where the OTEL_* variables are read. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  /** `service.version`. @defaultValue 0.1.0 */
  version?: string;
}

/** A process's tracing, on or off. */
export interface Tracing {
  readonly config: TracingConfig;
  /** Exports what is still buffered (within the export timeout), then turns tracing off for the process. */
  shutdown(): Promise<void>;
}

let serviceTracerInstance: Tracer | undefined;

/**
 * The tracer of this service while tracing is on, else undefined. Every
 * traced code path asks this first and does nothing more when it is
 * undefined: with tracing off no span object is made and no header written.
 */
export function serviceTracer(): Tracer | undefined {
  return serviceTracerInstance;
}

/** A diagnostic line of the OpenTelemetry SDK at most this often: an unreachable collector fails every export. */
const diagnosticIntervalMillis = 60_000;

/**
 * Sets up OpenTelemetry tracing for this process from the standard OTEL_*
 * variables (see {@link readTracingConfig}): a tracer provider with a batch
 * span processor exporting OTLP over HTTP, the sampler asked for, a resource
 * naming the service and instance, and the AsyncLocalStorage context manager
 * so that the active span follows async work (and log lines can name it).
 * Logs one line saying whether tracing is on and where spans go.
 *
 * @throws Error naming the variables whose values cannot be acted on.
 */
export function startTracing(options: TracingOptions): Tracing {
  const config = readTracingConfig(options.env ?? process.env);
  if (!config.enabled) {
    options.logger.info({ tracing: false, reason: config.reason }, 'tracing off');
    return { config, shutdown: async () => {} };
  }
  if (serviceTracerInstance) throw new Error('tracing is already started in this process');
  const version = options.version ?? '0.1.0';
  const resource = defaultResource()
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: `herald-${options.service}`,
        [ATTR_SERVICE_VERSION]: version,
        'service.namespace': 'herald',
        'service.instance.id': options.instanceId,
        'process.pid': process.pid,
      }),
    )
    // OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME, override what Herald chose.
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(config.serviceName ? resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }) : null);
  const provider = new TracerProvider({
    resource,
    sampler: samplerOf(config),
    spanProcessors: config.exporters.map(
      (name) => new BatchSpanProcessor({ exporter: exporterOf(name, config), ...config.batch }),
    ),
  });
  diag.setLogger(rateLimited(options.logger), DiagLogLevel.WARN);
  const contextManager = new AsyncLocalStorageContextManager();
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
  serviceTracerInstance = provider.getTracer(`@herald/${options.service}`, version);
  options.logger.info(
    {
      tracing: true,
      exporters: config.exporters,
      endpoint: config.exporters.includes('otlp') ? config.otlpTracesUrl : undefined,
      protocol: config.otlpProtocol,
      sampler: config.sampler,
      ratio: config.sampler.endsWith('traceidratio') ? config.samplerRatio : undefined,
      serviceName: resource.attributes[ATTR_SERVICE_NAME],
    },
    'tracing on',
  );
  let stopped: Promise<void> | undefined;
  return {
    config,
    shutdown: () =>
      (stopped ??= provider
        .shutdown()
        .catch((error: unknown) => options.logger.warn({ err: error }, 'spans not exported at stop'))
        .finally(() => {
          serviceTracerInstance = undefined;
          trace.disable();
          context.disable();
          propagation.disable();
          diag.disable();
        })),
  };
}

function samplerOf(config: TracingOn): Sampler {
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(config.samplerRatio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.samplerRatio) });
  }
}

function exporterOf(name: TracingOn['exporters'][number], config: TracingOn): SpanExporter {
  if (name === 'console') return new ConsoleSpanExporter();
  // Headers, timeout, compression and certificates the exporters read from OTEL_EXPORTER_OTLP_* themselves.
  return config.otlpProtocol === 'http/json'
    ? new OtlpJsonTraceExporter({ url: config.otlpTracesUrl })
    : new OtlpProtobufTraceExporter({ url: config.otlpTracesUrl });
}

/** The SDK's diagnostics (failed exports, dropped spans) as warn lines, one a minute at most, with how many were held back. */
function rateLimited(logger: TracingLogger): DiagLogger {
  let lastAt = -Infinity;
  let suppressed = 0;
  const log = (message: string, ...args: unknown[]) => {
    const now = Date.now();
    if (now - lastAt < diagnosticIntervalMillis) {
      suppressed++;
      return;
    }
    lastAt = now;
    const detail = args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' ');
    logger.warn({ suppressed, detail: detail || undefined }, `tracing: ${message}`);
    suppressed = 0;
  };
  return { error: log, warn: log, info: () => {}, debug: () => {}, verbose: () => {} };
}
