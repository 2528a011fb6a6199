import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  context,
  createTraceState,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';

// The SDK traces through `@opentelemetry/api` alone, as libraries should: nothing
// happens unless the application registered an OpenTelemetry SDK (a tracer provider).
// Herald's own tracing library (@herald/tracing) spells the same wire names and
// formats for the services; the SDK may not depend on it.

/**
 * Message attributes that carry a message's W3C trace context through Herald
 * (the `herald-` prefix is reserved: no application attribute has it). The
 * SDK sets them on publish and takes them off what it delivers.
 */
export const TraceAttribute = {
  traceparent: 'herald-traceparent',
  tracestate: 'herald-tracestate',
} as const;

/** The W3C context a message carried, as Herald delivered it. */
export interface MessageTraceContext {
  /** The W3C `traceparent` of the delivery: the dispatcher's span, or the publisher's when it does not trace. */
  traceparent: string;
  /** The W3C `tracestate`, when there was one. */
  tracestate?: string;
}

const tracerName = '@herald/client';
const tracerVersion = '0.1.0';

/**
 * The application's tracer, or undefined while no OpenTelemetry SDK is
 * registered: then the SDK makes no span and adds no attribute. The global
 * provider is a proxy that hands out no-op tracers until an SDK registers;
 * asking it for its delegate tells the two apart without making a span.
 */
export function activeTracer(): Tracer | undefined {
  const provider = trace.getTracerProvider() as ReturnType<typeof trace.getTracerProvider> & {
    getDelegateTracer?: (name: string, version?: string) => Tracer | undefined;
  };
  if (typeof provider.getDelegateTracer === 'function') return provider.getDelegateTracer(tracerName, tracerVersion);
  return provider.getTracer(tracerName, tracerVersion);
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** A W3C `traceparent` (and `tracestate`) as a remote span context; undefined when it is not a valid one. */
export function parseTraceContext(traceparent: string, tracestate?: string): SpanContext | undefined {
  const match = traceparentPattern.exec(traceparent.trim());
  // Version ff is forbidden; version 00 has exactly four fields.
  if (!match || match[1] === 'ff' || (match[1] === '00' && match[5] !== undefined)) return undefined;
  const spanContext: SpanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: parseInt(match[4]!, 16),
    isRemote: true,
  };
  if (!isSpanContextValid(spanContext)) return undefined;
  if (tracestate) spanContext.traceState = createTraceState(tracestate);
  return spanContext;
}

/** The message attributes that carry a span's context on to the publisher. */
export function traceAttributesOf(spanContext: SpanContext): Record<string, string> {
  if (!isSpanContextValid(spanContext)) return {};
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const attributes: Record<string, string> = {
    [TraceAttribute.traceparent]: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
  };
  const state = spanContext.traceState?.serialize();
  if (state) attributes[TraceAttribute.tracestate] = state;
  return attributes;
}

/**
 * Splits what Herald delivered into the application's attributes and the
 * trace context Herald carried in its reserved ones. The attributes object
 * is returned as it is when it holds no trace context (the common case).
 */
export function splitTraceAttributes(attributes: Record<string, string>): {
  attributes: Record<string, string>;
  trace: MessageTraceContext | undefined;
} {
  const traceparent = attributes[TraceAttribute.traceparent];
  const tracestate = attributes[TraceAttribute.tracestate];
  if (traceparent === undefined && tracestate === undefined) return { attributes, trace: undefined };
  const own = { ...attributes };
  delete own[TraceAttribute.traceparent];
  delete own[TraceAttribute.tracestate];
  if (traceparent === undefined) return { attributes: own, trace: undefined };
  return { attributes: own, trace: tracestate ? { traceparent, tracestate } : { traceparent } };
}

/** The messaging semantic conventions' attribute names the SDK's spans carry. */
const Attr = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  subscription: 'messaging.destination.subscription.name',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  orderingKey: 'messaging.herald.message.ordering_key',
  deliveryAttempt: 'messaging.herald.message.delivery_attempt',
  settlement: 'messaging.herald.settlement',
} as const;

/**
 * Starts the span of one message's publish, `publish <topic>` (PRODUCER),
 * a child of the caller's active span. It ends when the publisher answered.
 */
export function startPublishSpan(tracer: Tracer, topic: string, bodySize: number, orderingKey: string): Span {
  const span = tracer.startSpan(`publish ${topic}`, { kind: SpanKind.PRODUCER });
  // Attributes only on spans the sampler keeps: checking them is most of what an unsampled span costs.
  if (span.isRecording()) {
    span.setAttributes({
      [Attr.system]: 'herald',
      [Attr.operationName]: 'publish',
      [Attr.operationType]: 'send',
      [Attr.destination]: topic,
      [Attr.bodySize]: bodySize,
    });
    if (orderingKey) span.setAttribute(Attr.orderingKey, orderingKey);
  }
  return span;
}

/** Ends a publish span with the message's id, or with the error that failed it. */
export function endPublishSpan<T extends string>(span: Span, published: Promise<T>): Promise<T> {
  return published.then(
    (id) => {
      span.setAttribute(Attr.messageId, id);
      span.end();
      return id;
    },
    (error: unknown) => {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      span.end();
      throw error;
    },
  );
}

/** What the subscriber needs of a message to trace its processing. */
export interface TracedDelivery {
  readonly id: string;
  readonly deliveryAttempt: number;
  readonly traceContext: MessageTraceContext | undefined;
}

/**
 * Starts the span of a message's processing, `process <subscription>`
 * (CONSUMER), a child of the delivery Herald carried in the message, or of
 * the subscriber's active context when it carried none. It ends when the
 * application settles the message. Returns the context to run its handler in.
 */
export function startProcessSpan(
  tracer: Tracer,
  subscription: string,
  message: TracedDelivery,
): { span: Span; context: Context } {
  const carried =
    message.traceContext && parseTraceContext(message.traceContext.traceparent, message.traceContext.tracestate);
  const parent = carried ? trace.setSpanContext(ROOT_CONTEXT, carried) : context.active();
  const span = tracer.startSpan(`process ${subscription}`, { kind: SpanKind.CONSUMER }, parent);
  if (span.isRecording()) {
    span.setAttributes({
      [Attr.system]: 'herald',
      [Attr.operationName]: 'process',
      [Attr.operationType]: 'process',
      [Attr.subscription]: subscription,
      [Attr.messageId]: message.id,
      [Attr.deliveryAttempt]: message.deliveryAttempt,
    });
  }
  return { span, context: trace.setSpan(parent, span) };
}

/** Ends a process span, saying how the message was settled. */
export function endProcessSpan(span: Span, settlement: 'ack' | 'nack' | 'modack'): void {
  span.setAttribute(Attr.settlement, settlement);
  span.end();
}
