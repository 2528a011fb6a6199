import { Position, type ReceivedMessage, type Subscription, type Topic, durationToMillis } from '@herald/api';

/** The JSON the page reads: plain numbers, ISO times and names rather than protobuf's shapes. */
export function topicView(topic: Topic, subscriptions: number) {
  return {
    name: topic.name,
    partitions: topic.partitions,
    replicationFactor: topic.replicationFactor,
    retentionMillis: durationToMillis(topic.retention) ?? null,
    createTime: topic.createTime?.toISOString() ?? null,
    revision: topic.revision,
    subscriptions,
  };
}

export function subscriptionView(s: Subscription) {
  let start: string;
  if (s.start?.$case === 'startTime') start = s.start.value.toISOString();
  else start = s.start?.value === Position.POSITION_EARLIEST ? 'earliest' : 'latest';
  return {
    name: s.name,
    topic: s.topic,
    ackDeadlineSeconds: s.ackDeadlineSeconds,
    retryPolicy: s.retryPolicy
      ? {
          minimumBackoffMillis: durationToMillis(s.retryPolicy.minimumBackoff) ?? 0,
          maximumBackoffMillis: durationToMillis(s.retryPolicy.maximumBackoff) ?? 0,
        }
      : null,
    deadLetterPolicy: s.deadLetterPolicy?.deadLetterTopic
      ? {
          deadLetterTopic: s.deadLetterPolicy.deadLetterTopic,
          maxDeliveryAttempts: s.deadLetterPolicy.maxDeliveryAttempts,
        }
      : null,
    enableMessageOrdering: s.enableMessageOrdering,
    enableExactlyOnceDelivery: s.enableExactlyOnceDelivery,
    filter: s.filter,
    start,
    startOffsets: s.startOffsets.map((o) => ({ partition: o.partition, offset: o.offset })),
    lastSeek: s.lastSeek
      ? {
          revision: s.lastSeek.revision,
          time: s.lastSeek.time?.toISOString() ?? null,
          offsets: s.lastSeek.offsets.map((o) => ({ partition: o.partition, offset: o.offset })),
        }
      : null,
    detached: s.detached,
    createTime: s.createTime?.toISOString() ?? null,
    revision: s.revision,
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A message with its data as text when it is UTF-8, else base64. */
export function messageView(m: ReceivedMessage) {
  let data: string;
  let dataEncoding: 'utf8' | 'base64' = 'utf8';
  try {
    data = utf8.decode(m.data);
  } catch {
    data = Buffer.from(m.data).toString('base64');
    dataEncoding = 'base64';
  }
  return {
    messageId: m.messageId,
    publishTime: m.publishTime?.toISOString() ?? null,
    attributes: m.attributes,
    orderingKey: m.orderingKey,
    deliveryAttempt: m.deliveryAttempt,
    size: m.data.length,
    data,
    dataEncoding,
  };
}
