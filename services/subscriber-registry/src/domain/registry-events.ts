import type { DeadLetterPolicy, PartitionOffset, PushConfig, RetryPolicy } from './registry-model';

/**
 * The registry's log records. The log is compacted by key, so every record
 * carries its entity whole, as it is after the change: compaction may drop
 * any earlier record of the same key without losing state. A deletion is a
 * tombstone (a key with no value).
 *
 * Revisions are log offsets, known only once a record is written; a record
 * says `"self"` where its own offset belongs, and whoever applies it fills it in.
 */
export type RegistryEvent = TopicCreated | SubscriptionChanged | PolicySet;

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
    /**
     * Absent in records written before push existed (and by a build that knows
     * nothing of it, which reads such a record as a pull subscription).
     */
    pushConfig?: PushConfig | null;
    /** Absent (false) in records written before exactly-once delivery, and whenever it is off. */
    exactlyOnce?: boolean;
    startOffsets: PartitionOffset[];
    lastSeek: { revision: string | 'self'; offsets: PartitionOffset[]; timeMillis: number } | null;
    detached: boolean;
    createTimeMillis: number;
    createRevision: string | 'self';
  };
}

/**
 * An IAM policy set through SetIamPolicy, whole (bindings already checked and
 * normalised by the writer). Its etag is derived from the bindings and the
 * record's offset, so it is not stored. A policy is dropped with a tombstone,
 * by DeleteTopic and DeleteSubscription.
 */
export interface PolicySet {
  v: typeof recordVersion;
  type: 'policy';
  change: 'set';
  /** `herald`, `topics/<name>` or `subscriptions/<name>`. */
  resource: string;
  bindings: Array<{ role: string; members: string[] }>;
}

/** A record as written to or read from the log. */
export interface LogRecord {
  key: string;
  /** Undefined for a tombstone (a deletion). */
  event: RegistryEvent | undefined;
}

export const topicKey = (name: string) => `topic/${name}`;
export const subscriptionKey = (name: string) => `subscription/${name}`;
/** The key of the policy of `resource` (`herald`, `topics/<name>`, `subscriptions/<name>`). */
export const policyKey = (resource: string) => `iam/${resource}`;
/** The policy resource names of a topic and a subscription, as the IAM rpcs spell them. */
export const topicResource = (name: string) => `topics/${name}`;
export const subscriptionResource = (name: string) => `subscriptions/${name}`;

/** The entity a key names (for a policy: the resource name). */
export function parseKey(key: string): { type: 'topic' | 'subscription' | 'iam'; name: string } | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return undefined;
  const type = key.slice(0, slash);
  if (type !== 'topic' && type !== 'subscription' && type !== 'iam') return undefined;
  return { type, name: key.slice(slash + 1) };
}

export function encodeEvent(event: RegistryEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

/** A log record this build cannot read: another format version, or corrupt. The log skips it. */
export class UnreadableRecordError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnreadableRecordError';
  }
}

/**
 * Reads a record's value; undefined for a tombstone. Every field the state
 * reads is checked here, so that a record of another format version or a
 * corrupt one fails on its own (and is skipped) instead of throwing later,
 * inside the replay, on every instance.
 *
 * @throws UnreadableRecordError saying what is wrong.
 */
export function decodeEvent(value: Buffer | null): RegistryEvent | undefined {
  if (value === null || value.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new UnreadableRecordError(`not JSON: ${(error as Error).message}`);
  }
  const event = object('record', parsed);
  if (event.v !== recordVersion) {
    throw new UnreadableRecordError(`format version ${JSON.stringify(event.v)}; this build reads ${recordVersion}`);
  }
  if (event.type === 'topic') {
    if (event.change !== 'created')
      throw new UnreadableRecordError(`unknown topic change ${JSON.stringify(event.change)}`);
    const topic = object('topic', event.topic);
    string('topic.name', topic.name);
    for (const field of ['partitions', 'retentionMillis', 'replicationFactor', 'createTimeMillis'] as const) {
      number(`topic.${field}`, topic[field]);
    }
  } else if (event.type === 'subscription') {
    if (!subscriptionChanges.includes(event.change as SubscriptionChange)) {
      throw new UnreadableRecordError(`unknown subscription change ${JSON.stringify(event.change)}`);
    }
    const subscription = object('subscription', event.subscription);
    for (const field of ['name', 'topic', 'filter', 'createRevision'] as const) {
      string(`subscription.${field}`, subscription[field]);
    }
    number('subscription.ackDeadlineSeconds', subscription.ackDeadlineSeconds);
    number('subscription.createTimeMillis', subscription.createTimeMillis);
    const retry = object('subscription.retryPolicy', subscription.retryPolicy);
    number('subscription.retryPolicy.minimumBackoffMillis', retry.minimumBackoffMillis);
    number('subscription.retryPolicy.maximumBackoffMillis', retry.maximumBackoffMillis);
    if (subscription.deadLetterPolicy !== null) {
      const deadLetter = object('subscription.deadLetterPolicy', subscription.deadLetterPolicy);
      string('subscription.deadLetterPolicy.deadLetterTopic', deadLetter.deadLetterTopic);
      number('subscription.deadLetterPolicy.maxDeliveryAttempts', deadLetter.maxDeliveryAttempts);
    }
    if (subscription.pushConfig !== undefined && subscription.pushConfig !== null) {
      pushConfig('subscription.pushConfig', subscription.pushConfig);
    }
    boolean('subscription.enableMessageOrdering', subscription.enableMessageOrdering);
    if (subscription.exactlyOnce !== undefined) boolean('subscription.exactlyOnce', subscription.exactlyOnce);
    boolean('subscription.detached', subscription.detached);
    offsets('subscription.startOffsets', subscription.startOffsets);
    if (subscription.lastSeek !== null) {
      const seek = object('subscription.lastSeek', subscription.lastSeek);
      string('subscription.lastSeek.revision', seek.revision);
      number('subscription.lastSeek.timeMillis', seek.timeMillis);
      offsets('subscription.lastSeek.offsets', seek.offsets);
    }
  } else if (event.type === 'policy') {
    if (event.change !== 'set')
      throw new UnreadableRecordError(`unknown policy change ${JSON.stringify(event.change)}`);
    string('resource', event.resource);
    if (!Array.isArray(event.bindings)) throw new UnreadableRecordError('bindings is not a list');
    event.bindings.forEach((entry, i) => {
      const binding = object(`bindings[${i}]`, entry);
      string(`bindings[${i}].role`, binding.role);
      if (!Array.isArray(binding.members)) throw new UnreadableRecordError(`bindings[${i}].members is not a list`);
      binding.members.forEach((member, j) => string(`bindings[${i}].members[${j}]`, member));
    });
  } else {
    throw new UnreadableRecordError(`unknown record type ${JSON.stringify(event.type)}`);
  }
  return parsed as RegistryEvent;
}

const subscriptionChanges: SubscriptionChange[] = ['created', 'updated', 'seeked', 'detached'];

// Shape checks of the decoder: a handful of fields, so no schema library is pulled in for them.
function object(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UnreadableRecordError(`${field} is not an object`);
  }
  return value as Record<string, unknown>;
}
function string(field: string, value: unknown): void {
  if (typeof value !== 'string') throw new UnreadableRecordError(`${field} is not a string`);
}
function number(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new UnreadableRecordError(`${field} is not a number`);
}
function boolean(field: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new UnreadableRecordError(`${field} is not a boolean`);
}
function pushConfig(field: string, value: unknown): void {
  const config = object(field, value);
  number(`${field}.maxOutstanding`, config.maxOutstanding);
  const endpoint = object(`${field}.endpoint`, config.endpoint);
  if (endpoint.kind === 'http') {
    string(`${field}.endpoint.url`, endpoint.url);
    string(`${field}.endpoint.audience`, endpoint.audience);
    if (endpoint.mode !== 'binary' && endpoint.mode !== 'structured') {
      throw new UnreadableRecordError(`${field}.endpoint.mode is ${JSON.stringify(endpoint.mode)}`);
    }
  } else if (endpoint.kind === 'grpc') {
    string(`${field}.endpoint.target`, endpoint.target);
  } else {
    throw new UnreadableRecordError(`${field}.endpoint.kind is ${JSON.stringify(endpoint.kind)}`);
  }
}
function offsets(field: string, value: unknown): void {
  if (!Array.isArray(value)) throw new UnreadableRecordError(`${field} is not a list`);
  value.forEach((entry, i) => {
    const offset = object(`${field}[${i}]`, entry);
    number(`${field}[${i}].partition`, offset.partition);
    string(`${field}[${i}].offset`, offset.offset);
  });
}
