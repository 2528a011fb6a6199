import type { ReceivedMessage } from '@herald/api';
import type { Delivery } from '../domain/delivery-engine';
import type { InboundMessage } from '../domain/inbound-message';

// Domain to proto, and nothing else.

export function deliveryToProto(delivery: Delivery): ReceivedMessage {
  return messageToProto(delivery.message, delivery.ackId, delivery.deliveryAttempt);
}

export function messageToProto(message: InboundMessage, ackId = '', deliveryAttempt = 0): ReceivedMessage {
  return {
    ackId,
    messageId: message.messageId,
    data: message.data,
    attributes: message.attributes,
    orderingKey: message.orderingKey,
    publishTime: new Date(message.publishTimeMillis),
    deliveryAttempt,
    idempotencyKey: message.idempotencyKey,
  };
}
