import type { Logger } from '@herald/logging';
import type { Consumer, ConsumerEndBatchProcessEvent, EachBatchPayload, Kafka } from 'kafkajs';
import { isTransientKafkaError, toHeraldError } from '../kafka-errors';
import type { PartitionReader, PartitionReaderOptions } from '../partition-reader';
import { toConsumedRecord } from './to-consumed-record';

/**
 * {@link PartitionReader} on kafkajs, which cannot assign partitions by hand:
 * the reader is the only member of a consumer group of its own (`groupId`,
 * never committed, deleted on stop), subscribed to the whole topic. Partitions
 * not named in `start` are paused at their first batch; the others seek to
 * their start offset at theirs.
 */
export class KafkajsPartitionReader implements PartitionReader {
  private readonly consumer: Consumer;
  /** Per partition read, the next offset to hand over: its start offset at first. */
  private readonly positions: Map<number, number>;
  private readonly paused = new Set<number>();
  private running = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly groupId: string,
    private readonly options: PartitionReaderOptions,
  ) {
    this.positions = new Map(options.start.map(({ partition, offset }) => [partition, offset]));
    this.consumer = kafka.consumer({
      groupId,
      readUncommitted: !options.readCommitted,
      // A fetch returns as soon as a record arrives; this bounds how late a pause, resume or seek applies.
      maxWaitTimeInMs: 50,
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
  }

  async start(): Promise<void> {
    const { events } = this.consumer;
    this.consumer.on(events.END_BATCH_PROCESS, (event) => this.onBatchEnd(event));
    // While Kafka is away kafkajs crashes and restarts its consumers again and again: the connectivity
    // monitor reports the outage once, so crashes from connection failures go to debug.
    this.consumer.on(events.CRASH, ({ payload }) => {
      const fields = { err: payload.error, restart: payload.restart, topic: this.options.topic };
      if (isTransientKafkaError(payload.error)) this.logger.debug(fields, 'partition reader crashed');
      else this.logger.warn(fields, 'partition reader crashed');
    });
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
      this.running = true;
      await this.consumer.run({
        autoCommit: false,
        // Offsets are resolved only once a batch was taken: a skipped one is fetched again.
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (error) {
      this.running = false;
      await this.consumer.disconnect().catch(() => undefined);
      throw toHeraldError(error, `starting a reader of ${this.options.topic}`);
    }
  }

  pause(partitions: number[] = [...this.positions.keys()]): void {
    for (const partition of partitions) this.paused.add(partition);
    if (this.running) this.consumer.pause([{ topic: this.options.topic, partitions }]);
  }

  resume(partitions: number[] = [...this.positions.keys()]): void {
    for (const partition of partitions) this.paused.delete(partition);
    if (this.running) this.consumer.resume([{ topic: this.options.topic, partitions }]);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.consumer.disconnect().catch(() => undefined);
    await this.deleteGroup();
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    const { topic } = this.options;
    const partition = batch.partition;
    const position = this.positions.get(partition);
    // kafkajs forgets pauses when it restarts a crashed consumer: batches apply them again. A batch
    // not taken is not resolved, so it is fetched again after a resume.
    if (position === undefined || this.paused.has(partition)) {
      this.consumer.pause([{ topic, partitions: [partition] }]);
      return;
    }
    // The group starts at the earliest offset, and again after kafkajs restarts a crashed consumer
    // (nothing is committed): seek past what was read rather than read it again. Once the seek
    // applies, fetches begin at the position, so this cannot repeat.
    if (Number(batch.firstOffset() ?? batch.lastOffset()) < position) {
      this.consumer.seek({ topic, partition, offset: String(position) });
      return;
    }
    const records = batch.messages.map((message) => toConsumedRecord(partition, message));
    await this.options.records(partition, records);
    this.positions.set(partition, Number(batch.lastOffset()) + 1);
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }

  /**
   * `caughtUp` comes from kafkajs's end-of-batch event, the one place that
   * also sees batches of only transaction markers (or aborted records): kafkajs
   * drops those before `eachBatch`, and moves past them itself. A batch with
   * records counts only once `onBatch` handed it over.
   *
   * A read_committed fetch stops at the last stable offset, which kafkajs does
   * not expose: such a reader hears of its position after every batch. Others
   * hear of it once a batch reaches the high watermark.
   */
  private onBatchEnd({ payload }: ConsumerEndBatchProcessEvent): void {
    const { partition, lastOffset, batchSize, highWatermark } = payload;
    const position = this.positions.get(partition);
    const next = Number(lastOffset) + 1;
    if (position === undefined) return;
    if (batchSize === 0) {
      if (next < position) return; // markers from before the start
      this.positions.set(partition, next);
    } else if (next !== position) {
      return; // a batch skipped (paused, stale, or before the position)
    }
    if (!this.options.readCommitted && next < Number(highWatermark)) return;
    this.options.caughtUp?.(partition, next);
  }

  /** Removes the throwaway group now rather than leaving it for Kafka to expire. */
  private async deleteGroup(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch (error) {
      this.logger.debug({ err: error, groupId: this.groupId }, 'reader group not deleted');
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
