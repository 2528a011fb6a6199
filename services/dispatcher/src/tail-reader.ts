import { randomBytes } from 'node:crypto';
import { NotFoundError } from '@herald/errors';
import type { Filter } from '@herald/filter';
import { type KafkaNames, type PartitionOffset, type TopicAdmin, toHeraldError } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { Kafka } from 'kafkajs';
import type { InboundMessage } from './domain/inbound-message';
import { toInboundMessage } from './kafka/inbound-record';

/** Where a tail starts. */
export type TailStart = { kind: 'latest' } | { kind: 'earliest' } | { kind: 'time'; timeMillis: number };

/** Where tailed messages go. */
export interface TailSink {
  /** Sends a batch; false when the caller's buffer is full. */
  write(batch: InboundMessage[]): boolean;
  /** Resolves when the caller can take more, or it went away. */
  drained(): Promise<void>;
  /** Resolves when the caller goes away. */
  closed: Promise<void>;
}

/** What a tail needs from the dispatcher process. */
export interface TailDeps {
  kafka: Kafka;
  admin: TopicAdmin;
  names: KafkaNames;
  logger: Logger;
}

/**
 * An ephemeral read of a topic: a consumer group of its own that commits
 * nothing, removed when the caller goes away. Slow callers pause the fetch
 * instead of growing memory.
 */
export async function tailTopic(
  deps: TailDeps,
  topic: string,
  start: TailStart,
  filter: Filter,
  sink: TailSink,
): Promise<void> {
  const kafkaTopic = deps.names.topic(topic);
  if ((await deps.admin.partitionCount(kafkaTopic)) === undefined) throw new NotFoundError('topic', topic);
  const starts = await startOffsets(deps.admin, kafkaTopic, start);
  const groupId = `${deps.names.prefix}tail.${randomBytes(6).toString('hex')}`;
  const consumer = deps.kafka.consumer({ groupId, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
  const positioned = new Set<number>();
  let paused = false;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: kafkaTopic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale, resolveOffset }) => {
        if (isStale()) return;
        const target = Number(starts.find((s) => s.partition === batch.partition)?.offset ?? 0);
        if (!positioned.has(batch.partition)) {
          positioned.add(batch.partition);
          if (Number(batch.firstOffset() ?? target) !== target) {
            consumer.seek({ topic: kafkaTopic, partition: batch.partition, offset: String(target) });
            return;
          }
        }
        const messages = batch.messages
          .filter((record) => Number(record.offset) >= target)
          .map((record) => toInboundMessage(batch.partition, record))
          .filter((message) => filter.matches(message.attributes));
        resolveOffset(batch.lastOffset());
        if (messages.length > 0 && !sink.write(messages) && !paused) {
          paused = true;
          consumer.pause([{ topic: kafkaTopic }]);
          void sink.drained().then(() => {
            paused = false;
            consumer.resume([{ topic: kafkaTopic }]);
          });
        }
      },
    });
    await sink.closed;
  } catch (error) {
    throw toHeraldError(error, `tailing ${topic}`);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await deps.admin.deleteGroup(groupId);
  }
}

async function startOffsets(admin: TopicAdmin, kafkaTopic: string, start: TailStart): Promise<PartitionOffset[]> {
  switch (start.kind) {
    case 'latest':
      return admin.latestOffsets(kafkaTopic);
    case 'earliest':
      return admin.earliestOffsets(kafkaTopic);
    case 'time':
      return admin.offsetsForTime(kafkaTopic, start.timeMillis);
  }
}
