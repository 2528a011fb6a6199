import { type DeliveryReport, type LibrdKafkaError, Producer } from '@confluentinc/kafka-javascript';
import { UnavailableError } from '@herald/errors';
import type { OutgoingRecord } from '../consumed-record';
import type { DurableProducer, DurableProducerOptions, ProducerStats } from '../durable-producer';
import { toHeraldError } from '../kafka-errors';
import { KeyPartitions } from '../key-partitioner';
import { type LibrdkafkaContext, promised } from './librdkafka-client';

/** One caller's records, settled when the last delivery report for them arrives. */
interface Pending {
  remaining: number;
  settled: boolean;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The durable producer on librdkafka: one idempotent producer (acks=all, up to
 * five requests in flight per broker, order kept by sequence numbers), whose
 * own retries resend under the same producer id and sequence, so the broker
 * drops a copy it already has. Batching is librdkafka's (`linger.ms`, and
 * naturally while requests are in flight), on its own threads.
 */
export class LibrdkafkaDurableProducer implements DurableProducer {
  readonly stats: ProducerStats = { requests: 0, records: 0, resends: 0, unconfirmed: 0 };
  private producer: Producer;
  private readonly partitioner = new KeyPartitions();
  private readonly sendTimeoutMillis: number;
  private closed = false;

  constructor(
    private readonly context: LibrdkafkaContext,
    private readonly options: DurableProducerOptions,
  ) {
    this.sendTimeoutMillis = options.sendTimeoutMillis ?? 30_000;
    this.producer = this.newProducer();
  }

  connect(): Promise<void> {
    return connectProducer(this.producer, 'connecting the producer', this.context);
  }

  send(topic: string, partitionCount: number, records: OutgoingRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new UnavailableError('producer is closing'));
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { remaining: records.length, settled: false, resolve, reject };
      this.stats.requests++;
      this.stats.records += records.length;
      for (const record of records) {
        const partition = this.partitioner.partitionOf(topic, record.key, partitionCount);
        try {
          this.producer.produce(
            topic,
            partition,
            record.value,
            record.key,
            record.timestamp,
            pending,
            headerList(record.headers),
          );
        } catch (error) {
          // Records before this one may still be written: the caller sees a failure and may retry, which
          // idempotency keys deduplicate downstream.
          settle(pending, toHeraldError(error, 'producing'));
          return;
        }
      }
      if (records.length === 0) settle(pending);
    });
  }

  topicDeleted(): void {
    // librdkafka forgets a deleted topic's metadata by itself.
  }

  async close(): Promise<void> {
    this.closed = true;
    await promised((done) => this.producer.flush(this.sendTimeoutMillis, done)).catch(() => undefined);
    await promised((done) => this.producer.disconnect(5_000, done)).catch(() => undefined);
  }

  private newProducer(): Producer {
    const producer = new Producer({
      ...this.context.config,
      'enable.idempotence': true,
      acks: -1,
      'linger.ms': this.options.lingerMillis ?? 1,
      // librdkafka retries within this time on its own, under the same producer id and sequence numbers.
      'message.timeout.ms': this.sendTimeoutMillis,
      'retry.backoff.ms': 100,
      'retry.backoff.max.ms': 1_000,
      // The publisher bounds what it holds (PUBLISHER_MAX_INFLIGHT_BYTES); this queue only has to be larger.
      'queue.buffering.max.kbytes': 1_048_576,
      'queue.buffering.max.messages': 1_000_000,
      'batch.size': 1_000_000,
      dr_cb: true,
    });
    producer.on('delivery-report', (error: LibrdKafkaError, report: DeliveryReport) => {
      const pending = report.opaque as Pending;
      if (error) settle(pending, toHeraldError(error, 'producing'));
      else if (--pending.remaining === 0) settle(pending);
    });
    producer.on('event.error', (error: LibrdKafkaError) => {
      // A fatal error (the idempotence guarantee could not be kept) ends this producer: what it holds
      // fails through delivery reports, and later sends go to a new one with a new producer id.
      if (!error.isFatal || this.closed || producer !== this.producer) return;
      this.stats.resends++;
      this.context.logger.error(
        { code: error.code },
        `fatal producer error, starting a new producer: ${error.message}`,
      );
      this.producer = this.newProducer();
      void this.connect().catch(() => undefined);
      void promised((done) => producer.disconnect(5_000, done)).catch(() => undefined);
    });
    this.context.watch(producer, 'producer');
    return producer;
  }
}

function settle(pending: Pending, error?: Error): void {
  if (pending.settled) return;
  pending.settled = true;
  if (error) pending.reject(error);
  else pending.resolve();
}

/** Headers as librdkafka takes them: one single-entry object per header. */
export function headerList(headers: Record<string, string | Buffer>): Array<Record<string, string | Buffer>> {
  const list = [];
  for (const name in headers) list.push({ [name]: headers[name]! });
  return list;
}

/**
 * Connects a librdkafka producer (as a Herald error when the cluster cannot be
 * reached), then has its delivery reports served by a background thread
 * rather than by polling (the binding crashes if asked before it is connected).
 */
export async function connectProducer(producer: Producer, doing: string, context: LibrdkafkaContext): Promise<void> {
  try {
    await promised((done) => producer.connect({ timeout: 10_000 }, (error) => done(error)));
  } catch (error) {
    throw context.connectError(error, doing);
  }
  producer.setPollInBackground(true);
}
