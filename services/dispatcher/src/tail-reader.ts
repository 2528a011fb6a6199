import { NotFoundError } from '@herald/errors';
import type { Filter } from '@herald/filter';
import { type KafkaClient, type KafkaNames, type PartitionOffset, type TopicAdmin, toHeraldError } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { InboundMessage } from './domain/inbound-message';
import type { TailStart } from './domain/tail-start';
import { toInboundMessages } from './kafka/inbound-record';

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
  kafka: KafkaClient;
  admin: TopicAdmin;
  names: KafkaNames;
  logger: Logger;
}

/**
 * An ephemeral read of a topic from given offsets: no consumer group, nothing
 * committed, gone when the caller goes away. Slow callers pause the fetch
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
  let paused = false;
  const reader = deps.kafka.partitionReader({
    topic: kafkaTopic,
    start: starts.map(({ partition, offset }) => ({ partition, offset: Number(offset) })),
    records: (_partition, records) => {
      // A dead letter moved back is a delivery to one subscription, not a message published to the topic.
      const messages = toInboundMessages(records, deps.logger).filter(
        (message) => !message.redrive && filter.matches(message.attributes),
      );
      if (messages.length > 0 && !sink.write(messages) && !paused) {
        paused = true;
        reader.pause();
        void sink.drained().then(() => {
          paused = false;
          reader.resume();
        });
      }
    },
  });
  try {
    await reader.start();
    await sink.closed;
  } catch (error) {
    throw toHeraldError(error, `tailing ${topic}`);
  } finally {
    await reader.stop();
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
