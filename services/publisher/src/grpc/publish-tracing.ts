import type { Logger } from '@herald/logging';
import {
  type Context,
  MessagingAttribute,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceAttribute,
  type TraceHeaders,
  context,
  isValidTraceparent,
  messagingSystem,
  remoteParent,
  serviceTracer,
  trace,
  traceHeadersOf,
} from '@herald/tracing';
import type { OutgoingMessage } from '../domain/outgoing-message';

/**
 * Takes the trace context a message carried in Herald's reserved attributes
 * (set by the SDK, or any client, per message) out of its attributes: it
 * travels on in the record's headers, and counts against no attribute limit.
 * Messages without one (nearly all when tracing is off) are left as they are.
 */
export function takeTraceAttributes(message: OutgoingMessage): OutgoingMessage {
  const attributes = message.attributes;
  if (attributes[TraceAttribute.traceparent] === undefined && attributes[TraceAttribute.tracestate] === undefined) {
    return message;
  }
  const own = { ...attributes };
  delete own[TraceAttribute.traceparent];
  delete own[TraceAttribute.tracestate];
  const given = attributes[TraceAttribute.traceparent];
  // What is not a valid traceparent is ignored, as W3C says, and a tracestate means nothing without one.
  const traceParent = given !== undefined && isValidTraceparent(given) ? given : undefined;
  return {
    ...message,
    attributes: own,
    traceParent,
    traceState: traceParent ? attributes[TraceAttribute.tracestate] : undefined,
  };
}

/** Publishes a batch. */
export type PublishFn = (topic: string, messages: OutgoingMessage[]) => Promise<string[]>;

/**
 * Publishes a batch, traced when tracing is on: one `send <topic>` span
 * (PRODUCER) per message, a child of the context the message carried, else
 * of the one the call carried in its gRPC metadata (how clients without the
 * SDK join), else the root of a new trace. Each record then carries its span's
 * context; the span ends when Kafka acknowledged the record, with its id.
 *
 * With tracing off nothing is made: a record carries the context its client
 * sent, if any, unchanged (W3C pass-through), so that a trace crosses a
 * publisher that does not trace.
 */
export function publishTraced(
  publish: PublishFn,
  topic: string,
  messages: OutgoingMessage[],
  call: { headers: TraceHeaders | undefined; method: 'Publish' | 'PublishStream' },
  logger: Logger,
): Promise<string[]> {
  const tracer = serviceTracer();
  if (!tracer) {
    const headers = call.headers;
    if (headers) {
      for (const message of messages) {
        if (message.traceParent) continue;
        message.traceParent = headers.traceparent;
        message.traceState = headers.tracestate;
      }
    }
    if (!logger.isLevelEnabled('debug')) return publish(topic, messages);
    return publish(topic, messages).then((ids) => {
      logger.debug({ topic, messages: ids.length }, 'published');
      return ids;
    });
  }
  const callParent = call.headers && remoteParent(call.headers.traceparent, call.headers.tracestate);
  const spans: Span[] = messages.map((message) => {
    const parent = remoteParent(message.traceParent, message.traceState) ?? callParent ?? ROOT_CONTEXT;
    const span = tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER }, parent);
    // Attributes only on spans that are kept: checking them is most of what an unsampled span costs.
    if (span.isRecording()) {
      span.setAttributes({
        [MessagingAttribute.system]: messagingSystem,
        [MessagingAttribute.operationName]: 'send',
        [MessagingAttribute.operationType]: 'send',
        [MessagingAttribute.destinationName]: topic,
        [MessagingAttribute.bodySize]: message.data.byteLength,
        [MessagingAttribute.rpcMethod]: call.method,
      });
      if (message.orderingKey) span.setAttribute(MessagingAttribute.orderingKey, message.orderingKey);
    }
    const headers = traceHeadersOf(span.spanContext());
    message.traceParent = headers.traceparent;
    message.traceState = headers.tracestate;
    return span;
  });
  // Log lines written while the call is handled name its trace: the one its metadata named, or its
  // one message's. A batch of messages of many traces names none rather than one of them.
  const active: Context | undefined =
    callParent ?? (spans.length === 1 ? trace.setSpan(ROOT_CONTEXT, spans[0]!) : undefined);
  const run = async (): Promise<string[]> => {
    try {
      const ids = await publish(topic, messages);
      spans.forEach((span, i) => {
        if (span.isRecording()) span.setAttribute(MessagingAttribute.messageId, ids[i]!);
        span.end();
      });
      logger.debug({ topic, messages: ids.length }, 'published');
      return ids;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const span of spans) {
        span.setStatus({ code: SpanStatusCode.ERROR, message });
        span.end();
      }
      throw error;
    }
  };
  return active ? context.with(active, run) : run();
}
