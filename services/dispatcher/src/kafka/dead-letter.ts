import { randomBytes } from 'node:crypto';
import { NotFoundError } from '@herald/errors';
import { type DurableProducer, type KafkaNames, encodeHeraldRecord } from '@herald/kafka';
import type { InboundMessage } from '../domain/inbound-message';
import { applicationAttributes } from './reserved-attributes';

/**
 * Publishes messages that failed `max_delivery_attempts` times to the
 * subscription's dead-letter topic: same data, attributes and key, a new
 * message id, and headers naming the source subscription, the attempts and
 * the original message id and publish time.
 */
export class DeadLetterPublisher {
  private readonly token = randomBytes(6).toString('hex');
  private next = 0;

  constructor(
    private readonly producer: DurableProducer,
    private readonly names: KafkaNames,
    /** The partition count of a Herald topic, or undefined when it does not exist (from the registry). */
    private readonly partitionsOf: (topic: string) => Promise<number | undefined>,
  ) {}

  async publish(
    deadLetterTopic: string,
    subscription: string,
    message: InboundMessage,
    attempts: number,
  ): Promise<void> {
    const record = encodeHeraldRecord({
      messageId: `${this.token}-${(this.next++).toString(36)}`,
      data: message.data,
      // A dead letter of a dead-letter topic names only its latest origin.
      attributes: applicationAttributes(message.attributes),
      orderingKey: message.orderingKey,
      idempotencyKey: message.idempotencyKey,
      publishTimeMillis: Date.now(),
      publisher: `dispatcher-${this.token}`,
      deadLetter: {
        subscription,
        attempts,
        messageId: message.messageId,
        publishTimeMillis: message.publishTimeMillis,
      },
    });
    const partitions = await this.partitionsOf(deadLetterTopic);
    // Until the topic exists again the message stays unsettled; the engine retries the publish.
    if (partitions === undefined)
      throw new NotFoundError('topic', deadLetterTopic, 'dead_letter_policy.dead_letter_topic');
    await this.producer.send(this.names.topic(deadLetterTopic), partitions, [record]);
  }
}
