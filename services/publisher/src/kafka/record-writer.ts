import { type OutgoingRecord, ReservedHeader } from '@herald/kafka';
import type { OutgoingMessage } from '../domain/outgoing-message';

/**
 * A Herald message as a Kafka record: key = ordering key (else idempotency key,
 * so that retries land on the same partition and the partition's owner can
 * deduplicate), attributes as headers beside the reserved `herald-*` ones,
 * timestamp = publish time.
 */
export function toRecord(
  message: OutgoingMessage,
  messageId: string,
  publisherToken: string,
  publishTimeMillis: number,
): OutgoingRecord {
  const headers: Record<string, string | Buffer> = { ...message.attributes };
  headers[ReservedHeader.messageId] = messageId;
  headers[ReservedHeader.publisher] = publisherToken;
  if (message.orderingKey) headers[ReservedHeader.orderingKey] = message.orderingKey;
  if (message.idempotencyKey) headers[ReservedHeader.idempotencyKey] = message.idempotencyKey;
  const data = message.data;
  return {
    key: message.orderingKey || message.idempotencyKey || null,
    value: Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    headers,
    timestamp: publishTimeMillis,
  };
}
