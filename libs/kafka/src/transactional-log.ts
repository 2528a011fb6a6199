import type { OutgoingRecord } from './consumed-record';

/** Options of a {@link TransactionalWriter}. */
export interface TransactionalWriterOptions {
  /** Every instance sharing this id fences the others when it starts. */
  transactionalId: string;
  topic: string;
  /** The partition every record goes to. @defaultValue 0 */
  partition?: number;
}

/**
 * A Kafka transactional producer on one partition of a topic. Starting it
 * fences every other writer with the same transactional id and aborts its open
 * transaction: between this writer's start and its commit, nobody else commits.
 */
export interface TransactionalWriter {
  /** Registers the transactional id (fencing older writers). @throws UnavailableError */
  start(): Promise<void>;
  /**
   * Writes records in one transaction and commits it; resolves with the offset
   * of the last. Any failure leaves the writer unusable: start a new one.
   * @throws UnavailableError when fenced, or when Kafka fails.
   */
  commit(records: OutgoingRecord[]): Promise<bigint>;
  stop(): Promise<void>;
}
