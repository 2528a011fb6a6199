import type { OutgoingRecord } from './consumed-record';

/** Options of a {@link DurableProducer}. */
export interface DurableProducerOptions {
  /** How long the first queued record waits for others to join its request. @defaultValue 1 ms */
  lingerMillis?: number;
  /** kafkajs only: producers sending in parallel, each with one request in flight. @defaultValue 1 */
  lanes?: number;
  /** A send not acknowledged in this time fails with UNAVAILABLE. @defaultValue 30 s */
  sendTimeoutMillis?: number;
}

/** What a producer counts, for tests and logs. */
export interface ProducerStats {
  /** Produce requests sent (kafkajs), or `send` calls (librdkafka, which batches them on its own). */
  requests: number;
  records: number;
  /** Times records went again under a new producer id: kafkajs after a failure, librdkafka after a fatal error. */
  resends: number;
  /** kafkajs: answers that confirmed only part of a batch. */
  unconfirmed: number;
}

/**
 * Writes records with acks=all through idempotent producers, batching the
 * records of concurrent callers. A caller's records keep their order within
 * each partition.
 */
export interface DurableProducer {
  readonly stats: ProducerStats;
  /** Connects to the cluster. */
  connect(): Promise<void>;
  /**
   * Resolves once every record is written and acknowledged by all in-sync
   * replicas. Partitions are chosen by key with Kafka's murmur2, as Java
   * clients do, so that a key lands on one partition whoever writes it.
   * @throws UnavailableError when Kafka cannot take the records in time.
   */
  send(topic: string, partitionCount: number, records: OutgoingRecord[]): Promise<void>;
  /** Tells the producer a topic was deleted (the kafkajs client needs fresh connections then). */
  topicDeleted(topic: string): void;
  /** Sends what is queued, waits for every acknowledgement, then disconnects. */
  close(): Promise<void>;
}
