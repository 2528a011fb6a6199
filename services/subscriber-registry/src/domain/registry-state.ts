import { type LogRecord, parseKey, type RegistryEvent } from './registry-events';
import type { StoredPolicy, Subscription, Topic } from './registry-model';

/** What one applied record changed, as watchers see it. */
export type RegistryChange =
  | { kind: 'topic-created'; topic: Topic }
  | { kind: 'topic-deleted'; name: string }
  | { kind: 'subscription-created'; subscription: Subscription }
  | { kind: 'subscription-updated'; subscription: Subscription }
  | { kind: 'subscription-deleted'; name: string }
  | { kind: 'policy-set'; policy: StoredPolicy }
  | { kind: 'policy-dropped'; resource: string };

/** A change with the log revision and time it came from. */
export interface AppliedChange {
  revision: string;
  timeMillis: number;
  change: RegistryChange;
}

/**
 * The registry's state: what its log says, applied in log order. Last writer
 * wins per key, exactly as compaction keeps the log, so that replaying a
 * compacted log gives the same state as replaying the whole one. Rules such
 * as "first create wins" are enforced before writing, never here.
 */
export class RegistryState {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly policies = new Map<string, StoredPolicy>();
  private sortedTopicNames: string[] | undefined;
  private sortedSubscriptionNames: string[] | undefined;
  private lastRevision = '-1';

  /** The revision (log offset) of the last record applied; -1 before any. */
  get revision(): string {
    return this.lastRevision;
  }

  get topicCount(): number {
    return this.topics.size;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** Applies one log record. Returns what changed, or undefined for a record that changes nothing. */
  apply(record: LogRecord, offset: string, timeMillis: number): AppliedChange | undefined {
    this.lastRevision = offset;
    const key = parseKey(record.key);
    if (!key) return undefined;
    const change = record.event ? this.upsert(record.event, offset) : this.remove(key.type, key.name);
    return change && { revision: offset, timeMillis, change };
  }

  topic(name: string): Topic | undefined {
    return this.topics.get(name);
  }

  subscription(name: string): Subscription | undefined {
    return this.subscriptions.get(name);
  }

  /** The IAM policy set on a resource (`herald`, `topics/<name>`, `subscriptions/<name>`), if any. */
  policy(resource: string): StoredPolicy | undefined {
    return this.policies.get(resource);
  }

  get policyCount(): number {
    return this.policies.size;
  }

  /** Topics in name order, after `afterName` (exclusive), at most `limit`, only those `shown` lets through. */
  listTopics(afterName: string, limit: number, shown: (topic: Topic) => boolean = () => true): Topic[] {
    this.sortedTopicNames ??= [...this.topics.keys()].sort();
    return pageAfter(this.sortedTopicNames, afterName, limit, (name) => {
      const topic = this.topics.get(name);
      return topic && shown(topic) ? topic : undefined;
    });
  }

  /** Subscriptions in name order, optionally of one topic, after `afterName`, at most `limit`, only those `shown` lets through. */
  listSubscriptions(
    afterName: string,
    limit: number,
    topic?: string,
    shown: (subscription: Subscription) => boolean = () => true,
  ): Subscription[] {
    this.sortedSubscriptionNames ??= [...this.subscriptions.keys()].sort();
    return pageAfter(this.sortedSubscriptionNames, afterName, limit, (name) => {
      const subscription = this.subscriptions.get(name);
      return subscription && (topic === undefined || subscription.topic === topic) && shown(subscription)
        ? subscription
        : undefined;
    });
  }

  /** Every topic, subscription and policy, for Watch snapshots. */
  all(): { topics: Topic[]; subscriptions: Subscription[]; policies: StoredPolicy[] } {
    return {
      topics: [...this.topics.values()],
      subscriptions: [...this.subscriptions.values()],
      policies: [...this.policies.values()],
    };
  }

  /** Subscriptions attached to a topic (not detached). */
  subscriptionsOf(topic: string): Subscription[] {
    return [...this.subscriptions.values()].filter((s) => s.topic === topic && !s.detached);
  }

  private upsert(event: RegistryEvent, offset: string): RegistryChange {
    if (event.type === 'policy') {
      const policy: StoredPolicy = { resource: event.resource, bindings: event.bindings, revision: offset };
      this.policies.set(policy.resource, policy);
      return { kind: 'policy-set', policy };
    }
    if (event.type === 'topic') {
      if (!this.topics.has(event.topic.name)) this.sortedTopicNames = undefined;
      const topic: Topic = { ...event.topic, revision: offset };
      this.topics.set(topic.name, topic);
      return { kind: 'topic-created', topic };
    }
    const record = event.subscription;
    const existed = this.subscriptions.has(record.name);
    if (!existed) this.sortedSubscriptionNames = undefined;
    const subscription: Subscription = {
      name: record.name,
      topic: record.topic,
      ackDeadlineSeconds: record.ackDeadlineSeconds,
      retryPolicy: record.retryPolicy,
      deadLetterPolicy: record.deadLetterPolicy ?? undefined,
      pushConfig: record.pushConfig ?? undefined,
      enableExactlyOnceDelivery: record.exactlyOnce ?? false,
      enableMessageOrdering: record.enableMessageOrdering,
      filter: record.filter,
      startOffsets: record.startOffsets,
      lastSeek: record.lastSeek
        ? { ...record.lastSeek, revision: record.lastSeek.revision === 'self' ? offset : record.lastSeek.revision }
        : undefined,
      detached: record.detached,
      createTimeMillis: record.createTimeMillis,
      createRevision: record.createRevision === 'self' ? offset : record.createRevision,
      revision: offset,
    };
    this.subscriptions.set(subscription.name, subscription);
    return { kind: event.change === 'created' ? 'subscription-created' : 'subscription-updated', subscription };
  }

  private remove(type: 'topic' | 'subscription' | 'iam', name: string): RegistryChange | undefined {
    if (type === 'iam') {
      if (!this.policies.delete(name)) return undefined;
      return { kind: 'policy-dropped', resource: name };
    }
    if (type === 'topic') {
      if (!this.topics.delete(name)) return undefined;
      this.sortedTopicNames = undefined;
      return { kind: 'topic-deleted', name };
    }
    if (!this.subscriptions.delete(name)) return undefined;
    this.sortedSubscriptionNames = undefined;
    return { kind: 'subscription-deleted', name };
  }
}

function pageAfter<T>(
  sortedNames: string[],
  afterName: string,
  limit: number,
  get: (name: string) => T | undefined,
): T[] {
  let low = 0;
  let high = sortedNames.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (sortedNames[mid]! <= afterName) low = mid + 1;
    else high = mid;
  }
  const page: T[] = [];
  for (let i = low; i < sortedNames.length && page.length < limit; i++) {
    const item = get(sortedNames[i]!);
    if (item !== undefined) page.push(item);
  }
  return page;
}
