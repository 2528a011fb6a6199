import { type OutgoingRecord, encodeHeraldRecord } from '@herald/kafka';
import type { OutgoingMessage } from '../domain/outgoing-message';

/** A validated message as the Kafka record Herald's codec makes of it. */
export function toRecord(
  message: OutgoingMessage,
  messageId: string,
  publisherToken: string,
  publishTimeMillis: number,
): OutgoingRecord {
  const data = message.data;
  return encodeHeraldRecord({
    messageId,
    data: Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    attributes: message.attributes,
    orderingKey: message.orderingKey,
    idempotencyKey: message.idempotencyKey,
    publishTimeMillis,
    publisher: publisherToken,
  });
}
