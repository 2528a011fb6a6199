import type { ConsumedRecord } from './consumed-record';

/** Options of a {@link PartitionReader}. */
export interface PartitionReaderOptions {
  topic: string;
  /** Where each partition starts: the partitions not named are not read. */
  start: Array<{ partition: number; offset: number }>;
  /** Skip records of aborted transactions, and stop at the last stable offset. @defaultValue false */
  readCommitted?: boolean;
  /** Records of one partition, in offset order; the next fetch waits for the returned promise. */
  records(partition: number, records: ConsumedRecord[]): Promise<void> | void;
  /**
   * Called when a partition has been read up to `offset` (exclusive) and nothing
   * more is there yet: also past transaction markers, which reach no `records`.
   */
  caughtUp?(partition: number, offset: number): void;
}

/**
 * Reads partitions from given offsets with no consumer group: nothing joins,
 * rebalances or commits. For tails, the registry's replay of its log, and
 * anything else that knows where to read.
 */
export interface PartitionReader {
  /** Starts fetching. */
  start(): Promise<void>;
  /** Stops fetching these partitions (all of those read when none are named) until resumed. */
  pause(partitions?: number[]): void;
  resume(partitions?: number[]): void;
  /** Stops fetching and releases the connections. */
  stop(): Promise<void>;
}
