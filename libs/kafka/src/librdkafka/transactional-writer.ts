import { type DeliveryReport, type LibrdKafkaError, Producer } from '@confluentinc/kafka-javascript';
import { UnavailableError } from '@herald/errors';
import type { OutgoingRecord } from '../consumed-record';
import type { TransactionalWriter, TransactionalWriterOptions } from '../transactional-log';
import { connectProducer, headerList } from './durable-producer';
import { type LibrdkafkaContext, promised } from './librdkafka-client';

const transactionTimeoutMillis = 30_000;
const callTimeoutMillis = 15_000;

/** Waits for the delivery reports of one transaction's records. */
interface Written {
  remaining: number;
  lastOffset: number;
  failure: LibrdKafkaError | undefined;
  done: () => void;
}

/**
 * A transactional producer on librdkafka. `initTransactions` registers the
 * transactional id with the coordinator, which bumps its epoch: every older
 * writer with that id is fenced, and its open transaction aborted.
 */
export class LibrdkafkaTransactionalWriter implements TransactionalWriter {
  private readonly producer: Producer;
  private usable = false;

  constructor(
    private readonly context: LibrdkafkaContext,
    private readonly options: TransactionalWriterOptions,
  ) {
    this.producer = new Producer({
      ...context.config,
      'transactional.id': options.transactionalId,
      'enable.idempotence': true,
      acks: -1,
      'transaction.timeout.ms': transactionTimeoutMillis,
      'linger.ms': 0,
      dr_cb: true,
    });
    this.producer.on('delivery-report', (error: LibrdKafkaError, report: DeliveryReport) => {
      const written = report.opaque as Written;
      if (error) written.failure ??= error;
      else written.lastOffset = Math.max(written.lastOffset, report.offset);
      if (--written.remaining === 0) written.done();
    });
    context.watch(this.producer, 'transactional writer');
  }

  async start(): Promise<void> {
    await connectProducer(this.producer, 'starting the transactional writer', this.context);
    try {
      await promised((done) => this.producer.initTransactions(callTimeoutMillis, done));
    } catch (error) {
      await this.stop();
      throw unavailable(error);
    }
    this.usable = true;
  }

  async commit(records: OutgoingRecord[]): Promise<bigint> {
    if (!this.usable) throw new UnavailableError('transactional writer not started, or failed before');
    try {
      await promised((done) => this.producer.beginTransaction(done));
      const written = await new Promise<Written>((resolve) => {
        const state: Written = {
          remaining: records.length,
          lastOffset: -1,
          failure: undefined,
          done: () => resolve(state),
        };
        for (const record of records) {
          this.producer.produce(
            this.options.topic,
            this.options.partition ?? 0,
            record.value,
            record.key,
            record.timestamp,
            state,
            headerList(record.headers),
          );
        }
      });
      if (written.failure) throw written.failure;
      await promised((done) => this.producer.commitTransaction(callTimeoutMillis, done));
      return BigInt(written.lastOffset);
    } catch (error) {
      // Fenced by another instance, or Kafka trouble: this writer is done; the caller starts a new one.
      this.usable = false;
      await promised((done) => this.producer.abortTransaction(callTimeoutMillis, done)).catch(() => undefined);
      await this.stop();
      throw unavailable(error);
    }
  }

  async stop(): Promise<void> {
    this.usable = false;
    await promised((done) => this.producer.disconnect(5_000, done)).catch(() => undefined);
  }
}

function unavailable(error: unknown): UnavailableError {
  return new UnavailableError(`transactional write failed: ${(error as Error).message}`, { cause: error });
}
