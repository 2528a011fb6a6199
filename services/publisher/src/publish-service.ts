import { HeraldError, NotFoundError } from '@herald/errors';
import type { DurableProducer, KafkaNames } from '@herald/kafka';
import type { InflightBudget } from './domain/inflight-budget';
import type { MessageIdGenerator } from './domain/message-ids';
import type { OutgoingMessage } from './domain/outgoing-message';
import type { PublishLimits } from './domain/publish-limits';
import { validateBatch } from './domain/validate-batch';
import { toRecord } from './kafka/record-writer';
import type { TopicDirectory } from './topic-directory';

/** Options of {@link PublishService}. */
export interface PublishServiceOptions {
  producer: DurableProducer;
  topics: TopicDirectory;
  names: KafkaNames;
  limits: PublishLimits;
  budget: InflightBudget;
  ids: MessageIdGenerator;
  /** Told of every batch accepted or refused. */
  observer?: PublishObserver;
}

/** What happened to each publish call, for metrics. */
export interface PublishObserver {
  /** A batch written and acknowledged by Kafka. */
  accepted(topic: string, messages: number, bytes: number, produceSeconds: number): void;
  /**
   * A batch refused, by its status code (`invalid_argument`, `not_found`, `resource_exhausted`, `unavailable`...);
   * `topicKnown` is false when the topic does not exist, so its name is only what the caller sent.
   */
  rejected(topic: string, topicKnown: boolean, reason: string, messages: number): void;
}

/**
 * Publishing: validate the whole batch, check the topic, then write every
 * message with acks=all and answer with their ids once Kafka acknowledged all.
 */
export class PublishService {
  constructor(private readonly options: PublishServiceOptions) {}

  /**
   * @returns one message id per message, in order.
   * @throws InvalidArgumentError (nothing written), NotFoundError, ResourceExhaustedError, UnavailableError.
   */
  async publish(topic: string, messages: OutgoingMessage[]): Promise<string[]> {
    let topicKnown = false;
    try {
      const bytes = validateBatch(topic, messages, this.options.limits);
      const partitions = await this.options.topics.partitions(topic);
      if (partitions === undefined) throw new NotFoundError('topic', topic);
      topicKnown = true;
      return await this.write(topic, partitions, messages, bytes);
    } catch (error) {
      const reason = error instanceof HeraldError ? error.code.toLowerCase() : 'internal';
      this.options.observer?.rejected(topic, topicKnown, reason, messages.length);
      throw error;
    }
  }

  private async write(topic: string, partitions: number, messages: OutgoingMessage[], bytes: number) {
    this.options.budget.acquire(bytes);
    try {
      const publishTime = Date.now();
      const ids = messages.map((message) => this.options.ids.idFor(topic, message.idempotencyKey));
      const records = messages.map((message, i) =>
        toRecord(message, ids[i]!, this.options.ids.publisherToken, publishTime),
      );
      const started = performance.now();
      await this.options.producer.send(this.options.names.topic(topic), partitions, records);
      this.options.observer?.accepted(topic, messages.length, bytes, (performance.now() - started) / 1000);
      return ids;
    } finally {
      this.options.budget.release(bytes);
    }
  }
}
