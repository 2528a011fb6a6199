import {
  CloudEventsMode,
  type DeadLetterPolicy as DeadLetterPolicyProto,
  type PushConfig as PushConfigProto,
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
  PushConfigInput,
  RetryPolicyInput,
  UpdateSubscriptionInput,
} from '../domain/commands';
import type { Position, PushConfig, Subscription, Topic } from '../domain/registry-model';

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
    pushConfig: subscription.pushConfig && pushConfigToProto(subscription.pushConfig),
    enableExactlyOnceDelivery: subscription.enableExactlyOnceDelivery,
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
    pushConfig: pushConfigInput(subscription.pushConfig),
    enableExactlyOnceDelivery: subscription.enableExactlyOnceDelivery,
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
    pushConfig: pushConfigInput(subscription.pushConfig),
    enableExactlyOnceDelivery: subscription.enableExactlyOnceDelivery,
  };
}

function pushConfigToProto(config: PushConfig): PushConfigProto {
  const { endpoint } = config;
  return {
    endpoint:
      endpoint.kind === 'http'
        ? {
            $case: 'http',
            value: {
              endpoint: endpoint.url,
              mode:
                endpoint.mode === 'structured'
                  ? CloudEventsMode.CLOUD_EVENTS_MODE_STRUCTURED
                  : CloudEventsMode.CLOUD_EVENTS_MODE_BINARY,
              audience: endpoint.audience,
            },
          }
        : { $case: 'grpc', value: { target: endpoint.target } },
    maxOutstanding: config.maxOutstanding,
  };
}

function pushConfigInput(config: PushConfigProto | undefined): PushConfigInput | undefined {
  if (!config) return undefined;
  const endpoint = config.endpoint;
  let mode: 'binary' | 'structured' = 'binary';
  if (endpoint?.$case === 'http') {
    switch (endpoint.value.mode) {
      case CloudEventsMode.CLOUD_EVENTS_MODE_UNSPECIFIED:
      case CloudEventsMode.CLOUD_EVENTS_MODE_BINARY:
        break;
      case CloudEventsMode.CLOUD_EVENTS_MODE_STRUCTURED:
        mode = 'structured';
        break;
      default:
        throw new InvalidArgumentError('subscription.push_config.http.mode', `unknown mode ${endpoint.value.mode}`);
    }
  }
  return {
    endpoint:
      endpoint?.$case === 'http'
        ? { kind: 'http', url: endpoint.value.endpoint, mode, audience: endpoint.value.audience }
        : endpoint?.$case === 'grpc'
          ? { kind: 'grpc', target: endpoint.value.target }
          : undefined,
    maxOutstanding: config.maxOutstanding,
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
