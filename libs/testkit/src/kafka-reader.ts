import { Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { uniqueName } from './names';
import { waitFor } from './wait-for';

/** A record read straight from Kafka, with where it was. */
export interface ReadRecord {
  partition: number;
  offset: string;
  message: KafkaMessage;
}

/**
 * Reads a Kafka topic from offset 0 with a plain kafkajs consumer (no Herald
 * code on the path) until `expected` records arrived, or the time runs out.
 */
export async function readKafkaTopic(
  brokers: string[],
  topic: string,
  expected: number,
  timeoutMillis = 60_000,
): Promise<ReadRecord[]> {
  const kafka = new Kafka({ clientId: 'herald-test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages)
          records.push({ partition: batch.partition, offset: message.offset, message });
      },
    });
    await waitFor(() => records.length >= expected, {
      timeoutMillis,
      description: `${expected} records on ${topic} (have ${records.length})`,
    }).catch(() => undefined);
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** The next offset of every partition of a topic. */
export async function latestOffsets(brokers: string[], topic: string): Promise<Map<number, bigint>> {
  const kafka = new Kafka({ clientId: 'herald-test-offsets', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map(({ partition, high }) => [partition, BigInt(high)]));
  } finally {
    await admin.disconnect();
  }
}
