/** How topics and subscriptions look: tables for people, the proto's JSON mapping for scripts. */
import {
  CloudEventsMode,
  type Duration,
  type PartitionOffset,
  type PushConfig,
  type Subscription,
  type SubscriptionStats,
  type Topic,
  durationToMillis,
} from '@herald/api';
import { renderFields, renderTable } from './output';

/** `7d`, `1h30m`, `1.5s`, `250ms`: a duration in its largest exact units. */
export function formatDuration(millis: number | undefined): string {
  if (millis === undefined) return '';
  if (millis === 0) return '0s';
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  let rest = millis;
  let text = '';
  for (const [unit, size] of units) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return rest > 0 ? `${text}${rest}ms` : text;
}

/** An age for people: whole seconds once past one (`3m20s`), milliseconds below. */
export function formatAge(millis: number | undefined): string {
  if (millis === undefined) return '';
  return formatDuration(millis >= 1_000 ? Math.round(millis / 1_000) * 1_000 : Math.round(millis));
}

/**
 * A subscription's backlog figures from the dispatchers, or why there are
 * none: the registry answers for its settings even when no dispatcher can.
 */
export type StatsOrProblem = SubscriptionStats | { problem: string } | undefined;

/** Backlog figures in the proto3 JSON mapping (int64 as strings, durations as "12.500s"), or null. */
export function statsJson(stats: StatsOrProblem): Record<string, unknown> | null {
  if (!stats || 'problem' in stats) return null;
  return {
    numUndeliveredMessages: stats.numUndeliveredMessages,
    oldestUnackedMessageAge: stats.oldestUnackedMessageAge ? durationJson(stats.oldestUnackedMessageAge) : null,
    numAckPending: stats.numAckPending,
    openStreams: stats.openStreams,
    servedBy: stats.servedBy,
    counts: stats.counts ?? null,
  };
}

/** An ISO 8601 time without milliseconds, or empty. */
export function formatTime(time: Date | undefined): string {
  return time ? time.toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

const protoDuration = (duration: Duration | undefined) => formatDuration(durationToMillis(duration));

/** A Duration in the proto3 JSON mapping: `"604800s"`, `"1.500s"`. */
export function durationJson(duration: Duration): string {
  if (duration.nanos === 0) return `${duration.seconds}s`;
  const digits = duration.nanos % 1_000_000 === 0 ? 3 : 9;
  const fraction = String(duration.nanos).padStart(9, '0').slice(0, digits);
  return `${duration.seconds}.${fraction}s`;
}

/**
 * A topic as JSON: the proto's JSON mapping (camelCase names, int64 as
 * strings, durations like `"604800s"`), with every field present, as
 * `grpcurl -emit-defaults` shows it: scripts need not guess absent zeros.
 */
export function topicJson(topic: Topic): Record<string, unknown> {
  return {
    name: topic.name,
    partitions: topic.partitions,
    retention: topic.retention ? durationJson(topic.retention) : null,
    replicationFactor: topic.replicationFactor,
    createTime: topic.createTime?.toISOString() ?? null,
    revision: topic.revision,
  };
}

/** A subscription as JSON, as for {@link topicJson}. Output-only fields included; the input-only `start` is not. */
function pushConfigJson(config: PushConfig): Record<string, unknown> {
  const endpoint = config.endpoint;
  return {
    http:
      endpoint?.$case === 'http'
        ? {
            endpoint: endpoint.value.endpoint,
            mode: endpoint.value.mode === CloudEventsMode.CLOUD_EVENTS_MODE_STRUCTURED ? 'structured' : 'binary',
            audience: endpoint.value.audience,
          }
        : null,
    grpc: endpoint?.$case === 'grpc' ? { target: endpoint.value.target } : null,
    maxOutstanding: config.maxOutstanding,
  };
}

export function subscriptionJson(s: Subscription, stats?: StatsOrProblem): Record<string, unknown> {
  const offsets = (list: PartitionOffset[]) => list.map(({ partition, offset }) => ({ partition, offset }));
  const retry = s.retryPolicy;
  return {
    name: s.name,
    topic: s.topic,
    ackDeadlineSeconds: s.ackDeadlineSeconds,
    retryPolicy: retry
      ? {
          minimumBackoff: retry.minimumBackoff ? durationJson(retry.minimumBackoff) : null,
          maximumBackoff: retry.maximumBackoff ? durationJson(retry.maximumBackoff) : null,
        }
      : null,
    deadLetterPolicy: s.deadLetterPolicy
      ? {
          deadLetterTopic: s.deadLetterPolicy.deadLetterTopic,
          maxDeliveryAttempts: s.deadLetterPolicy.maxDeliveryAttempts,
        }
      : null,
    enableMessageOrdering: s.enableMessageOrdering,
    enableExactlyOnceDelivery: s.enableExactlyOnceDelivery,
    filter: s.filter,
    pushConfig: s.pushConfig ? pushConfigJson(s.pushConfig) : null,
    startOffsets: offsets(s.startOffsets),
    lastSeek: s.lastSeek
      ? {
          revision: s.lastSeek.revision,
          offsets: offsets(s.lastSeek.offsets),
          time: s.lastSeek.time?.toISOString() ?? null,
        }
      : null,
    detached: s.detached,
    createTime: s.createTime?.toISOString() ?? null,
    revision: s.revision,
    createRevision: s.createRevision,
    ...(stats === undefined ? {} : { stats: statsJson(stats) }),
  };
}

/** One line per topic. */
export function topicsTable(topics: readonly Topic[]): string {
  return renderTable(
    ['NAME', 'PARTITIONS', 'REPLICAS', 'RETENTION', 'CREATED'],
    topics.map((t) => [
      t.name,
      t.partitions,
      t.replicationFactor,
      protoDuration(t.retention),
      formatTime(t.createTime),
    ]),
  );
}

/** Every field of one topic. */
export function topicDetails(topic: Topic): string {
  return renderFields([
    ['name', topic.name],
    ['partitions', topic.partitions],
    ['replication factor', topic.replicationFactor],
    ['retention', protoDuration(topic.retention)],
    ['created', formatTime(topic.createTime)],
    ['revision', topic.revision],
  ]);
}

/** One line per subscription. */
export function subscriptionsTable(
  subscriptions: readonly Subscription[],
  stats: (name: string) => StatsOrProblem = () => undefined,
): string {
  return renderTable(
    [
      'NAME',
      'TOPIC',
      'ACK DEADLINE',
      'ORDERED',
      'EXACTLY ONCE',
      'FILTER',
      'DEAD LETTER',
      'STATE',
      'BACKLOG',
      'OLDEST UNACKED',
    ],
    subscriptions.map((s) => {
      const figures = stats(s.name);
      const known = figures && !('problem' in figures) ? figures : undefined;
      return [
        s.name,
        s.topic,
        `${s.ackDeadlineSeconds}s`,
        s.enableMessageOrdering ? 'yes' : 'no',
        s.enableExactlyOnceDelivery ? 'yes' : 'no',
        s.filter,
        deadLetter(s),
        s.detached ? 'detached' : 'active',
        known ? known.numUndeliveredMessages : '?',
        known ? formatAge(durationToMillis(known.oldestUnackedMessageAge)) || '-' : '?',
      ];
    }),
  );
}

/** Every field of one subscription. */
export function subscriptionDetails(s: Subscription, stats?: StatsOrProblem): string {
  const offsets = (list: Array<{ partition: number; offset: string }>) =>
    list.map((p) => `${p.partition}:${p.offset}`).join(' ');
  const retry = s.retryPolicy
    ? `${protoDuration(s.retryPolicy.minimumBackoff)} to ${protoDuration(s.retryPolicy.maximumBackoff)}`
    : 'default (1s to 1m)';
  return renderFields([
    ['name', s.name],
    ['topic', s.topic],
    ['ack deadline', `${s.ackDeadlineSeconds}s`],
    ['retry backoff', retry],
    ['dead letter', deadLetter(s) || 'none'],
    ['delivery', delivery(s)],
    ['ordered', s.enableMessageOrdering ? 'yes' : 'no'],
    ['exactly once', s.enableExactlyOnceDelivery ? 'yes (acks confirmed; never delivered again once confirmed)' : 'no'],
    ['filter', s.filter || 'none'],
    ['start offsets (partition:offset)', offsets(s.startOffsets)],
    ['last seek', s.lastSeek ? `${formatTime(s.lastSeek.time)} to ${offsets(s.lastSeek.offsets)}` : 'none'],
    ['state', s.detached ? 'detached (topic deleted)' : 'active'],
    ['created', formatTime(s.createTime)],
    ['revision', s.revision],
    ...backlogFields(stats),
  ]);
}

function backlogFields(stats: StatsOrProblem): Array<[string, string]> {
  if (stats === undefined) return [];
  if ('problem' in stats) return [['backlog', `unknown (${stats.problem})`]];
  const counts = stats.counts;
  return [
    ['backlog (not acknowledged)', stats.numUndeliveredMessages],
    ['oldest unacknowledged', formatAge(durationToMillis(stats.oldestUnackedMessageAge)) || 'none'],
    ['awaiting ack', stats.numAckPending],
    ['streams', String(stats.openStreams)],
    ['served by', stats.servedBy],
    [
      'since served there',
      counts
        ? `${counts.delivered} delivered, ${counts.acknowledged} acked, ${counts.nacked} nacked, ${counts.expired} expired, ${counts.deadLettered} dead-lettered, ${counts.filtered} filtered, ${counts.deduplicated} deduplicated`
        : '',
    ],
    ...pushFields(stats),
  ];
}

/** `pull`, or where and how it is pushed. */
function delivery(s: Subscription): string {
  const push = s.pushConfig;
  if (!push?.endpoint) return 'pull';
  const where =
    push.endpoint.$case === 'http'
      ? `${push.endpoint.value.endpoint} (CloudEvents, ${push.endpoint.value.mode === CloudEventsMode.CLOUD_EVENTS_MODE_STRUCTURED ? 'structured' : 'binary'}${push.endpoint.value.audience ? `, audience ${push.endpoint.value.audience}` : ''})`
      : `${push.endpoint.value.target} (gRPC)`;
  return `push to ${where}, at most ${push.maxOutstanding} in flight`;
}

function pushFields(stats: SubscriptionStats): Array<[string, string]> {
  const push = stats.push;
  if (!push) return [];
  return [
    [
      'push',
      `${push.state}, ${push.concurrency} of ${push.maxOutstanding} in flight allowed, ${push.inFlight} in flight`,
    ],
    [
      'push requests',
      `${push.succeeded} ok, ${push.throttled} throttled, ${push.serverErrors} server errors, ${push.timedOut} timed out, ${push.networkErrors} network errors, ${push.rejected} rejected, ${push.refused} refused`,
    ],
    ...(push.lastError ? ([['last push error', push.lastError]] as Array<[string, string]>) : []),
  ];
}

function deadLetter(s: Subscription): string {
  const policy = s.deadLetterPolicy;
  if (!policy?.deadLetterTopic) return '';
  return `${policy.deadLetterTopic} after ${policy.maxDeliveryAttempts || 5} attempts`;
}
