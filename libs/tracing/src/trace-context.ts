import { type Context, ROOT_CONTEXT, type SpanContext, isSpanContextValid, trace } from '@opentelemetry/api';
import { TraceState, parseTraceParent } from '@opentelemetry/core';

/**
 * How Herald carries W3C trace context (https://www.w3.org/TR/trace-context/)
 * with one message: through the API as message attributes of these names,
 * and in Kafka as record headers of the same names. The `herald-` prefix is
 * reserved, so they never collide with an application's attributes; the
 * publisher takes them out of the attributes it stores, and subscribers see
 * them only as the delivery's context. (The TypeScript SDK, which may depend
 * on nothing but `@opentelemetry/api`, spells the same names itself.)
 */
export const TraceAttribute = {
  traceparent: 'herald-traceparent',
  tracestate: 'herald-tracestate',
} as const;

/** The two W3C values as they travel: `traceparent`, and `tracestate` when there is one. */
export interface TraceHeaders {
  traceparent: string;
  tracestate: string | undefined;
}

/** The W3C `traceparent` of a span: version 00, trace id, span id, flags. */
export function formatTraceparent(spanContext: SpanContext): string {
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The values to send on for a span: its `traceparent`, and its `tracestate` when it has one. */
export function traceHeadersOf(spanContext: SpanContext): TraceHeaders {
  const state = spanContext.traceState?.serialize();
  return { traceparent: formatTraceparent(spanContext), tracestate: state ? state : undefined };
}

/**
 * The context whose remote parent a `traceparent` names (with its
 * `tracestate`), for a span to start in. Undefined when it is absent or not
 * a valid W3C value: the specification says to ignore such a header, so the
 * span starts a trace of its own.
 */
export function remoteParent(traceparent: string | undefined, tracestate?: string): Context | undefined {
  if (!traceparent) return undefined;
  const parsed = parseTraceParent(traceparent);
  if (!parsed) return undefined;
  const spanContext: SpanContext = { ...parsed, isRemote: true };
  // All-zero ids match the syntax but are invalid by the specification.
  if (!isSpanContextValid(spanContext)) return undefined;
  if (tracestate) spanContext.traceState = new TraceState(tracestate);
  return trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/** Whether a value is a W3C `traceparent` a span can continue (see {@link remoteParent}). */
export function isValidTraceparent(traceparent: string): boolean {
  const parsed = parseTraceParent(traceparent);
  return parsed !== null && isSpanContextValid(parsed);
}

/** Anything with gRPC's `Metadata.get`: the server call's metadata. */
export interface MetadataLike {
  get(key: string): Array<string | Buffer>;
}

/**
 * The W3C context a gRPC client sent in its call's metadata (`traceparent`,
 * `tracestate`): how clients in any language, without Herald's SDK, join a
 * publish to their trace. Undefined when the call carried none, or one that
 * is not valid (which the specification says to ignore).
 */
export function traceHeadersFromMetadata(metadata: MetadataLike): TraceHeaders | undefined {
  const value = metadata.get('traceparent')[0];
  if (value === undefined) return undefined;
  const traceparent = value.toString();
  if (!isValidTraceparent(traceparent)) return undefined;
  const tracestate = metadata.get('tracestate');
  return {
    traceparent,
    // gRPC may split a header into several values; W3C joins them with commas.
    tracestate: tracestate.length > 0 ? tracestate.map(String).join(',') : undefined,
  };
}
