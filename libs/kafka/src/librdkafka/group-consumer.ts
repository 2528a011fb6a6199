import { type Assignment, CODES, KafkaConsumer, type LibrdKafkaError } from '@confluentinc/kafka-javascript';
import type { GroupConsumer, GroupConsumerOptions, OffsetCommit } from '../group-consumer';
import { toHeraldError } from '../kafka-errors';
import { ConsumeLoop, loopConsumerSettings } from './consume-loop';
import { type LibrdkafkaContext, promised } from './librdkafka-client';

/** How long a rebalance waits for the owner to commit what it settled before the partitions go. */
const revokeCommitMillis = 5_000;

/** The parts of ckjs's KafkaConsumer its typings omit. */
interface ConsumerExtras {
  commitCb(offsets: unknown[], done: (error: LibrdKafkaError | null) => void): void;
}

/**
 * A consumer group member on librdkafka (classic protocol, eager
 * rebalancing). Heartbeats run on librdkafka's threads, so a busy event loop
 * does not cost the membership; nothing is committed unless asked.
 */
export class LibrdkafkaGroupConsumer implements GroupConsumer {
  private readonly consumer: KafkaConsumer;
  private readonly loop: ConsumeLoop;
  private stopping = false;

  constructor(
    private readonly context: LibrdkafkaContext,
    private readonly options: GroupConsumerOptions,
  ) {
    const session = options.sessionTimeoutMillis;
    this.consumer = new KafkaConsumer(
      {
        ...context.config,
        'group.id': options.groupId,
        ...loopConsumerSettings(() => this.loop.wakeUp()),
        'session.timeout.ms': session,
        'heartbeat.interval.ms': Math.max(500, Math.floor(session / 5)),
        rebalance_cb: (error: LibrdKafkaError, assignment: Assignment[]) => this.onRebalance(error, assignment),
      },
      // Where a partition with no commit starts; the owner seeks where it wants from there.
      { 'auto.offset.reset': 'earliest' },
    );
    context.watch(this.consumer, `consumer ${options.groupId}`);
    this.loop = new ConsumeLoop(this.consumer, options.topic, context.logger, options.handlers.records);
  }

  async start(): Promise<void> {
    try {
      await promised((done) => this.consumer.connect({ timeout: 10_000 }, (error) => done(error)));
      this.consumer.subscribe([this.options.topic]);
    } catch (error) {
      this.consumer.disconnect();
      throw this.context.connectError(error, `starting the consumer of ${this.options.groupId}`);
    }
    this.loop.start();
  }

  pause(partitions: number[]): void {
    this.consumer.pause(partitions.map((partition) => ({ topic: this.options.topic, partition })));
  }

  resume(partitions: number[]): void {
    this.consumer.resume(partitions.map((partition) => ({ topic: this.options.topic, partition })));
  }

  seek(partition: number, offset: number): void {
    this.loop.seek(partition, offset);
  }

  async commit(offsets: OffsetCommit[]): Promise<void> {
    const topic = this.options.topic;
    const toCommit = offsets.map(({ partition, offset, metadata }) => ({ topic, partition, offset, metadata }));
    try {
      await promised((done) => (this.consumer as unknown as ConsumerExtras).commitCb(toCommit, done));
    } catch (error) {
      throw toHeraldError(error, `committing offsets of ${this.options.groupId}`);
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.options.handlers.revoking().catch(() => undefined);
    await this.loop.stop();
    // Closing leaves the group at once, so the partitions move without waiting for the session timeout.
    await promised((done) => this.consumer.disconnect(done)).catch(() => undefined);
  }

  private onRebalance(error: LibrdKafkaError, assignment: Assignment[]): void {
    const topic = this.options.topic;
    if (error.code === CODES.ERRORS.ERR__ASSIGN_PARTITIONS) {
      this.consumer.assign(assignment);
      this.options.handlers.assigned(assignment.filter((a) => a.topic === topic).map((a) => a.partition));
    } else if (error.code === CODES.ERRORS.ERR__REVOKE_PARTITIONS) {
      const release = (): void => {
        try {
          this.consumer.unassign();
        } catch {
          // closed meanwhile
        }
      };
      if (this.stopping) {
        release(); // stop() committed already
        return;
      }
      // Commit what is settled before the partitions move (librdkafka waits for the unassign).
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, revokeCommitMillis).unref());
      void Promise.race([this.options.handlers.revoking().catch(() => undefined), timeout]).then(release);
    } else {
      this.context.logger.warn({ code: error.code }, `rebalance failed: ${error.message}`);
    }
  }
}
