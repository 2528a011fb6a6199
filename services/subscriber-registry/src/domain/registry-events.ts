import type { DeadLetterPolicy, PartitionOffset, RetryPolicy } from './registry-model';

/**
 * The registry's log records. The log is compacted by key, so every record
 * carries its entity whole, as it is after the change: compaction may drop
 * any earlier record of the same key without losing state. A deletion is a
 * tombstone (a key with no value).
 *
 * Revisions are log offsets, known only once a record is written; a record
 * says `"self"` where its own offset belongs, and whoever applies it fills it in.
 */
export type RegistryEvent = TopicCreated | SubscriptionChanged;

/** Version of the record format, so that a later Herald can read older logs. */
export const recordVersion = 1;

export interface TopicCreated {
  v: typeof recordVersion;
  type: 'topic';
  change: 'created';
  topic: {
    name: string;
    partitions: number;
    retentionMillis: number;
    replicationFactor: number;
    createTimeMillis: number;
  };
}

export type SubscriptionChange = 'created' | 'updated' | 'seeked' | 'detached';

export interface SubscriptionChanged {
  v: typeof recordVersion;
  type: 'subscription';
  change: SubscriptionChange;
  subscription: {
    name: string;
    topic: string;
    ackDeadlineSeconds: number;
    retryPolicy: RetryPolicy;
    deadLetterPolicy: DeadLetterPolicy | null;
    enableMessageOrdering: boolean;
    filter: string;
    startOffsets: PartitionOffset[];
    lastSeek: { revision: string | 'self'; offsets: PartitionOffset[]; timeMillis: number } | null;
    detached: boolean;
    createTimeMillis: number;
    createRevision: string | 'self';
  };
}

/** A record as written to or read from the log. */
export interface LogRecord {
  key: string;
  /** Undefined for a tombstone (a deletion). */
  event: RegistryEvent | undefined;
}

export const topicKey = (name: string) => `topic/${name}`;
export const subscriptionKey = (name: string) => `subscription/${name}`;

/** The entity a key names. */
export function parseKey(key: string): { type: 'topic' | 'subscription'; name: string } | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return undefined;
  const type = key.slice(0, slash);
  if (type !== 'topic' && type !== 'subscription') return undefined;
  return { type, name: key.slice(slash + 1) };
}

export function encodeEvent(event: RegistryEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

export function decodeEvent(value: Buffer | null): RegistryEvent | undefined {
  if (value === null || value.length === 0) return undefined;
  return JSON.parse(value.toString('utf8')) as RegistryEvent;
}
