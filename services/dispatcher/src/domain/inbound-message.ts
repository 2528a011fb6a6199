/**
 * A message as the dispatcher holds it: read from Kafka, headers already split
 * into attributes and Herald's own fields. Offsets are plain numbers here:
 * exact up to 2^53, far beyond any partition's lifetime.
 */
export interface InboundMessage {
  partition: number;
  offset: number;
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  idempotencyKey: string;
  publishTimeMillis: number;
  /** Bytes counted against flow control: data plus attributes. */
  size: number;
  /** The W3C `traceparent` its record carried (`herald-traceparent`), when it was published traced. */
  traceContext?: string;
  /** The W3C `tracestate` beside it, when there was one. */
  traceState?: string;
  /** Set on a record of a dead-letter topic: where it came from (also in its attributes, as delivered). */
  deadLetter?: { subscription: string; attempts: number; messageId: string; publishTimeMillis: number };
  /** Set on a dead letter a redrive moved back: the one subscription it is for, and the dead letter it copies. */
  redrive?: { target: string; source: string };
}

/**
 * The key repeats of a message are recognised by within the dedup window. A
 * redriven copy keeps its original idempotency key for the subscriber to see,
 * but is deduplicated by the dead letter it copies: by the original key it
 * would be dropped as a repeat of the message that failed.
 */
export function dedupKeyOf(message: InboundMessage): string {
  return message.redrive ? `\u0000redrive\u0000${message.redrive.source}` : message.idempotencyKey;
}
