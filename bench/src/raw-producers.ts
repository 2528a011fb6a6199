import type { Kafka, Producer } from 'kafkajs';
import type { RawProducerClient } from './raw-produce-measurement';

/** How many times one batch is sent again on a new producer before its error stands. */
const maxReplacementsPerBatch = 3;

/**
 * The baseline's idempotent kafkajs producers (acks=-1, one request in
 * flight each), as Herald's publisher runs them. Against Kafka 4.4, a kafkajs
 * idempotent producer sending batches back to back now and then gets
 * OUT_OF_ORDER_SEQUENCE_NUMBER (the broker sees sequence 0 again from a
 * producer id it already has records of) and fails every later send. The
 * publisher replaces such a producer; so does this class, sending the batch
 * again on the new one and counting it, so that the report can tell.
 */
export class RawProducers implements RawProducerClient {
  /** Producers replaced after the broker rejected their sequence numbers. */
  replaced = 0;

  private constructor(
    private readonly kafka: Kafka,
    private readonly producers: Producer[],
  ) {}

  /** Connects `count` producers one after the other. */
  static async connect(kafka: Kafka, count: number): Promise<RawProducers> {
    const producers = new RawProducers(kafka, []);
    try {
      for (let i = 0; i < count; i++) producers.producers.push(await producers.newProducer());
    } catch (error) {
      await producers.close();
      throw error;
    }
    return producers;
  }

  /** One lane per producer. */
  get lanes(): number {
    return this.producers.length;
  }

  /** Sends one batch to `topic` on producer `index` and resolves once every replica has it. */
  async sendBatch(index: number, topic: string, values: Buffer[]): Promise<void> {
    const messages = values.map((value) => ({ value }));
    for (let attempt = 0; ; attempt++) {
      try {
        await this.producers[index]!.sendBatch({ topicMessages: [{ topic, messages }], acks: -1, timeout: 30_000 });
        return;
      } catch (error) {
        if (
          (error as { type?: string }).type !== 'OUT_OF_ORDER_SEQUENCE_NUMBER' ||
          attempt >= maxReplacementsPerBatch
        ) {
          throw error;
        }
        await this.producers[index]!.disconnect().catch(() => undefined);
        this.producers[index] = await this.newProducer();
        this.replaced++;
      }
    }
  }

  /** A note for the report when producers had to be replaced. */
  notes(): string[] {
    return this.replaced > 0
      ? [`${this.replaced} producer(s) replaced after OUT_OF_ORDER_SEQUENCE_NUMBER (kafkajs), their batch sent again`]
      : [];
  }

  async close(): Promise<void> {
    await Promise.all(this.producers.map((producer) => producer.disconnect().catch(() => undefined)));
  }

  private async newProducer(): Promise<Producer> {
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    return producer;
  }
}
