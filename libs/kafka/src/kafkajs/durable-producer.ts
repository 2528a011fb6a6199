import { UnavailableError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import { backoffMillis } from '@herald/retry';
import type { Kafka, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import type { OutgoingRecord } from '../consumed-record';
import type { DurableProducer, DurableProducerOptions, ProducerStats } from '../durable-producer';
import { isTransientKafkaError, toHeraldError } from '../kafka-errors';
import { KeyPartitions } from '../key-partitioner';

/** Options of {@link KafkajsDurableProducer}: the common ones, and batch limits of its own. */
export interface KafkajsDurableProducerOptions extends DurableProducerOptions {
  /** Bytes of queued records that trigger a send at once. @defaultValue 4 MiB */
  maxBatchBytes?: number;
  /** Records that trigger a send at once. @defaultValue 5000 */
  maxBatchRecords?: number;
}

interface Pending {
  topic: string;
  records: OutgoingRecord[];
  /** The partition of each record. */
  partitions: number[];
  bytes: number;
  /** When a caller stops waiting for a free producer. */
  deadline: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

interface Lane {
  producer: Producer;
  busy: boolean;
  /** Replace the producer before its next send (see `topicDeleted`). */
  stale: boolean;
}

/**
 * Writes records with acks=all through idempotent producers, coalescing the
 * records of concurrent callers into one produce request (kafkajs has no linger
 * of its own). A caller's records always travel in one request, in order.
 */
export class KafkajsDurableProducer implements DurableProducer {
  private readonly queue: Pending[] = [];
  private queuedBytes = 0;
  private queuedRecords = 0;
  private readonly lanes: Lane[] = [];
  private lingerTimer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly options: Required<KafkajsDurableProducerOptions>;
  private readonly partitioner = new KeyPartitions();
  /** Produce requests sent, and records in them: what coalescing saves shows in their ratio. */
  readonly stats: ProducerStats = { requests: 0, records: 0, resends: 0, unconfirmed: 0 };

  constructor(
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    options: KafkajsDurableProducerOptions = {},
  ) {
    this.options = {
      maxBatchBytes: options.maxBatchBytes ?? 4 * 1024 * 1024,
      maxBatchRecords: options.maxBatchRecords ?? 5000,
      lingerMillis: options.lingerMillis ?? 1,
      lanes: options.lanes ?? 1,
      sendTimeoutMillis: options.sendTimeoutMillis ?? 30_000,
    };
  }

  /** Connects every lane's producer. */
  async connect(): Promise<void> {
    for (let i = 0; i < this.options.lanes; i++) {
      const lane = { producer: this.newProducer(), busy: false, stale: false };
      this.lanes.push(lane);
      await lane.producer.connect().catch((error: unknown) => {
        throw toHeraldError(error, 'connecting the producer');
      });
    }
  }

  /**
   * Resolves once every record is written and acknowledged by all in-sync
   * replicas. Rejects with a Herald error (UNAVAILABLE when Kafka cannot take it).
   */
  send(topic: string, partitionCount: number, records: OutgoingRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new UnavailableError('producer is closing'));
    let bytes = 0;
    for (const record of records) bytes += recordBytes(record);
    // Partitions are chosen here, not by kafkajs, so that the answer can be checked partition by partition.
    const partitions = records.map((record) => this.partitioner.partitionOf(topic, record.key, partitionCount));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({
        topic,
        records,
        partitions,
        bytes,
        resolve,
        reject,
        deadline: Date.now() + this.options.sendTimeoutMillis,
      });
      this.queuedBytes += bytes;
      this.queuedRecords += records.length;
      this.schedule();
    });
  }

  /**
   * Starts every producer afresh. After a topic is deleted, kafkajs producers
   * keep asking for its metadata and fail every send, whatever the topic
   * (kafkajs issue #1622); new producers know nothing of it.
   */
  topicDeleted(_topic: string): void {
    for (const lane of this.lanes) lane.stale = true;
    this.schedule();
  }

  /** Sends what is queued, waits for every request in flight, then disconnects. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.queue.length > 0 || this.lanes.some((lane) => lane.busy)) {
      this.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(this.lanes.map((lane) => lane.producer.disconnect().catch(() => undefined)));
  }

  private newProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 },
    });
  }

  private schedule(): void {
    if (this.queue.length === 0) return;
    if (!this.lanes.some((lane) => !lane.busy)) {
      this.expireWaiting();
      return;
    }
    const full = this.queuedBytes >= this.options.maxBatchBytes || this.queuedRecords >= this.options.maxBatchRecords;
    if (full || this.options.lingerMillis <= 0 || this.closed) {
      this.flush();
    } else if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.flush();
      }, this.options.lingerMillis);
    }
  }

  private flush(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    for (const lane of this.lanes) {
      if (this.queue.length === 0) return;
      if (!lane.busy) void this.sendOn(lane, this.takeBatch());
    }
  }

  /**
   * While every producer is stuck (Kafka down), callers still get their
   * UNAVAILABLE in bounded time: waiting ones are failed at their deadline.
   */
  private expireWaiting(): void {
    if (this.expiryTimer) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      const now = Date.now();
      for (let i = this.queue.length - 1; i >= 0; i--) {
        const pending = this.queue[i]!;
        if (pending.deadline > now) continue;
        this.queue.splice(i, 1);
        this.queuedBytes -= pending.bytes;
        this.queuedRecords -= pending.records.length;
        pending.reject(
          new UnavailableError(`Kafka did not take the records within ${this.options.sendTimeoutMillis} ms`),
        );
      }
      this.schedule();
    }, 250);
  }

  private takeBatch(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 0;
    let records = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      const tooBig =
        bytes + next.bytes > this.options.maxBatchBytes || records + next.records.length > this.options.maxBatchRecords;
      if (batch.length > 0 && tooBig) break;
      this.queue.shift();
      batch.push(next);
      bytes += next.bytes;
      records += next.records.length;
    }
    this.queuedBytes -= bytes;
    this.queuedRecords -= records;
    return batch;
  }

  private async sendOn(lane: Lane, batch: Pending[]): Promise<void> {
    lane.busy = true;
    if (lane.stale) {
      lane.stale = false;
      await this.replace(lane);
    }
    const byTopic = new Map<string, TopicMessages>();
    let count = 0;
    for (const pending of batch) {
      let entry = byTopic.get(pending.topic);
      if (!entry) byTopic.set(pending.topic, (entry = { topic: pending.topic, messages: [] }));
      for (const [i, record] of pending.records.entries()) {
        entry.messages.push({
          partition: pending.partitions[i]!,
          key: record.key,
          value: record.value,
          headers: record.headers,
          timestamp: String(record.timestamp),
        });
      }
      count += pending.records.length;
    }
    this.stats.requests++;
    this.stats.records += count;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new UnavailableError(`Kafka did not acknowledge within ${this.options.sendTimeoutMillis} ms`)),
        this.options.sendTimeoutMillis,
      );
    });
    const deadline = Date.now() + this.options.sendTimeoutMillis;
    const sent = (async () => {
      let unconfirmed = [...byTopic.values()];
      for (let attempt = 1; ; attempt++) {
        let failure: unknown;
        try {
          const written = await lane.producer.sendBatch({ topicMessages: unconfirmed, acks: -1, timeout: 30_000 });
          // kafkajs 2.2.4 can report success without having sent some partitions: when a partition's
          // leader moves to a broker that already answered for others, its retry skips that broker. The
          // chaos suite lost acknowledged messages that way. Only partitions Kafka confirmed count.
          unconfirmed = withoutConfirmed(unconfirmed, written);
          if (unconfirmed.length === 0) return;
          this.stats.unconfirmed++;
          this.logger.warn(
            { partitions: describe(unconfirmed) },
            'Kafka confirmed only part of a batch; sending the rest again',
          );
        } catch (error) {
          // Nothing of a failed send is known to be written: all of it goes again.
          failure = error;
          if (!isRetryableSendError(error)) throw error;
        }
        const wait = backoffMillis({ initialMillis: 100, maxMillis: 2_000 }, attempt);
        if (Date.now() + wait > deadline)
          throw failure ?? new UnavailableError('Kafka did not confirm every partition');
        // After a failure kafkajs's sequence numbers are in doubt: a new producer id starts clean.
        // Records that did land get a second copy, which idempotency keys deduplicate downstream.
        this.stats.resends++;
        await this.replace(lane);
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    })();
    let failed = false;
    try {
      await Promise.race([sent, timeout]);
      for (const pending of batch) pending.resolve();
    } catch (error) {
      failed = true;
      const heraldError = toHeraldError(error, 'producing');
      for (const pending of batch) pending.reject(heraldError);
    } finally {
      clearTimeout(timer);
      // A timed-out send may still be running: the lane stays busy until it settles.
      await sent.catch(() => undefined);
      // After a failed send, the producer's sequence numbers may disagree with the broker's (the batch
      // may have landed after all); a later batch could then be taken for a duplicate and dropped.
      // A new producer id starts a new sequence, so nothing later can be mistaken for this batch.
      if (failed) await this.replace(lane);
      lane.busy = false;
      this.schedule();
    }
  }

  private async replace(lane: Lane): Promise<void> {
    await lane.producer.disconnect().catch(() => undefined);
    lane.producer = this.newProducer();
    await lane.producer.connect().catch((error: unknown) => {
      this.logger.warn({ err: error }, 'new producer could not connect yet; it retries on the next send');
    });
  }
}

/** A record's size on the wire, near enough to keep coalesced batches under the topic's limit. */
function recordBytes(record: OutgoingRecord): number {
  let bytes = (record.value?.length ?? 0) + (record.key === null ? 0 : Buffer.byteLength(record.key)) + 32;
  for (const [name, value] of Object.entries(record.headers)) {
    bytes += Buffer.byteLength(name) + (typeof value === 'string' ? Buffer.byteLength(value) : value.length) + 8;
  }
  return bytes;
}

/** Connection trouble, a moving leader, or a refused sequence: worth a new producer and another try. */
function isRetryableSendError(error: unknown): boolean {
  return isTransientKafkaError(error) || isOutOfSequence(error);
}

function isOutOfSequence(error: unknown, depth = 0): boolean {
  const e = error as { type?: string; originalError?: unknown; errors?: unknown[] } | undefined;
  if (!e || depth > 4) return false;
  if (e.type === 'OUT_OF_ORDER_SEQUENCE_NUMBER') return true;
  return (
    isOutOfSequence(e.originalError, depth + 1) || (e.errors ?? []).some((inner) => isOutOfSequence(inner, depth + 1))
  );
}

/** The messages of partitions that `written` does not confirm (no entry, or an error code). */
function withoutConfirmed(sent: TopicMessages[], written: RecordMetadata[]): TopicMessages[] {
  const confirmed = new Map<string, Set<number>>();
  for (const w of written) {
    if (w.errorCode !== 0 || Number(w.baseOffset) < 0) continue;
    const partitions = confirmed.get(w.topicName) ?? new Set<number>();
    confirmed.set(w.topicName, partitions.add(w.partition));
  }
  return sent
    .map(({ topic, messages }) => {
      const partitions = confirmed.get(topic);
      return { topic, messages: partitions ? messages.filter((m) => !partitions.has(m.partition ?? -1)) : messages };
    })
    .filter(({ messages }) => messages.length > 0);
}

function describe(topicMessages: TopicMessages[]): string[] {
  return topicMessages.flatMap(({ topic, messages }) => [...new Set(messages.map((m) => `${topic}/${m.partition}`))]);
}
