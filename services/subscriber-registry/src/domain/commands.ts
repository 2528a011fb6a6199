import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@herald/errors';
import {
  isRestrictedAddress,
  parseGrpcPushTarget,
  parseHttpPushEndpoint,
  type PushAddress,
  pushEndpointMaxLength,
} from '@herald/resource-names';
import {
  type LogRecord,
  policyKey,
  recordVersion,
  subscriptionResource,
  topicResource,
  type SubscriptionChange,
  type SubscriptionChanged,
  subscriptionKey,
  topicKey,
} from './registry-events';
import { RegistryLimits as L } from './registry-limits';
import type {
  DeadLetterPolicy,
  PartitionOffset,
  Position,
  PushConfig,
  PushEndpoint,
  RetryPolicy,
  Subscription,
} from './registry-model';
import type { RegistryState } from './registry-state';
import { validateFilter, validateName, validateRange, validateTime } from './validation';

/**
 * Commands turn a request and the current state into log records, or throw a
 * typed error. They run after the writer has caught up with the log, so the
 * state they check is the latest; they touch neither Kafka nor gRPC.
 */

export interface TopicDefaults {
  partitions: number;
  retentionMillis: number;
}

export interface CreateTopicInput {
  name: string;
  /** 0 means the default. */
  partitions: number;
  /** Undefined means the default. */
  retentionMillis: number | undefined;
}

/** Validated settings of a new topic (its replication factor comes from Kafka). */
export interface NewTopic {
  name: string;
  partitions: number;
  retentionMillis: number;
}

export function planCreateTopic(state: RegistryState, input: CreateTopicInput, defaults: TopicDefaults): NewTopic {
  validateName('topic.name', input.name);
  const partitions = input.partitions === 0 ? defaults.partitions : input.partitions;
  validateRange('topic.partitions', partitions, 1, L.partitionsMax);
  const retentionMillis = input.retentionMillis ?? defaults.retentionMillis;
  if (!(retentionMillis >= L.retentionMinMillis && retentionMillis <= L.retentionMaxMillis)) {
    throw new InvalidArgumentError('topic.retention', 'must be between 1 minute and 3650 days');
  }
  if (state.topic(input.name)) throw new AlreadyExistsError('topic', input.name);
  return { name: input.name, partitions, retentionMillis };
}

export function topicCreatedRecord(topic: NewTopic, replicationFactor: number, nowMillis: number): LogRecord {
  return {
    key: topicKey(topic.name),
    event: {
      v: recordVersion,
      type: 'topic',
      change: 'created',
      topic: { ...topic, replicationFactor, createTimeMillis: nowMillis },
    },
  };
}

/**
 * The topic's tombstone, its policy's (a topic created later under the same
 * name starts without one), and every subscription of it marked detached.
 */
export function planDeleteTopic(state: RegistryState, name: string): LogRecord[] {
  if (!state.topic(name)) throw new NotFoundError('topic', name);
  return [
    { key: topicKey(name), event: undefined },
    ...policyTombstone(state, topicResource(name)),
    ...state.subscriptionsOf(name).map((s) => subscriptionRecord({ ...s, detached: true }, 'detached')),
  ];
}

function policyTombstone(state: RegistryState, resource: string): LogRecord[] {
  return state.policy(resource) ? [{ key: policyKey(resource), event: undefined }] : [];
}

/** What an IAM policy is attached to, as the domain sees it. */
export type PolicyTarget = { kind: 'herald' } | { kind: 'topic' | 'subscription'; name: string };

/** The resource name of a policy's target: `herald`, `topics/<name>`, `subscriptions/<name>`. */
export function policyResource(target: PolicyTarget): string {
  if (target.kind === 'herald') return 'herald';
  return target.kind === 'topic' ? topicResource(target.name) : subscriptionResource(target.name);
}

/**
 * The record that sets a policy: its topic or subscription must exist (a
 * policy waiting for a resource that someone creates later would grant
 * rights on something its setter never saw). Bindings come checked and
 * normalised; the etag is checked by the writer against the same state.
 */
export function planSetPolicy(
  state: RegistryState,
  target: PolicyTarget,
  bindings: Array<{ role: string; members: string[] }>,
): LogRecord {
  if (target.kind === 'topic' && !state.topic(target.name)) throw new NotFoundError('topic', target.name, 'resource');
  if (target.kind === 'subscription' && !state.subscription(target.name)) {
    throw new NotFoundError('subscription', target.name, 'resource');
  }
  const resource = policyResource(target);
  return { key: policyKey(resource), event: { v: recordVersion, type: 'policy', change: 'set', resource, bindings } };
}

export interface RetryPolicyInput {
  minimumBackoffMillis: number | undefined;
  maximumBackoffMillis: number | undefined;
}

export interface DeadLetterPolicyInput {
  deadLetterTopic: string;
  /** 0 means the default. */
  maxDeliveryAttempts: number;
}

/** A push configuration as requested; checked by {@link validatePushConfig}. */
export interface PushConfigInput {
  endpoint: PushEndpoint | undefined;
  /** 0 means the default. */
  maxOutstanding: number;
}

/** What push endpoints this registry accepts. */
export interface PushRules {
  /** http:// URLs and plaintext gRPC (grpc://) targets. */
  allowInsecure: boolean;
  /** Endpoints whose host is a literal loopback, private or link-local address. */
  allowPrivate: boolean;
}

/** Only TLS endpoints on public addresses: the rules when nothing else is configured. */
export const strictPushRules: PushRules = { allowInsecure: false, allowPrivate: false };

export interface CreateSubscriptionInput {
  name: string;
  topic: string;
  /** 0 means the default. */
  ackDeadlineSeconds: number;
  retryPolicy: RetryPolicyInput | undefined;
  deadLetterPolicy: DeadLetterPolicyInput | undefined;
  enableMessageOrdering: boolean;
  filter: string;
  start: Position;
  /** Undefined for a pull subscription. */
  pushConfig?: PushConfigInput | undefined;
  /** @defaultValue false */
  enableExactlyOnceDelivery?: boolean;
}

/** A validated new subscription, waiting for its start offsets. */
export type NewSubscription = Omit<
  Subscription,
  'startOffsets' | 'lastSeek' | 'detached' | 'createTimeMillis' | 'createRevision' | 'revision'
> & { start: Position; topicPartitions: number };

export function planCreateSubscription(
  state: RegistryState,
  input: CreateSubscriptionInput,
  pushRules: PushRules = strictPushRules,
): NewSubscription {
  validateName('subscription.name', input.name);
  validateName('subscription.topic', input.topic);
  const ackDeadlineSeconds = validateAckDeadline(input.ackDeadlineSeconds);
  const retryPolicy = validateRetryPolicy(input.retryPolicy);
  const deadLetterPolicy = validateDeadLetterPolicy(state, input.deadLetterPolicy);
  validateFilter('subscription.filter', input.filter);
  const pushConfig = input.pushConfig && validatePushConfig(input.pushConfig, pushRules);
  const enableExactlyOnceDelivery = input.enableExactlyOnceDelivery ?? false;
  validateDeliveryMode(pushConfig, enableExactlyOnceDelivery);
  if (input.start.kind === 'time') validateTime('subscription.start_time', input.start.timeMillis);
  const topic = state.topic(input.topic);
  if (!topic) throw new NotFoundError('topic', input.topic, 'subscription.topic');
  if (state.subscription(input.name)) throw new AlreadyExistsError('subscription', input.name);
  return {
    name: input.name,
    topic: input.topic,
    ackDeadlineSeconds,
    retryPolicy,
    deadLetterPolicy,
    enableMessageOrdering: input.enableMessageOrdering,
    filter: input.filter,
    pushConfig,
    enableExactlyOnceDelivery,
    start: input.start,
    topicPartitions: topic.partitions,
  };
}

export function subscriptionCreatedRecord(
  subscription: NewSubscription,
  startOffsets: PartitionOffset[],
  nowMillis: number,
): LogRecord {
  return subscriptionRecord(
    {
      ...subscription,
      startOffsets,
      lastSeek: undefined,
      detached: false,
      createTimeMillis: nowMillis,
      createRevision: 'self',
      revision: 'self',
    },
    'created',
  );
}

/** The fields UpdateSubscription may change. */
export const updatableSubscriptionFields = [
  'ack_deadline_seconds',
  'retry_policy',
  'dead_letter_policy',
  'push_config',
  'enable_exactly_once_delivery',
] as const;

export interface UpdateSubscriptionInput {
  name: string;
  /** Field mask paths, in proto names. */
  paths: string[];
  ackDeadlineSeconds: number;
  retryPolicy: RetryPolicyInput | undefined;
  deadLetterPolicy: DeadLetterPolicyInput | undefined;
  /** With the path `push_config`: the new push configuration, or undefined to switch to pull. */
  pushConfig?: PushConfigInput | undefined;
  /** With the path `enable_exactly_once_delivery`. */
  enableExactlyOnceDelivery?: boolean;
}

export function planUpdateSubscription(
  state: RegistryState,
  input: UpdateSubscriptionInput,
  pushRules: PushRules = strictPushRules,
): LogRecord {
  validateName('subscription.name', input.name);
  if (input.paths.length === 0) throw new InvalidArgumentError('update_mask', 'must name at least one field');
  for (const path of input.paths) {
    if (!(updatableSubscriptionFields as readonly string[]).includes(path)) {
      throw new InvalidArgumentError(
        'update_mask',
        `"${path}" cannot be updated; updatable fields are ${updatableSubscriptionFields.join(', ')}`,
      );
    }
  }
  const current = existingSubscription(state, input.name);
  const updated: Subscription = { ...current };
  if (input.paths.includes('ack_deadline_seconds'))
    updated.ackDeadlineSeconds = validateAckDeadline(input.ackDeadlineSeconds);
  if (input.paths.includes('retry_policy')) updated.retryPolicy = validateRetryPolicy(input.retryPolicy);
  if (input.paths.includes('dead_letter_policy')) {
    updated.deadLetterPolicy = validateDeadLetterPolicy(state, input.deadLetterPolicy);
  }
  if (input.paths.includes('push_config')) {
    updated.pushConfig = input.pushConfig && validatePushConfig(input.pushConfig, pushRules);
  }
  if (input.paths.includes('enable_exactly_once_delivery')) {
    updated.enableExactlyOnceDelivery = input.enableExactlyOnceDelivery ?? false;
  }
  validateDeliveryMode(updated.pushConfig, updated.enableExactlyOnceDelivery);
  return subscriptionRecord(updated, 'updated');
}

/**
 * Exactly-once delivery answers acks on a StreamingPull stream; a push
 * endpoint's answer is an HTTP status with nobody to confirm it to.
 */
function validateDeliveryMode(pushConfig: PushConfig | undefined, exactlyOnce: boolean): void {
  if (pushConfig && exactlyOnce) {
    throw new InvalidArgumentError(
      'subscription.enable_exactly_once_delivery',
      'is for pull subscriptions only; this one has a push_config',
    );
  }
}

/** The subscription's tombstone, and its policy's. */
export function planDeleteSubscription(state: RegistryState, name: string): LogRecord[] {
  validateName('name', name);
  existingSubscription(state, name);
  return [{ key: subscriptionKey(name), event: undefined }, ...policyTombstone(state, subscriptionResource(name))];
}

/** The subscription to seek, checked. */
export function planSeek(state: RegistryState, name: string, target: Position | undefined): Subscription {
  validateName('subscription', name);
  if (!target) throw new InvalidArgumentError('target', 'one of position or time is required');
  if (target.kind === 'time') validateTime('time', target.timeMillis);
  const subscription = existingSubscription(state, name);
  if (subscription.detached) {
    throw new FailedPreconditionError(`subscription "${name}" is detached: its topic was deleted`);
  }
  return subscription;
}

export function seekRecord(subscription: Subscription, offsets: PartitionOffset[], nowMillis: number): LogRecord {
  return subscriptionRecord(
    { ...subscription, lastSeek: { revision: 'self', offsets, timeMillis: nowMillis } },
    'seeked',
  );
}

function existingSubscription(state: RegistryState, name: string): Subscription {
  const subscription = state.subscription(name);
  if (!subscription) throw new NotFoundError('subscription', name);
  return subscription;
}

function validateAckDeadline(seconds: number): number {
  if (seconds === 0) return L.ackDeadlineDefaultSeconds;
  validateRange('subscription.ack_deadline_seconds', seconds, L.ackDeadlineMinSeconds, L.ackDeadlineMaxSeconds, ' s');
  return seconds;
}

function validateRetryPolicy(input: RetryPolicyInput | undefined): RetryPolicy {
  // A default never contradicts what the caller did set: a minimum alone raises the default maximum,
  // a maximum alone lowers the default minimum.
  const maximumGiven = input?.maximumBackoffMillis;
  const minimumBackoffMillis =
    input?.minimumBackoffMillis ?? Math.min(L.minimumBackoffDefaultMillis, maximumGiven ?? Infinity);
  const maximumBackoffMillis = maximumGiven ?? Math.max(L.maximumBackoffDefaultMillis, minimumBackoffMillis);
  for (const [field, value] of [
    ['subscription.retry_policy.minimum_backoff', minimumBackoffMillis],
    ['subscription.retry_policy.maximum_backoff', maximumBackoffMillis],
  ] as const) {
    if (!(value >= 0 && value <= L.backoffMaxMillis)) {
      throw new InvalidArgumentError(field, `must be between 0 and 600 seconds, not ${value / 1000} s`);
    }
  }
  if (minimumBackoffMillis > maximumBackoffMillis) {
    throw new InvalidArgumentError('subscription.retry_policy', 'minimum_backoff must not exceed maximum_backoff');
  }
  return { minimumBackoffMillis, maximumBackoffMillis };
}

function validateDeadLetterPolicy(
  state: RegistryState,
  input: DeadLetterPolicyInput | undefined,
): DeadLetterPolicy | undefined {
  if (!input) return undefined;
  validateName('subscription.dead_letter_policy.dead_letter_topic', input.deadLetterTopic);
  const maxDeliveryAttempts =
    input.maxDeliveryAttempts === 0 ? L.maxDeliveryAttemptsDefault : input.maxDeliveryAttempts;
  validateRange(
    'subscription.dead_letter_policy.max_delivery_attempts',
    maxDeliveryAttempts,
    L.maxDeliveryAttemptsMin,
    L.maxDeliveryAttemptsMax,
  );
  if (!state.topic(input.deadLetterTopic)) {
    throw new NotFoundError('topic', input.deadLetterTopic, 'subscription.dead_letter_policy.dead_letter_topic');
  }
  return { deadLetterTopic: input.deadLetterTopic, maxDeliveryAttempts };
}

/** Most requests in flight to one push endpoint, when the subscription does not say. */
export const pushMaxOutstandingDefault = 100;
const pushMaxOutstandingMax = 1000;

/**
 * A push configuration: an https endpoint (http and plaintext gRPC only where
 * allowed), and no literal private address unless allowed. A host name is
 * resolved by the dispatcher on every connection, which refuses private
 * addresses again there: the name may point anywhere later.
 */
export function validatePushConfig(input: PushConfigInput, rules: PushRules): PushConfig {
  const field = 'subscription.push_config';
  const maxOutstanding = input.maxOutstanding === 0 ? pushMaxOutstandingDefault : input.maxOutstanding;
  validateRange(`${field}.max_outstanding`, maxOutstanding, 1, pushMaxOutstandingMax);
  const endpoint = input.endpoint;
  if (!endpoint) throw new InvalidArgumentError(field, 'needs one of http or grpc');
  let address: PushAddress;
  let endpointField: string;
  if (endpoint.kind === 'http') {
    endpointField = `${field}.http.endpoint`;
    address = parseHttpPushEndpoint(endpointField, endpoint.url, rules.allowInsecure);
    if (endpoint.audience.length > pushEndpointMaxLength) {
      throw new InvalidArgumentError(
        `${field}.http.audience`,
        `is ${endpoint.audience.length} characters; the limit is ${pushEndpointMaxLength}`,
      );
    }
  } else {
    endpointField = `${field}.grpc.target`;
    address = parseGrpcPushTarget(endpointField, endpoint.target, rules.allowInsecure);
  }
  if (!rules.allowPrivate && (address.host === 'localhost' || isRestrictedAddress(address.host))) {
    throw new InvalidArgumentError(
      endpointField,
      `${address.host} is a loopback, private or link-local address; push endpoints must be public`,
    );
  }
  return { endpoint: { ...endpoint }, maxOutstanding };
}

type SubscriptionForRecord = Omit<Subscription, 'createRevision' | 'revision'> & {
  createRevision: string | 'self';
  revision: string | 'self';
};

/** A subscription as a log record: whole, so compaction can drop its earlier records. */
export function subscriptionRecord(subscription: SubscriptionForRecord, change: SubscriptionChange): LogRecord {
  const event: SubscriptionChanged = {
    v: recordVersion,
    type: 'subscription',
    change,
    subscription: {
      name: subscription.name,
      topic: subscription.topic,
      ackDeadlineSeconds: subscription.ackDeadlineSeconds,
      retryPolicy: subscription.retryPolicy,
      deadLetterPolicy: subscription.deadLetterPolicy ?? null,
      enableMessageOrdering: subscription.enableMessageOrdering,
      filter: subscription.filter,
      pushConfig: subscription.pushConfig ?? null,
      ...(subscription.enableExactlyOnceDelivery ? { exactlyOnce: true } : {}),
      startOffsets: subscription.startOffsets,
      lastSeek: subscription.lastSeek ?? null,
      detached: subscription.detached,
      createTimeMillis: subscription.createTimeMillis,
      createRevision: subscription.createRevision,
    },
  };
  return { key: subscriptionKey(subscription.name), event };
}
