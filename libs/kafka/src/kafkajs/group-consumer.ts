import { UnavailableError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { GroupConsumer, GroupConsumerOptions, OffsetCommit } from '../group-consumer';
import { isTransientKafkaError, toHeraldError } from '../kafka-errors';
import { toConsumedRecord } from './to-consumed-record';

/**
 * {@link GroupConsumer} on a kafkajs consumer, which retries without limit and
 * fetches partitions of the topic four at a time.
 */
export class KafkajsGroupConsumer implements GroupConsumer {
  private readonly consumer: Consumer;
  private running = false;

  constructor(
    kafka: Kafka,
    private readonly logger: Logger,
    private readonly options: GroupConsumerOptions,
  ) {
    const { sessionTimeoutMillis } = options;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: sessionTimeoutMillis,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeoutMillis / 5)),
      rebalanceTimeout: Math.max(sessionTimeoutMillis * 2, 20_000),
      // A fetch returns as soon as a record arrives; this bounds how late a pause, resume or seek applies.
      maxWaitTimeInMs: 50,
      allowAutoTopicCreation: false,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 3_000 },
    });
  }

  async start(): Promise<void> {
    const { topic, handlers } = this.options;
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, ({ payload }) => handlers.assigned(payload.memberAssignment[topic] ?? []));
    // kafkajs rejoins without waiting for its listeners: the owner's hand-over commit races the
    // rejoin, and Kafka refuses it if it comes too late (the next owner then re-reads a little).
    this.consumer.on(events.REBALANCING, () => {
      handlers
        .revoking()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'hand-over before a rebalance failed'));
    });
    // While Kafka is away kafkajs crashes and restarts its consumers again and again: the connectivity
    // monitor reports the outage once, so crashes from connection failures go to debug.
    this.consumer.on(events.CRASH, ({ payload }) => {
      const fields = { err: payload.error, restart: payload.restart, groupId: this.options.groupId };
      if (isTransientKafkaError(payload.error)) this.logger.debug(fields, 'group consumer crashed');
      else this.logger.warn(fields, 'group consumer crashed');
    });
    try {
      await this.consumer.connect();
      await this.consumer.subscribe({ topic, fromBeginning: true });
      this.running = true;
      await this.consumer.run({
        autoCommit: false,
        // Offsets are resolved only once the owner has taken a batch: one it skipped is fetched again.
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 4,
        eachBatch: (payload) => this.onBatch(payload),
      });
    } catch (error) {
      this.running = false;
      await this.consumer.disconnect().catch(() => undefined);
      throw toHeraldError(error, `starting the consumer of ${this.options.groupId}`);
    }
  }

  // kafkajs throws from pause, resume and seek unless the consumer runs; an owner's late call after
  // stop has nothing left to act on, so these do nothing then.

  pause(partitions: number[]): void {
    if (this.running) this.consumer.pause([{ topic: this.options.topic, partitions }]);
  }

  resume(partitions: number[]): void {
    if (this.running) this.consumer.resume([{ topic: this.options.topic, partitions }]);
  }

  seek(partition: number, offset: number): void {
    if (this.running) this.consumer.seek({ topic: this.options.topic, partition, offset: String(offset) });
  }

  async commit(offsets: OffsetCommit[]): Promise<void> {
    const { topic, groupId } = this.options;
    if (!this.running) throw new UnavailableError(`the consumer of ${groupId} is not running`);
    try {
      await this.consumer.commitOffsets(
        offsets.map(({ partition, offset, metadata }) => ({ topic, partition, offset: String(offset), metadata })),
      );
    } catch (error) {
      throw toHeraldError(error, `committing offsets of ${groupId}`);
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    await this.options.handlers.revoking();
    this.running = false;
    await this.consumer.disconnect().catch(() => undefined);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    const records = batch.messages.map((message) => toConsumedRecord(batch.partition, message));
    await this.options.handlers.records(batch.partition, records);
    resolveOffset(batch.lastOffset());
    await heartbeat();
  }
}
