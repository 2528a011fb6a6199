/** A message as the publisher accepts it, before it becomes a Kafka record. */
export interface OutgoingMessage {
  data: Uint8Array;
  attributes: Record<string, string>;
  orderingKey: string;
  idempotencyKey: string;
}
