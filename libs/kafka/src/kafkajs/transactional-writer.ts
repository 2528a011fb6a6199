import { UnavailableError } from '@herald/errors';
import type { Kafka, Producer } from 'kafkajs';
import type { OutgoingRecord } from '../consumed-record';
import { toHeraldError } from '../kafka-errors';
import type { TransactionalWriter, TransactionalWriterOptions } from '../transactional-log';

/** {@link TransactionalWriter} on a kafkajs transactional producer. */
export class KafkajsTransactionalWriter implements TransactionalWriter {
  private readonly producer: Producer;
  private state: 'new' | 'started' | 'unusable' = 'new';

  constructor(
    kafka: Kafka,
    private readonly options: TransactionalWriterOptions,
  ) {
    this.producer = kafka.producer({
      transactionalId: options.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      allowAutoTopicCreation: false,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
  }

  async start(): Promise<void> {
    try {
      await this.producer.connect();
      // kafkajs sends the transactional InitProducerId (the call that fences the other writers) only
      // when the first transaction begins, yet callers rely on the fence from start on: begin one here.
      const fence = await this.producer.transaction();
      await fence.abort();
      this.state = 'started';
    } catch (error) {
      this.state = 'unusable';
      await this.producer.disconnect().catch(() => undefined);
      throw toHeraldError(error, `starting the transactional writer of ${this.options.topic}`);
    }
  }

  async commit(records: OutgoingRecord[]): Promise<bigint> {
    if (this.state !== 'started') throw new UnavailableError('transactional writer not started, or failed before');
    try {
      const transaction = await this.producer.transaction();
      try {
        const written = await transaction.send({
          topic: this.options.topic,
          acks: -1,
          messages: records.map((record) => ({
            key: record.key,
            value: record.value,
            partition: this.options.partition ?? 0,
            headers: record.headers,
            timestamp: String(record.timestamp),
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
      // Fenced by a newer writer, or Kafka trouble: either way the owner starts a new writer.
      this.state = 'unusable';
      await this.producer.disconnect().catch(() => undefined);
      throw new UnavailableError(`transactional write failed: ${(error as Error).message}`, { cause: error });
    }
  }

  async stop(): Promise<void> {
    this.state = 'unusable';
    await this.producer.disconnect().catch(() => undefined);
  }
}
