/** A message as the publisher accepts it, before it becomes a Kafka record. */
export interface OutgoingMessage {
  data: Uint8Array;
  attributes: Record<string, string>;
  orderingKey: string;
  idempotencyKey: string;
  /**
   * The W3C trace context its record carries (`herald-traceparent` and
   * `herald-tracestate` headers): the publisher's span when tracing is on,
   * else the one the client sent, passed on unchanged.
   */
  traceParent?: string | undefined;
  traceState?: string | undefined;
}
