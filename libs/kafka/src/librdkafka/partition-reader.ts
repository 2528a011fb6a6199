import { randomBytes } from 'node:crypto';
import { KafkaConsumer } from '@confluentinc/kafka-javascript';
import type { PartitionReader, PartitionReaderOptions } from '../partition-reader';
import { ConsumeLoop, loopConsumerSettings } from './consume-loop';
import { type LibrdkafkaContext, promised } from './librdkafka-client';

/**
 * Reads partitions by manual assignment: no group is joined and nothing is
 * committed (librdkafka needs a group id in its configuration, but only
 * `subscribe` and commits ever use it).
 */
export class LibrdkafkaPartitionReader implements PartitionReader {
  private readonly consumer: KafkaConsumer;
  private readonly loop: ConsumeLoop;
  private started = false;

  constructor(
    private readonly context: LibrdkafkaContext,
    private readonly options: PartitionReaderOptions,
  ) {
    this.consumer = new KafkaConsumer(
      {
        ...context.config,
        'group.id': `herald-reader-${randomBytes(6).toString('hex')}`,
        ...loopConsumerSettings(() => this.loop.wakeUp()),
        'isolation.level': options.readCommitted ? 'read_committed' : 'read_uncommitted',
        // The end of a partition is reported with its offset: how a reader knows it has read past
        // transaction markers, which are never delivered.
        'enable.partition.eof': options.caughtUp !== undefined,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    context.watch(this.consumer, `reader ${options.topic}`);
    if (options.caughtUp) {
      const caughtUp = options.caughtUp;
      this.consumer.on('partition.eof', (eof: { topic: string; partition: number; offset: number }) => {
        if (eof.topic === options.topic) caughtUp(eof.partition, eof.offset);
      });
    }
    this.loop = new ConsumeLoop(this.consumer, options.topic, context.logger, options.records);
  }

  async start(): Promise<void> {
    try {
      await promised((done) => this.consumer.connect({ timeout: 10_000 }, (error) => done(error)));
      this.consumer.assign(
        this.options.start.map(({ partition, offset }) => ({ topic: this.options.topic, partition, offset })),
      );
    } catch (error) {
      this.consumer.disconnect();
      throw this.context.connectError(error, `reading ${this.options.topic}`);
    }
    this.started = true;
    this.loop.start();
  }

  pause(partitions?: number[]): void {
    if (this.started) this.consumer.pause(this.assigned(partitions));
  }

  resume(partitions?: number[]): void {
    if (this.started) this.consumer.resume(this.assigned(partitions));
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.loop.stop();
    await promised((done) => this.consumer.disconnect(done)).catch(() => undefined);
  }

  private assigned(only?: number[]): Array<{ topic: string; partition: number }> {
    const partitions = only ?? this.options.start.map(({ partition }) => partition);
    return partitions.map((partition) => ({ topic: this.options.topic, partition }));
  }
}
