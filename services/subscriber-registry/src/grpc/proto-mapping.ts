import {
  type DeadLetterPolicy as DeadLetterPolicyProto,
  durationToMillis,
  millisToDuration,
  Position as PositionProto,
  type RetryPolicy as RetryPolicyProto,
  type Subscription as SubscriptionProto,
  type Topic as TopicProto,
} from '@herald/api';
import { InvalidArgumentError } from '@herald/errors';
import type {
  CreateSubscriptionInput,
  CreateTopicInput,
  DeadLetterPolicyInput,
  RetryPolicyInput,
  UpdateSubscriptionInput,
} from '../domain/commands';
import type { Position, Subscription, Topic } from '../domain/registry-model';

// Proto to domain and back, and nothing else: no rules live here.

export function topicToProto(topic: Topic): TopicProto {
  return {
    name: topic.name,
    partitions: topic.partitions,
    retention: millisToDuration(topic.retentionMillis),
    replicationFactor: topic.replicationFactor,
    createTime: new Date(topic.createTimeMillis),
    revision: topic.revision,
  };
}

export function subscriptionToProto(subscription: Subscription): SubscriptionProto {
  return {
    name: subscription.name,
    topic: subscription.topic,
    ackDeadlineSeconds: subscription.ackDeadlineSeconds,
    retryPolicy: {
      minimumBackoff: millisToDuration(subscription.retryPolicy.minimumBackoffMillis),
      maximumBackoff: millisToDuration(subscription.retryPolicy.maximumBackoffMillis),
    },
    deadLetterPolicy: subscription.deadLetterPolicy && {
      deadLetterTopic: subscription.deadLetterPolicy.deadLetterTopic,
      maxDeliveryAttempts: subscription.deadLetterPolicy.maxDeliveryAttempts,
    },
    enableMessageOrdering: subscription.enableMessageOrdering,
    filter: subscription.filter,
    start: undefined,
    startOffsets: subscription.startOffsets,
    lastSeek: subscription.lastSeek && {
      revision: subscription.lastSeek.revision,
      offsets: subscription.lastSeek.offsets,
      time: new Date(subscription.lastSeek.timeMillis),
    },
    detached: subscription.detached,
    createTime: new Date(subscription.createTimeMillis),
    revision: subscription.revision,
    createRevision: subscription.createRevision,
  };
}

export function createTopicInput(topic: TopicProto | undefined): CreateTopicInput {
  if (!topic) throw new InvalidArgumentError('topic', 'is required');
  return { name: topic.name, partitions: topic.partitions, retentionMillis: durationToMillis(topic.retention) };
}

export function createSubscriptionInput(subscription: SubscriptionProto | undefined): CreateSubscriptionInput {
  if (!subscription) throw new InvalidArgumentError('subscription', 'is required');
  let start: Position = { kind: 'latest' };
  if (subscription.start?.$case === 'startTime')
    start = { kind: 'time', timeMillis: subscription.start.value.getTime() };
  else if (subscription.start?.$case === 'startPosition') {
    start = positionFromProto('subscription.start_position', subscription.start.value) ?? { kind: 'latest' };
  }
  return {
    name: subscription.name,
    topic: subscription.topic,
    ackDeadlineSeconds: subscription.ackDeadlineSeconds,
    retryPolicy: retryPolicyInput(subscription.retryPolicy),
    deadLetterPolicy: deadLetterPolicyInput(subscription.deadLetterPolicy),
    enableMessageOrdering: subscription.enableMessageOrdering,
    filter: subscription.filter,
    start,
  };
}

export function updateSubscriptionInput(
  subscription: SubscriptionProto | undefined,
  paths: string[] | undefined,
): UpdateSubscriptionInput {
  if (!subscription) throw new InvalidArgumentError('subscription', 'is required');
  if (!paths) throw new InvalidArgumentError('update_mask', 'is required');
  return {
    name: subscription.name,
    paths,
    ackDeadlineSeconds: subscription.ackDeadlineSeconds,
    retryPolicy: retryPolicyInput(subscription.retryPolicy),
    deadLetterPolicy: deadLetterPolicyInput(subscription.deadLetterPolicy),
  };
}

/** A Seek, Tail or start position; undefined for UNSPECIFIED. */
export function positionFromProto(field: string, position: PositionProto): Position | undefined {
  switch (position) {
    case PositionProto.POSITION_UNSPECIFIED:
      return undefined;
    case PositionProto.POSITION_LATEST:
      return { kind: 'latest' };
    case PositionProto.POSITION_EARLIEST:
      return { kind: 'earliest' };
    default:
      throw new InvalidArgumentError(field, `unknown position ${position}`);
  }
}

function retryPolicyInput(policy: RetryPolicyProto | undefined): RetryPolicyInput | undefined {
  if (!policy) return undefined;
  return {
    minimumBackoffMillis: durationToMillis(policy.minimumBackoff),
    maximumBackoffMillis: durationToMillis(policy.maximumBackoff),
  };
}

function deadLetterPolicyInput(policy: DeadLetterPolicyProto | undefined): DeadLetterPolicyInput | undefined {
  if (!policy) return undefined;
  return { deadLetterTopic: policy.deadLetterTopic, maxDeliveryAttempts: policy.maxDeliveryAttempts };
}
