import { randomBytes } from 'node:crypto';
import { UnavailableError } from '@herald/errors';
import { type KafkaNames, type TopicAdmin, toHeraldError } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { decodeEvent, encodeEvent, type LogRecord } from '../domain/registry-events';

/** One record as read back, with where and when it was written. */
export interface ReadRecord {
  record: LogRecord;
  offset: string;
  timeMillis: number;
  /** The id the writer gave the command that wrote it. */
  commandId: string | undefined;
}

/** Options of {@link RegistryLog}. */
export interface RegistryLogOptions {
  kafka: Kafka;
  admin: TopicAdmin;
  names: KafkaNames;
  logger: Logger;
  instanceId: string;
  /** Replication factor of the log topic; 0 means min(3, brokers). */
  replicationFactor: number;
}

const commandIdHeader = 'herald-command-id';

/**
 * The registry's event log: one compacted, single-partition topic, read from
 * the start by every instance, written only inside Kafka transactions.
 *
 * All instances write with the same transactional id. Starting a producer with
 * that id fences every other instance's producer and aborts its open
 * transaction, so between a producer's start and its commit nobody else can
 * commit. A writer that catches up with the log after its producer started and
 * then commits successfully therefore validated against the latest state:
 * writes are linearized and the first create of a name wins.
 */
export class RegistryLog {
  private readonly topic: string;
  private readonly consumer: Consumer;
  private producer: Producer | undefined;
  /** Next offset the consumer will read. */
  private position = 0n;
  private readonly positionWaiters: Array<{ offset: bigint; resolve: () => void }> = [];
  private running = false;

  constructor(private readonly options: RegistryLogOptions) {
    this.topic = options.names.registryLog();
    // A group of its own, never committed: each instance reads the whole log, from the start, every time.
    this.consumer = options.kafka.consumer({
      groupId: `${options.names.prefix}registry-reader.${options.instanceId}.${randomBytes(4).toString('hex')}`,
      readUncommitted: false,
      sessionTimeout: 30_000,
      // A fetch returns as soon as a record arrives; this only bounds how often an idle log is polled.
      maxWaitTimeInMs: 500,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
  }

  get logTopic(): string {
    return this.topic;
  }

  /**
   * Creates the log topic if needed, starts reading it from the beginning and
   * resolves once everything written before the call has been passed to `apply`.
   */
  async start(apply: (record: ReadRecord) => void): Promise<void> {
    const replicationFactor = await this.options.admin.effectiveReplicationFactor(this.options.replicationFactor);
    await this.options.admin.createTopic({
      name: this.topic,
      partitions: 1,
      replicationFactor,
      configs: {
        'cleanup.policy': 'compact',
        'min.insync.replicas': String(replicationFactor >= 3 ? 2 : 1),
        // Compaction only rewrites closed segments: roll them often enough that replay stays short.
        'segment.ms': String(6 * 3600_000),
        'min.cleanable.dirty.ratio': '0.1',
        'unclean.leader.election.enable': 'false',
      },
    });
    const { events } = this.consumer;
    this.consumer.on(events.END_BATCH_PROCESS, ({ payload }) => {
      // Includes batches of only transaction markers, which never reach eachBatch.
      this.advance(BigInt(payload.lastOffset) + 1n);
    });
    this.consumer.on(events.CRASH, ({ payload }) => {
      this.options.logger.error({ err: payload.error }, 'registry log reader crashed; kafkajs restarts it');
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    this.running = true;
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          const header = message.headers?.[commandIdHeader];
          apply({
            record: { key: message.key?.toString('utf8') ?? '', event: decodeEvent(message.value) },
            offset: message.offset,
            timeMillis: Number(message.timestamp),
            commandId: header === undefined ? undefined : header.toString(),
          });
          this.advance(BigInt(message.offset) + 1n);
        }
      },
    });
    await this.catchUp(120_000);
  }

  /** Resolves once every record committed before the call has been applied. */
  async catchUp(timeoutMillis = 10_000): Promise<void> {
    const [end] = await this.options.admin.latestOffsets(this.topic);
    await this.waitApplied(BigInt(end?.offset ?? '0') - 1n, timeoutMillis);
  }

  /** Resolves once the record at `offset` (and everything before it) has been applied. */
  waitApplied(offset: bigint, timeoutMillis = 10_000): Promise<void> {
    if (this.position > offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = { offset, resolve: () => (clearTimeout(timer), resolve()) };
      const timer = setTimeout(() => {
        const index = this.positionWaiters.indexOf(waiter);
        if (index >= 0) this.positionWaiters.splice(index, 1);
        reject(new UnavailableError(`registry log not read up to offset ${offset} within ${timeoutMillis} ms`));
      }, timeoutMillis);
      this.positionWaiters.push(waiter);
    });
  }

  /**
   * Makes this instance the log's only writer (fencing any other) and waits
   * until everything committed before that is applied. Call before validating
   * a command; then {@link RegistryLog.commit} succeeds only if nobody else
   * wrote in between.
   */
  async acquireWriter(): Promise<void> {
    if (!this.producer) {
      const producer = this.options.kafka.producer({
        transactionalId: `${this.options.names.prefix}registry-writer`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 30_000,
        allowAutoTopicCreation: false,
        retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
      });
      try {
        await producer.connect();
        // kafkajs sends the transactional InitProducerId (the call that fences the other instances) only
        // when the first transaction begins. It must happen before catching up, so begin one here.
        const fence = await producer.transaction();
        await fence.abort();
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw toHeraldError(error, 'starting the registry writer');
      }
      this.producer = producer;
    }
    await this.catchUp();
  }

  /**
   * Writes records in one transaction, tagged with `commandId`. Resolves with
   * the offset of the last one. On any failure the writer is dropped, so that
   * the next {@link RegistryLog.acquireWriter} starts a fresh one (fencing
   * whoever fenced us) and catches up: the caller then finds out whether the
   * records made it (by `commandId`) before trying again.
   */
  async commit(records: LogRecord[], commandId: string): Promise<bigint> {
    const producer = this.producer;
    if (!producer) throw new UnavailableError('registry writer not acquired');
    try {
      const transaction = await producer.transaction();
      try {
        const written = await transaction.send({
          topic: this.topic,
          acks: -1,
          messages: records.map((record) => ({
            key: record.key,
            value: record.event ? encodeEvent(record.event) : null,
            headers: { [commandIdHeader]: commandId },
          })),
        });
        await transaction.commit();
        const base = BigInt(written[0]?.baseOffset ?? '-1');
        return base + BigInt(records.length - 1);
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
    } catch (error) {
      this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      // Fenced by another instance, or Kafka trouble: either way the writer retries from acquireWriter.
      throw new UnavailableError(`registry log write failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async stop(): Promise<void> {
    if (this.running) await this.consumer.disconnect().catch(() => undefined);
    this.running = false;
    await this.producer?.disconnect().catch(() => undefined);
    this.producer = undefined;
  }

  private advance(next: bigint): void {
    if (next <= this.position) return;
    this.position = next;
    for (let i = this.positionWaiters.length - 1; i >= 0; i--) {
      const waiter = this.positionWaiters[i]!;
      if (this.position > waiter.offset) {
        this.positionWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
