import { type OutgoingRecord, encodeHeraldRecord } from '@herald/kafka';
import { TraceAttribute } from '@herald/tracing';
import type { OutgoingMessage } from '../domain/outgoing-message';

/** A validated message as the Kafka record Herald's codec makes of it. */
export function toRecord(
  message: OutgoingMessage,
  messageId: string,
  publisherToken: string,
  publishTimeMillis: number,
): OutgoingRecord {
  const data = message.data;
  const record = encodeHeraldRecord({
    messageId,
    data: Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    attributes: message.attributes,
    orderingKey: message.orderingKey,
    idempotencyKey: message.idempotencyKey,
    publishTimeMillis,
    publisher: publisherToken,
    traceContext: message.traceParent,
  });
  // The codec knows traceparent only; tracestate rides beside it under the same reserved prefix.
  if (message.traceState && message.traceParent) record.headers[TraceAttribute.tracestate] = message.traceState;
  return record;
}
