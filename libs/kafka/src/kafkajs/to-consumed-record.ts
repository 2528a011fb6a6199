import type { KafkaMessage } from 'kafkajs';
import type { ConsumedRecord } from '../consumed-record';

/**
 * A kafkajs message as Herald's readers hand it over. kafkajs gives a header
 * repeated in one record as an array of its values: the last one counts, as
 * with Kafka's Java client's `lastHeader`.
 */
export function toConsumedRecord(partition: number, message: KafkaMessage): ConsumedRecord {
  const headers: Record<string, Buffer> = {};
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    headers[name] = typeof value === 'string' ? Buffer.from(value) : value;
  }
  return {
    partition,
    offset: Number(message.offset),
    key: message.key,
    value: message.value,
    headers,
    timestampMillis: Number(message.timestamp),
  };
}
