import type { ConsumedRecord } from './consumed-record';

/** What a {@link GroupConsumer} tells its owner. */
export interface GroupConsumerHandlers {
  /** The partitions this member owns from now on: the whole assignment, not a delta. */
  assigned(partitions: number[]): void;
  /** Partitions are about to move (a rebalance or leaving): commit what is settled. Awaited, bounded. */
  revoking(): Promise<void>;
  /** Records of one partition, in offset order; the next fetch waits for the returned promise. */
  records(partition: number, records: ConsumedRecord[]): Promise<void> | void;
}

/** Options of a {@link GroupConsumer}. */
export interface GroupConsumerOptions {
  groupId: string;
  topic: string;
  /** How soon a dead member's partitions move to the others. */
  sessionTimeoutMillis: number;
  handlers: GroupConsumerHandlers;
}

/** An offset to commit: the next one to read, with Herald's metadata beside it. */
export interface OffsetCommit {
  partition: number;
  offset: number;
  metadata: string;
}

/**
 * A member of a consumer group reading one topic: partitions shared with the
 * group's other members through Kafka's (classic) group protocol; nothing is
 * committed unless asked. Where a partition starts before its first commit is
 * the earliest retained offset: the owner seeks where it wants.
 */
export interface GroupConsumer {
  /** Joins the group and starts fetching. */
  start(): Promise<void>;
  /** Stops fetching these partitions until resumed (they stay owned). */
  pause(partitions: number[]): void;
  resume(partitions: number[]): void;
  /** The next records of `partition` start at `offset`; a batch fetched before may still arrive. */
  seek(partition: number, offset: number): void;
  /** Commits offsets with metadata. @throws a Herald error when Kafka refuses (a rebalance, say). */
  commit(offsets: OffsetCommit[]): Promise<void>;
  /** Leaves the group (after `revoking`), so the partitions move at once. */
  stop(): Promise<void>;
}
