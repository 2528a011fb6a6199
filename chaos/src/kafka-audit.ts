import { randomBytes } from 'node:crypto';
import { retry } from '@herald/retry';
import { Kafka, logLevel } from 'kafkajs';
import { ChaosAttribute } from './history';

/** One record of a Herald topic as Kafka holds it. */
export interface AuditRecord {
  /** The Kafka topic. */
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  /** The chaos id from the record's headers, if it is a chaos message. */
  chaosId: string | undefined;
  messageId: string | undefined;
}

/** Every record of every Herald topic of one prefix, read from offset 0. */
export interface KafkaAudit {
  /** Kafka topics read (the registry's log excluded). */
  topics: string[];
  records: number;
  /** Records by chaos id, in (partition, offset) order of first sight. */
  byId: Map<string, AuditRecord[]>;
}

/**
 * Reads every Herald topic of a prefix straight from Kafka with a plain
 * kafkajs consumer, from offset 0 up to the high watermark each partition
 * had when the audit began. No Herald code is on this path.
 */
export async function auditKafka(
  brokers: string[],
  prefix: string,
  timeoutMillis = 120_000,
  topicFilter: (kafkaTopic: string) => boolean = () => true,
): Promise<KafkaAudit> {
  const kafka = new Kafka({
    clientId: 'herald-chaos-audit',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 10 },
  });
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map<string, number>();
  let topics: string[];
  try {
    topics = (await retried(() => admin.listTopics()))
      .filter((topic) => topic.startsWith(prefix) && !topic.slice(prefix.length).startsWith('_'))
      .filter(topicFilter)
      .sort();
    for (const topic of topics) {
      for (const { partition, high, low } of await retried(() => admin.fetchTopicOffsets(topic))) {
        if (Number(high) > Number(low)) ends.set(`${topic}/${partition}`, Number(high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const byId = new Map<string, AuditRecord[]>();
  let records = 0;
  if (ends.size === 0) return { topics, records, byId };
  const remaining = new Set(ends.keys());
  const consumer = kafka.consumer({
    groupId: `herald-chaos-audit-${randomBytes(4).toString('hex')}`,
    maxWaitTimeInMs: 100,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const where = `${batch.topic}/${batch.partition}`;
        const end = ends.get(where);
        for (const message of batch.messages) {
          const offset = Number(message.offset);
          if (end === undefined || offset >= end) continue;
          records++;
          const chaosId = header(message.headers, ChaosAttribute.id);
          if (chaosId === undefined) continue;
          const record: AuditRecord = {
            topic: batch.topic,
            partition: batch.partition,
            offset,
            key: message.key?.toString() ?? null,
            chaosId,
            messageId: header(message.headers, 'herald-message-id'),
          };
          const list = byId.get(chaosId);
          if (list) list.push(record);
          else byId.set(chaosId, [record]);
        }
        if (end !== undefined && Number(batch.lastOffset()) >= end - 1) {
          remaining.delete(where);
          if (remaining.size === 0) done();
        }
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Kafka audit incomplete after ${timeoutMillis} ms: ${[...remaining].join(', ')}`)),
        timeoutMillis,
      );
    });
    try {
      await Promise.race([finished, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
  return { topics, records, byId };
}

/** Admin calls right after a broker restart may meet a broker that does not know a topic yet: try again. */
function retried<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  return retry(call, { maxAttempts: attempts, initialMillis: 500, multiplier: 1, jitter: 'none' });
}

function header(headers: Record<string, unknown> | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  if (raw === undefined || raw === null) return undefined;
  const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
  return (value as Buffer | string).toString();
}
