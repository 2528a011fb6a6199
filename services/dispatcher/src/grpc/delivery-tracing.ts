import type { ReceivedMessage } from '@herald/api';
import type { Logger } from '@herald/logging';
import {
  type Attributes,
  MessagingAttribute,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type Tracer,
  context,
  messagingSystem,
  remoteParent,
  serviceTracer,
  trace,
  traceHeadersOf,
} from '@herald/tracing';
import type { Delivery } from '../domain/delivery-engine';
import { deliveryToProto, messageToProto } from './proto-mapping';

/**
 * A batch of deliveries as the StreamingPull response carries them. With
 * tracing on, each delivery gets a `deliver <subscription>` span (CONSUMER),
 * a child of the context its record carried (the publisher's span), and is
 * sent under that span's context, so that the subscriber's processing joins
 * the message's trace. Every delivery attempt is a span of its own.
 */
export function deliveriesToProto(batch: Delivery[], subscription: string, logger: Logger): ReceivedMessage[] {
  const tracer = serviceTracer();
  if (!tracer) return batch.map(deliveryToProto);
  return batch.map((delivery) => tracedDelivery(tracer, delivery, subscription, logger));
}

function tracedDelivery(tracer: Tracer, delivery: Delivery, subscription: string, logger: Logger): ReceivedMessage {
  const message = delivery.message;
  const span = startDeliverSpan(tracer, delivery, subscription);
  if (logger.isLevelEnabled('debug')) {
    context.with(trace.setSpan(ROOT_CONTEXT, span), () =>
      logger.debug(
        { subscription, messageId: message.messageId, deliveryAttempt: delivery.deliveryAttempt },
        'delivered',
      ),
    );
  }
  const proto = messageToProto(message, delivery.ackId, delivery.deliveryAttempt, traceHeadersOf(span.spanContext()));
  span.end();
  return proto;
}

/**
 * The `deliver <subscription>` span (CONSUMER) of one delivery attempt, a
 * child of the context its record carried (the publisher's span), whichever
 * way it is delivered (a StreamingPull response, a push request); `attributes`
 * adds what only that way knows.
 */
export function startDeliverSpan(
  tracer: Tracer,
  delivery: Delivery,
  subscription: string,
  attributes: Attributes = {},
): Span {
  const { message } = delivery;
  const span = tracer.startSpan(
    `deliver ${subscription}`,
    { kind: SpanKind.CONSUMER },
    remoteParent(message.traceContext, message.traceState) ?? ROOT_CONTEXT,
  );
  // Attributes only on spans that are kept: checking them is most of what an unsampled span costs.
  if (span.isRecording()) {
    span.setAttributes({
      [MessagingAttribute.system]: messagingSystem,
      [MessagingAttribute.operationName]: 'deliver',
      [MessagingAttribute.operationType]: 'receive',
      [MessagingAttribute.subscriptionName]: subscription,
      [MessagingAttribute.messageId]: message.messageId,
      [MessagingAttribute.deliveryAttempt]: delivery.deliveryAttempt,
      [MessagingAttribute.partitionId]: String(message.partition),
      [MessagingAttribute.offset]: message.offset,
      [MessagingAttribute.bodySize]: message.data.length,
      ...attributes,
    });
    if (message.orderingKey) span.setAttribute(MessagingAttribute.orderingKey, message.orderingKey);
  }
  return span;
}
