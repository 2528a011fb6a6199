import type { ReceivedMessage } from '@herald/api';
import { TraceAttribute, type TraceHeaders } from '@herald/tracing';
import type { Delivery } from '../domain/delivery-engine';
import type { InboundMessage } from '../domain/inbound-message';

// Domain to proto, and nothing else.

export function deliveryToProto(delivery: Delivery): ReceivedMessage {
  return messageToProto(delivery.message, delivery.ackId, delivery.deliveryAttempt);
}

/**
 * `trace` is the W3C context to deliver the message under: the delivery's span
 * when the dispatcher traces, else the one its record carried, passed on as
 * it is. It travels in Herald's reserved attributes (`herald-traceparent`,
 * `herald-tracestate`), which the SDK takes back out.
 */
export function messageToProto(
  message: InboundMessage,
  ackId = '',
  deliveryAttempt = 0,
  trace: TraceHeaders | undefined = message.traceContext
    ? { traceparent: message.traceContext, tracestate: message.traceState }
    : undefined,
): ReceivedMessage {
  return {
    ackId,
    messageId: message.messageId,
    data: message.data,
    attributes: trace ? withTraceAttributes(message.attributes, trace) : message.attributes,
    orderingKey: message.orderingKey,
    publishTime: new Date(message.publishTimeMillis),
    deliveryAttempt,
    idempotencyKey: message.idempotencyKey,
  };
}

function withTraceAttributes(attributes: Record<string, string>, trace: TraceHeaders): Record<string, string> {
  const carrying: Record<string, string> = { ...attributes, [TraceAttribute.traceparent]: trace.traceparent };
  if (trace.tracestate) carrying[TraceAttribute.tracestate] = trace.tracestate;
  return carrying;
}
