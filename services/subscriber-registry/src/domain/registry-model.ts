/**
 * The registry's entities as the domain sees them: plain data, no proto types.
 * Offsets and revisions are decimal strings (Kafka offsets are 64-bit).
 */

/** The first offset to deliver on one partition. */
export interface PartitionOffset {
  partition: number;
  offset: string;
}

export interface Topic {
  name: string;
  partitions: number;
  retentionMillis: number;
  replicationFactor: number;
  createTimeMillis: number;
  /** Log offset of the topic's latest change. */
  revision: string;
}

export interface RetryPolicy {
  minimumBackoffMillis: number;
  maximumBackoffMillis: number;
}

export interface DeadLetterPolicy {
  deadLetterTopic: string;
  maxDeliveryAttempts: number;
}

/** Where a push subscription sends each message. */
export type PushEndpoint =
  { kind: 'http'; url: string; mode: 'binary' | 'structured'; audience: string } | { kind: 'grpc'; target: string };

/** A push subscription's delivery: where, and how many requests in flight at most. */
export interface PushConfig {
  endpoint: PushEndpoint;
  maxOutstanding: number;
}

/** The latest seek of a subscription. */
export interface SeekState {
  /** Log offset of the seek's own event: dispatchers compare it with what they committed. */
  revision: string;
  offsets: PartitionOffset[];
  timeMillis: number;
}

export interface Subscription {
  name: string;
  topic: string;
  ackDeadlineSeconds: number;
  retryPolicy: RetryPolicy;
  deadLetterPolicy: DeadLetterPolicy | undefined;
  enableMessageOrdering: boolean;
  filter: string;
  /** Undefined for a pull subscription. */
  pushConfig: PushConfig | undefined;
  enableExactlyOnceDelivery: boolean;
  startOffsets: PartitionOffset[];
  lastSeek: SeekState | undefined;
  detached: boolean;
  createTimeMillis: number;
  /** Log offset of its creation: tells apart two subscriptions that had the same name. */
  createRevision: string;
  /** Log offset of its latest change. */
  revision: string;
}

/** Where a subscription starts or a seek goes. */
export type Position = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'time'; timeMillis: number };

/** An IAM policy as the log holds it: its bindings, and the offset of the record that set it. */
export interface StoredPolicy {
  /** `herald`, `topics/<name>` or `subscriptions/<name>`. */
  resource: string;
  bindings: Array<{ role: string; members: string[] }>;
  /** Log offset of the record: with the bindings, it makes the etag. */
  revision: string;
}
