import type { DurableProducer, KafkaClient, KafkaNames, TopicAdmin } from '@herald/kafka';
import { type RedriveState, decodeRedriveState, encodeRedriveState } from './redrive-state';
import { readPartitionRange } from './partition-range';

/** The compacted topic of redrive states, one partition, keyed by {@link redriveStateKey}. */
export function redriveStateTopic(names: KafkaNames): string {
  // Beside `_cursors` and `_dispatchers`: the `_` keeps it out of the Herald topic names.
  return `${names.prefix}_redrives`;
}

/**
 * Redrive states in their compacted Kafka topic. A state is read whole at the
 * start of a call (the topic holds one record per subscription and
 * dead-letter topic once compacted, a few more until then) and written whole
 * after each step, acknowledged by every in-sync replica before the step
 * counts as done.
 */
export class RedriveStore {
  constructor(
    private readonly kafka: KafkaClient,
    private readonly admin: TopicAdmin,
    private readonly producer: DurableProducer,
    private readonly topic: string,
  ) {}

  /** The latest state stored under `key`, or an empty one. */
  async load(key: string): Promise<RedriveState> {
    const [end] = await this.admin.latestOffsets(this.topic);
    const [start] = await this.admin.earliestOffsets(this.topic);
    let value: Buffer | null = null;
    await readPartitionRange(
      this.kafka,
      this.topic,
      0,
      Number(start?.offset ?? 0),
      Number(end?.offset ?? 0),
      async (records) => {
        for (const record of records) if (record.key?.toString() === key) value = record.value;
        return 'more';
      },
    );
    return value === null ? { done: new Map() } : decodeRedriveState(value);
  }

  async save(key: string, state: RedriveState): Promise<void> {
    await this.producer.send(this.topic, 1, [
      { key, value: encodeRedriveState(state), headers: {}, timestamp: Date.now() },
    ]);
  }
}
