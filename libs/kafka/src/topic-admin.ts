import type { PartitionOffset } from './consumed-record';

/** Settings of a Kafka topic Herald creates. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Replication factor; 0 means min(3, brokers). */
  replicationFactor: number;
  /** Extra topic configs (`retention.ms`, `cleanup.policy`...). */
  configs: Record<string, string>;
}

/** A committed offset of a consumer group, with the metadata stored beside it. */
export interface CommittedOffset extends PartitionOffset {
  metadata: string | null;
}

/**
 * Kafka administration Herald needs: topics, offsets by position or time,
 * consumer groups. Every error comes out as a Herald error (UNAVAILABLE when
 * Kafka cannot be reached).
 */
export interface TopicAdmin {
  /** Brokers in the cluster now. */
  brokerCount(): Promise<number>;
  /** The replication factor to use: the requested one, or min(3, brokers) for 0. */
  effectiveReplicationFactor(requested: number): Promise<number>;
  /** Creates a topic and waits for its partition leaders; false (and nothing changed) when it already exists. */
  createTopic(spec: TopicSpec): Promise<boolean>;
  /** Deletes a topic; a missing one is not an error. */
  deleteTopic(name: string): Promise<void>;
  /** Names of every topic in the cluster. */
  listTopics(): Promise<string[]>;
  /** Partition count of a topic, or undefined when it does not exist. */
  partitionCount(name: string): Promise<number | undefined>;
  /**
   * The next offset to be written on each partition (the high watermark), or
   * with `committedOnly` the last stable offset: where a read_committed reader ends.
   */
  latestOffsets(topic: string, options?: { committedOnly?: boolean }): Promise<PartitionOffset[]>;
  /** The first retained offset on each partition. */
  earliestOffsets(topic: string): Promise<PartitionOffset[]>;
  /** On each partition, the first offset whose record timestamp is at or after `timeMillis` (else the end). */
  offsetsForTime(topic: string, timeMillis: number): Promise<PartitionOffset[]>;
  /** Committed offsets of a consumer group on a topic, with their metadata. */
  committedOffsets(groupId: string, topic: string): Promise<CommittedOffset[]>;
  /** Deletes a consumer group; missing or still-active groups are left alone. */
  deleteGroup(groupId: string): Promise<void>;
  /** Tells the admin a topic was deleted (the kafkajs client needs a fresh connection then). */
  topicDeleted(topic: string): void;
  close(): Promise<void>;
}
