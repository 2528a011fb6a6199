import type { Logger } from '@herald/logging';
import type { DurableProducer, DurableProducerOptions } from './durable-producer';
import type { GroupConsumer, GroupConsumerOptions } from './group-consumer';
import type { KafkaConnectivity } from './kafka-connectivity';
import type { KafkaSecurity } from './kafka-security';
import { KafkajsClient } from './kafkajs/kafkajs-client';
import { LibrdkafkaClient } from './librdkafka/librdkafka-client';
import type { PartitionReader, PartitionReaderOptions } from './partition-reader';
import type { TopicAdmin } from './topic-admin';
import type { TransactionalWriter, TransactionalWriterOptions } from './transactional-log';

/** The Kafka client libraries Herald runs on. */
export const kafkaClientKinds = ['librdkafka', 'kafkajs'] as const;
export type KafkaClientKind = (typeof kafkaClientKinds)[number];

/** Options of {@link createKafkaClient}. */
export interface KafkaClientOptions {
  /** Bootstrap servers, `host:port`. */
  brokers: string[];
  /** Names this client in broker logs and quotas. */
  clientId: string;
  /** The client library's own lines go here, under `component: kafka`. */
  logger: Logger;
  /** @defaultValue 'librdkafka' */
  kind?: KafkaClientKind;
  /** TLS and SASL, for every producer, consumer and admin of this client. @defaultValue plaintext */
  security?: KafkaSecurity;
}

/**
 * Everything Herald does with Kafka, in Herald's words. Services get one of
 * these and never see the client library under it.
 */
export interface KafkaClient {
  readonly kind: KafkaClientKind;
  /**
   * Whether Kafka is reachable now, probed in the background from the first
   * call on: for readiness, and to fail requests at once while it is not.
   */
  connectivity(): KafkaConnectivity;
  topicAdmin(): TopicAdmin;
  durableProducer(options?: DurableProducerOptions): DurableProducer;
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  partitionReader(options: PartitionReaderOptions): PartitionReader;
  transactionalWriter(options: TransactionalWriterOptions): TransactionalWriter;
}

/** A Kafka client on the chosen library: librdkafka unless `kind` says otherwise. */
export function createKafkaClient(options: KafkaClientOptions): KafkaClient {
  const kind = options.kind ?? 'librdkafka';
  return kind === 'kafkajs' ? new KafkajsClient(options) : new LibrdkafkaClient(options);
}
