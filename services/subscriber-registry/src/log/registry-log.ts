import { UnavailableError } from '@herald/errors';
import type {
  ConsumedRecord,
  KafkaClient,
  KafkaNames,
  PartitionReader,
  TopicAdmin,
  TransactionalWriter,
} from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { decodeEvent, encodeEvent, type LogRecord, type RegistryEvent } from '../domain/registry-events';

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
  kafka: KafkaClient;
  admin: TopicAdmin;
  names: KafkaNames;
  logger: Logger;
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
  private reader: PartitionReader | undefined;
  private writer: TransactionalWriter | undefined;
  /** Next offset the consumer will read. */
  private position = 0n;
  /**
   * Offsets of the commit markers of this instance's own transactions. A
   * marker reaches no reader; without this, the next command's catch-up waited
   * for the reader's empty fetch at the end (fetch.wait.max.ms, 500 ms) to
   * learn that the log ends past it: every write took half a second.
   */
  private readonly ownMarkers = new Set<bigint>();
  private skipped = 0;
  private readonly positionWaiters: Array<{ offset: bigint; resolve: () => void }> = [];
  /**
   * Where the log ends for the current writer: set when it caught up, moved past each of its commits;
   * undefined until it caught up.
   */
  private writtenUpTo: bigint | undefined;

  constructor(private readonly options: RegistryLogOptions) {
    this.topic = options.names.registryLog();
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
    // Each instance reads the whole log, from the start, every time: no group, nothing committed.
    this.reader = this.options.kafka.partitionReader({
      topic: this.topic,
      start: [{ partition: 0, offset: 0 }],
      readCommitted: true,
      records: (_partition, records) => {
        for (const record of records) {
          this.applyRecord(record, apply);
          this.advance(BigInt(record.offset) + 1n);
        }
      },
      // Also past transaction markers, which reach no `records`.
      caughtUp: (_partition, offset) => this.advance(BigInt(offset)),
    });
    await this.reader.start();
    await this.catchUp(120_000);
    this.options.logger.info(
      { topic: this.topic, position: String(this.position), skippedRecords: this.skipped },
      'registry log replayed',
    );
  }

  /** Resolves once every record committed before the call has been applied. */
  async catchUp(timeoutMillis = 10_000): Promise<void> {
    const [end] = await this.options.admin.latestOffsets(this.topic, { committedOnly: true });
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
    if (!this.writer) {
      const writer = this.options.kafka.transactionalWriter({
        transactionalId: `${this.options.names.prefix}registry-writer`,
        topic: this.topic,
      });
      await writer.start();
      this.writer = writer;
      this.writtenUpTo = undefined;
    }
    if (this.writtenUpTo === undefined) {
      await this.catchUp();
      this.writtenUpTo = this.position;
      return;
    }
    // Nobody else committed since this writer caught up: another instance's commit would have fenced it,
    // and then its next commit fails and drops it. So the log ends with this writer's own last commit,
    // and applying up to there is enough: no round trip to Kafka for the end offset on every write.
    await this.waitApplied(this.writtenUpTo - 1n);
  }

  /**
   * Writes records in one transaction, tagged with `commandId`. Resolves with
   * the offset of the last one. On any failure the writer is dropped, so that
   * the next {@link RegistryLog.acquireWriter} starts a fresh one (fencing
   * whoever fenced us) and catches up: the caller then finds out whether the
   * records made it (by `commandId`) before trying again.
   */
  async commit(records: LogRecord[], commandId: string): Promise<bigint> {
    const writer = this.writer;
    if (!writer) throw new UnavailableError('registry writer not acquired');
    try {
      const last = await writer.commit(
        records.map((record) => ({
          key: record.key,
          value: record.event ? encodeEvent(record.event) : null,
          headers: { [commandIdHeader]: commandId },
          timestamp: Date.now(),
        })),
      );
      // The commit marker follows the last record at once: the log has one transactional writer, which
      // fences any other before it writes.
      this.writtenUpTo = last + 2n;
      if (this.position > last + 1n) return last;
      if (this.position === last + 1n) this.advance(last + 2n);
      else this.ownMarkers.add(last + 1n);
      return last;
    } catch (error) {
      // Fenced by another instance, or Kafka trouble: either way the writer retries from acquireWriter.
      this.writer = undefined;
      throw new UnavailableError(`registry log write failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async stop(): Promise<void> {
    await this.reader?.stop();
    this.reader = undefined;
    await this.writer?.stop();
    this.writer = undefined;
  }

  /**
   * Records skipped since start because this build cannot read them (another
   * format version, or corrupt). Logged with every skip and in the replay summary.
   */
  get skippedRecords(): number {
    return this.skipped;
  }

  /**
   * A record the log cannot read (another format, or corrupt) is skipped,
   * logged and counted, never a crash loop: every instance replays the same
   * log, so a record that threw would stop them all, on every restart.
   */
  private applyRecord(record: ConsumedRecord, apply: (record: ReadRecord) => void): void {
    const key = record.key?.toString('utf8') ?? '';
    let event: RegistryEvent | undefined;
    try {
      event = decodeEvent(record.value);
    } catch (error) {
      this.skip(record, key, error, 'registry log record skipped: not an event this build can read');
      return;
    }
    try {
      apply({
        record: { key, event },
        offset: String(record.offset),
        timeMillis: record.timestampMillis,
        commandId: record.headers[commandIdHeader]?.toString(),
      });
    } catch (error) {
      // A readable event the state refuses is a bug of this build, not of the log; it is skipped all the
      // same (every instance would otherwise stop at it) but said apart, so it is not taken for corruption.
      this.skip(record, key, error, 'registry log record skipped: applying a readable event failed');
    }
  }

  private skip(record: ConsumedRecord, key: string, error: unknown, message: string): void {
    this.skipped++;
    this.options.logger.error(
      { offset: String(record.offset), key, err: error, skippedRecords: this.skipped },
      message,
    );
  }

  private advance(next: bigint): void {
    if (next <= this.position) return;
    if (this.ownMarkers.delete(next)) next += 1n;
    this.position = next;
    for (const marker of this.ownMarkers) if (marker < next) this.ownMarkers.delete(marker);
    for (let i = this.positionWaiters.length - 1; i >= 0; i--) {
      const waiter = this.positionWaiters[i]!;
      if (this.position > waiter.offset) {
        this.positionWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}
