import { randomUUID } from 'node:crypto';
import { AbortedError, InvalidArgumentError, isRetryable, NotFoundError, UnavailableError } from '@herald/errors';
import {
  type Policy,
  type PolicySource,
  type Resource,
  absentPolicyEtag,
  normalizeBindings,
  parseResourceName,
  policyEtag,
  resourceName,
} from '@herald/grpc-server';
import type { KafkaNames, PartitionOffset, TopicAdmin } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { backoffMillis } from '@herald/retry';
import { ChangeFeed } from './domain/change-feed';
import {
  type CreateSubscriptionInput,
  type CreateTopicInput,
  planCreateSubscription,
  type PushRules,
  strictPushRules,
  planCreateTopic,
  planDeleteSubscription,
  planDeleteTopic,
  planSeek,
  planSetPolicy,
  planUpdateSubscription,
  seekRecord,
  subscriptionCreatedRecord,
  type TopicDefaults,
  topicCreatedRecord,
  type UpdateSubscriptionInput,
} from './domain/commands';
import { decodePageToken, encodePageToken } from './domain/page-token';
import type { LogRecord } from './domain/registry-events';
import { RegistryLimits } from './domain/registry-limits';
import type { Position, StoredPolicy, Subscription, Topic } from './domain/registry-model';
import { RegistryState } from './domain/registry-state';
import { validateName, validateRange } from './domain/validation';
import type { ReadRecord, RegistryLog } from './log/registry-log';

/** Largest record batch a Herald topic accepts. */
export const maxRecordBatchBytes = 64 * 1024 * 1024;

/** Options of {@link RegistryService}. */
export interface RegistryServiceOptions {
  log: RegistryLog;
  admin: TopicAdmin;
  names: KafkaNames;
  logger: Logger;
  topicDefaults: TopicDefaults;
  /** Replication factor of new Kafka topics; 0 means min(3, brokers). */
  replicationFactor: number;
  /** A write that cannot complete in this time fails with UNAVAILABLE. */
  writeTimeoutMillis: number;
  /** Which push endpoints subscriptions may name; only https on public addresses when unset. */
  pushRules?: PushRules;
}

/** One page of a list. */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

interface WritePlan<T> {
  records: LogRecord[];
  /** The answer, read from the state once the records are applied. */
  result: (state: RegistryState) => T;
  /** Side effects once the records are in the log (creating or deleting Kafka topics). */
  afterCommit?: () => Promise<void>;
}

/**
 * The registry's use cases. Reads answer from the local state; writes go
 * through the log one at a time (see RegistryLog) and return once this
 * instance has applied them, so a caller reads its own writes.
 */
export class RegistryService implements PolicySource {
  readonly state = new RegistryState();
  private readonly etags = new WeakMap<StoredPolicy, string>();
  private readonly policyListeners: Array<() => void> = [];
  readonly feed = new ChangeFeed();
  private readonly appliedCommands = new Map<string, bigint>();
  private writeQueue: Promise<unknown> = Promise.resolve();
  /** How long the last start took to replay the log, or undefined before it finished. */
  replayMillis: number | undefined;

  constructor(private readonly options: RegistryServiceOptions) {}

  /** Replays the log; resolves when the state is current. Then reconciles Kafka topics with it. */
  async start(): Promise<void> {
    const started = Date.now();
    const kafkaTopicsBefore = await this.options.admin.listTopics();
    await this.options.log.start((record) => this.apply(record));
    this.replayMillis = Date.now() - started;
    this.options.logger.info(
      {
        revision: this.state.revision,
        topics: this.state.topicCount,
        subscriptions: this.state.subscriptionCount,
        replayMillis: this.replayMillis,
      },
      'registry state replayed from the log',
    );
    await this.reconcileKafkaTopics(kafkaTopicsBefore);
  }

  // Reads.

  getTopic(name: string): Topic {
    validateName('name', name);
    const topic = this.state.topic(name);
    if (!topic) throw new NotFoundError('topic', name);
    return topic;
  }

  /** A page of the topics `shown` lets through (those the caller may see). */
  listTopics(pageSize: number, pageToken: string, shown?: (topic: Topic) => boolean): Page<Topic> {
    const limit = pageLimit(pageSize);
    const after = decodePageToken('topics', pageToken);
    const items = this.state.listTopics(after, limit + 1, shown);
    return page(items, limit, (last) => encodePageToken('topics', last.name));
  }

  getSubscription(name: string): Subscription {
    validateName('name', name);
    const subscription = this.state.subscription(name);
    if (!subscription) throw new NotFoundError('subscription', name);
    return subscription;
  }

  /** A page of the subscriptions `shown` lets through, optionally of one topic. */
  listSubscriptions(
    pageSize: number,
    pageToken: string,
    topic: string,
    shown?: (subscription: Subscription) => boolean,
  ): Page<Subscription> {
    if (topic !== '') validateName('topic', topic);
    const limit = pageLimit(pageSize);
    const list = `subscriptions:${topic}`;
    const after = decodePageToken(list, pageToken);
    const items = this.state.listSubscriptions(after, limit + 1, topic === '' ? undefined : topic, shown);
    return page(items, limit, (last) => encodePageToken(list, last.name));
  }

  /** The policy set on a resource through SetIamPolicy, with its etag: what this instance checks calls against. */
  policy(resource: Resource): Policy | undefined {
    const stored = this.state.policy(resourceName(resource));
    return stored && { bindings: stored.bindings as Policy['bindings'], etag: this.etagOf(stored) };
  }

  /** Calls `listener` after each policy change is applied, so that the open streams are checked again. */
  onChange(listener: () => void): void {
    this.policyListeners.push(listener);
  }

  /** The etag of a policy as the log holds it (computed once per version: every check reads it). */
  etagOf(stored: StoredPolicy): string {
    let etag = this.etags.get(stored);
    if (etag === undefined) {
      etag = policyEtag(stored.bindings as Policy['bindings'], stored.revision);
      this.etags.set(stored, etag);
    }
    return etag;
  }

  /**
   * GetIamPolicy: the policy of a resource (no bindings when none is set), with its etag; NOT_FOUND for a
   * topic or subscription that does not exist, as SetIamPolicy answers (the caller holds iam.get there).
   */
  getPolicy(name: string): Policy {
    const resource = checkedResource(name);
    if (resource.kind === 'topic' && !this.state.topic(resource.name)) {
      throw new NotFoundError('topic', resource.name, 'resource');
    }
    if (resource.kind === 'subscription' && !this.state.subscription(resource.name)) {
      throw new NotFoundError('subscription', resource.name, 'resource');
    }
    return this.policy(resource) ?? { bindings: [], etag: absentPolicyEtag };
  }

  /**
   * SetIamPolicy: replaces a resource's policy, unless `etag` is given and is
   * no longer the current one (someone changed the policy since the caller
   * read it): then ABORTED, and nothing changes. The etag is compared on the
   * writer, after catching up with the log, so two concurrent edits through
   * two instances cannot both pass.
   */
  setPolicy(name: string, bindings: Array<{ role: string; members: string[] }>, etag: string): Promise<Policy> {
    const resource = checkedResource(name);
    const normalized = normalizeBindings(bindings);
    return this.write(async (state) => {
      const current = this.policy(resource)?.etag ?? absentPolicyEtag;
      if (etag !== '' && etag !== current) {
        throw new AbortedError(
          `the policy of ${name} changed since it was read (etag ${etag}, now ${current}): read it again and reapply the change`,
        );
      }
      return {
        records: [planSetPolicy(state, resource, normalized)],
        result: () => this.policy(resource)!,
      };
    });
  }

  // Writes.

  createTopic(input: CreateTopicInput): Promise<Topic> {
    return this.write(async (state) => {
      const topic = planCreateTopic(state, input, this.options.topicDefaults);
      const replicationFactor = await this.options.admin.effectiveReplicationFactor(this.options.replicationFactor);
      return {
        records: [topicCreatedRecord(topic, replicationFactor, Date.now())],
        result: (after) => after.topic(topic.name)!,
        afterCommit: () => this.ensureKafkaTopic(after(this.state.topic(topic.name))),
      };
    });
  }

  deleteTopic(name: string): Promise<void> {
    validateName('name', name);
    return this.write(async (state) => ({
      records: planDeleteTopic(state, name),
      result: () => undefined,
      afterCommit: () => this.options.admin.deleteTopic(this.options.names.topic(name)),
    }));
  }

  createSubscription(input: CreateSubscriptionInput): Promise<Subscription> {
    return this.write(async (state) => {
      const subscription = planCreateSubscription(state, input, this.options.pushRules ?? strictPushRules);
      const startOffsets = await this.offsetsAt(subscription.topic, subscription.start);
      return {
        records: [subscriptionCreatedRecord(subscription, startOffsets, Date.now())],
        result: (after) => after.subscription(subscription.name)!,
      };
    });
  }

  updateSubscription(input: UpdateSubscriptionInput): Promise<Subscription> {
    return this.write(async (state) => ({
      records: [planUpdateSubscription(state, input, this.options.pushRules ?? strictPushRules)],
      result: (after) => after.subscription(input.name)!,
    }));
  }

  deleteSubscription(name: string): Promise<void> {
    return this.write(async (state) => ({
      records: planDeleteSubscription(state, name),
      result: () => undefined,
      // Committed positions of the old subscription must not outlive it (dispatchers also check create_revision).
      afterCommit: () => this.options.admin.deleteGroup(this.options.names.subscriptionGroup(name)),
    }));
  }

  seek(name: string, target: Position | undefined): Promise<Subscription> {
    return this.write(async (state) => {
      const subscription = planSeek(state, name, target);
      const offsets = await this.offsetsAt(subscription.topic, target!);
      return { records: [seekRecord(subscription, offsets, Date.now())], result: (after) => after.subscription(name)! };
    });
  }

  /** Waits until every record committed so far is applied (used on a miss before answering NOT_FOUND). */
  catchUp(): Promise<void> {
    return this.options.log.catchUp();
  }

  private apply(read: ReadRecord): void {
    const change = this.state.apply(read.record, read.offset, read.timeMillis);
    if (read.commandId) {
      this.appliedCommands.set(read.commandId, BigInt(read.offset));
      if (this.appliedCommands.size > 10_000) {
        this.appliedCommands.delete(this.appliedCommands.keys().next().value!);
      }
    }
    if (change) this.feed.publish(change);
    if (change?.change.kind === 'policy-set' || change?.change.kind === 'policy-dropped') {
      for (const listener of this.policyListeners) listener();
    }
  }

  /**
   * Runs writes one at a time on this instance. Each attempt takes the writer
   * role, catches up, validates against the latest state, commits, waits to
   * read its own records back, and only then runs side effects and answers.
   */
  private write<T>(plan: (state: RegistryState) => Promise<WritePlan<T>>): Promise<T> {
    const run = async (): Promise<T> => {
      const commandId = randomUUID();
      const deadline = Date.now() + this.options.writeTimeoutMillis;
      let planned: WritePlan<T> | undefined;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.options.log.acquireWriter();
          // An attempt that looked failed may have committed after all: then it must not run twice.
          if (!this.appliedCommands.has(commandId)) {
            planned = await plan(this.state);
            await this.options.log.waitApplied(await this.options.log.commit(planned.records, commandId));
          }
          await planned!.afterCommit?.();
          return planned!.result(this.state);
        } catch (error) {
          if (!isRetryable(error) || Date.now() > deadline) throw error;
          this.options.logger.warn({ err: error, attempt }, 'registry write failed; retrying');
          await new Promise((resolve) =>
            setTimeout(resolve, backoffMillis({ initialMillis: 100, maxMillis: 1_000 }, attempt)),
          );
        }
      }
    };
    const result = this.writeQueue.then(run, run);
    this.writeQueue = result.catch(() => undefined);
    return result;
  }

  private async offsetsAt(topic: string, position: Position): Promise<PartitionOffset[]> {
    const kafkaTopic = this.options.names.topic(topic);
    switch (position.kind) {
      case 'latest':
        return this.options.admin.latestOffsets(kafkaTopic);
      case 'earliest':
        return this.options.admin.earliestOffsets(kafkaTopic);
      case 'time':
        return this.options.admin.offsetsForTime(kafkaTopic, position.timeMillis);
    }
  }

  private async ensureKafkaTopic(topic: Topic): Promise<void> {
    const name = this.options.names.topic(topic.name);
    const spec = {
      name,
      partitions: topic.partitions,
      replicationFactor: topic.replicationFactor,
      configs: {
        'retention.ms': String(topic.retentionMillis),
        // Kafka's default (1 MB) is below Herald's message limit (10 MB by default) and below the
        // batches the publisher coalesces; 64 MiB leaves room for any configured limit.
        'max.message.bytes': String(maxRecordBatchBytes),
        'min.insync.replicas': String(topic.replicationFactor >= 3 ? 2 : 1),
        'unclean.leader.election.enable': 'false',
      },
    };
    if (await this.options.admin.createTopic(spec)) return;
    // It exists: left from a deleted topic of the same name whose clean-up did not finish. Start it afresh.
    const partitions = await this.options.admin.partitionCount(name);
    this.options.logger.warn(
      { topic: name, partitions },
      'replacing a Kafka topic left from an earlier topic of that name',
    );
    await this.options.admin.deleteTopic(name);
    const deadline = Date.now() + 30_000;
    while (!(await this.options.admin.createTopic(spec))) {
      if (Date.now() > deadline) throw new UnavailableError(`Kafka topic ${name} is still being deleted; retry`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * Kafka topics follow the log: a topic the log has but Kafka lacks (its
   * creator died after committing) is created; one with Herald's prefix that
   * the log does not have (its deleter died) is deleted. `before` was listed
   * before the log was read, so no topic in it can belong to a create this
   * instance has not seen.
   */
  private async reconcileKafkaTopics(before: string[]): Promise<void> {
    const existing = new Set(before);
    for (const topic of this.state.all().topics) {
      if (!existing.has(this.options.names.topic(topic.name))) {
        this.options.logger.warn({ topic: topic.name }, 'topic missing in Kafka; creating it');
        await this.ensureKafkaTopic(topic).catch((error: unknown) =>
          this.options.logger.error({ err: error, topic: topic.name }, 'could not create missing Kafka topic'),
        );
      }
    }
    for (const kafkaTopic of before) {
      const name = this.options.names.heraldTopic(kafkaTopic);
      if (name !== undefined && !this.state.topic(name)) {
        this.options.logger.warn({ topic: kafkaTopic }, 'Kafka topic of a deleted Herald topic; deleting it');
        await this.options.admin.deleteTopic(kafkaTopic).catch(() => undefined);
      }
    }
  }
}

/** The resource an IAM request names, checked. */
function checkedResource(name: string): Resource {
  const resource = parseResourceName(name);
  if (!resource) {
    throw new InvalidArgumentError('resource', 'must be herald, topics/<name> or subscriptions/<name>');
  }
  if (resource.kind !== 'herald') validateName('resource', resource.name);
  return resource;
}

function pageLimit(pageSize: number): number {
  if (pageSize === 0) return RegistryLimits.pageSizeDefault;
  validateRange('page_size', pageSize, 1, RegistryLimits.pageSizeMax);
  return pageSize;
}

function page<T>(items: T[], limit: number, tokenFor: (last: T) => string): Page<T> {
  if (items.length <= limit) return { items, nextPageToken: '' };
  const shown = items.slice(0, limit);
  return { items: shown, nextPageToken: tokenFor(shown[shown.length - 1]!) };
}

function after<T>(value: T | undefined): T {
  if (value === undefined) throw new UnavailableError('written record not found after applying it');
  return value;
}
