/**
 * Span attribute names of OpenTelemetry's messaging semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/messaging/), spelled out here
 * rather than imported from the conventions' incubating entry point, which
 * loads every attribute of every convention. Herald-specific ones follow the
 * conventions' `messaging.<system>.*` pattern.
 */
export const MessagingAttribute = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destinationName: 'messaging.destination.name',
  subscriptionName: 'messaging.destination.subscription.name',
  partitionId: 'messaging.destination.partition.id',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  batchMessageCount: 'messaging.batch.message_count',
  /** How many times Herald delivered the message on this subscription, this delivery included. */
  deliveryAttempt: 'messaging.herald.message.delivery_attempt',
  orderingKey: 'messaging.herald.message.ordering_key',
  /** The Kafka offset of the message's record. */
  offset: 'messaging.herald.message.offset',
  /** How the subscriber settled a message: `ack`, `nack` or `modack` (deadline 0). */
  settlement: 'messaging.herald.settlement',
  /** The gRPC method a publish came through (`Publish`, `PublishStream`). */
  rpcMethod: 'rpc.method',
} as const;

/** `messaging.system` of every Herald span. */
export const messagingSystem = 'herald';
