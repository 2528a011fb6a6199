/**
 * Herald's OpenTelemetry tracing: set up from the standard OTEL_* variables,
 * W3C trace context carried through gRPC metadata, message attributes and
 * Kafka record headers. The services import the OpenTelemetry API through
 * here, so that one version of it is theirs.
 *
 * @packageDocumentation
 */
export * from './config';
export * from './messaging-attributes';
export * from './setup';
export * from './trace-context';
export {
  type Attributes,
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  context,
  trace,
} from '@opentelemetry/api';
