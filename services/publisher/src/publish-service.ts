import { NotFoundError } from '@herald/errors';
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
    const bytes = validateBatch(topic, messages, this.options.limits);
    const partitions = await this.options.topics.partitions(topic);
    if (partitions === undefined) throw new NotFoundError('topic', topic);
    this.options.budget.acquire(bytes);
    try {
      const publishTime = Date.now();
      const ids = messages.map((message) => this.options.ids.idFor(topic, message.idempotencyKey));
      const records = messages.map((message, i) =>
        toRecord(message, ids[i]!, this.options.ids.publisherToken, publishTime),
      );
      await this.options.producer.send(this.options.names.topic(topic), partitions, records);
      return ids;
    } finally {
      this.options.budget.release(bytes);
    }
  }
}
