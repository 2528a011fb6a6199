import { ReservedHeader, reservedHeaderPrefix } from '@herald/kafka';
import type { KafkaMessage } from 'kafkajs';
import type { InboundMessage } from '../domain/inbound-message';

/** A Kafka record as the dispatcher's domain holds it: attributes apart from Herald's own headers. */
export function toInboundMessage(partition: number, record: KafkaMessage): InboundMessage {
  const attributes: Record<string, string> = {};
  let messageId = '';
  let orderingKey = '';
  let idempotencyKey = '';
  let size = record.value?.length ?? 0;
  for (const [name, raw] of Object.entries(record.headers ?? {})) {
    if (raw === undefined) continue;
    const value = Array.isArray(raw) ? String(raw[raw.length - 1]) : raw.toString();
    if (name.startsWith(reservedHeaderPrefix)) {
      if (name === ReservedHeader.messageId) messageId = value;
      else if (name === ReservedHeader.orderingKey) orderingKey = value;
      else if (name === ReservedHeader.idempotencyKey) idempotencyKey = value;
      continue;
    }
    attributes[name] = value;
    size += name.length + value.length;
  }
  return {
    partition,
    offset: Number(record.offset),
    // Records written by something other than Herald's publisher still get a stable id.
    messageId: messageId || `${partition}-${record.offset}`,
    data: record.value ?? Buffer.alloc(0),
    attributes,
    orderingKey,
    idempotencyKey,
    publishTimeMillis: Number(record.timestamp),
    size,
  };
}
