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
}
