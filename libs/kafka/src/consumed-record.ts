/** A record as any of Herald's Kafka readers hands it over, whatever the client library. */
export interface ConsumedRecord {
  partition: number;
  /** Exact up to 2^53, far beyond any partition's lifetime. */
  offset: number;
  key: Buffer | null;
  /** Null for a tombstone. */
  value: Buffer | null;
  /** Header values by name; when a name repeats, the last value. */
  headers: Record<string, Buffer>;
  /** The record's timestamp, ms since the epoch. */
  timestampMillis: number;
}

/** One record to write. */
export interface OutgoingRecord {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
  /** Milliseconds since the epoch; the record's timestamp. */
  timestamp: number;
}

/** The offset of one partition. Offsets are decimal strings here, as Kafka's are 64-bit. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}
