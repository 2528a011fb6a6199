import {
  type IamBinding,
  type IamPolicy,
  CloudEventsMode,
  Position,
  type PushConfig,
  type RegistryEvent,
  SubscriberRegistryServiceClient,
  Subscription,
  Topic,
  type WatchResponse,
  millisToDuration,
} from '@herald/api';
import { status } from '@grpc/grpc-js';
import { HeraldClientError } from './client-error';
import { type ConnectionOptions, EndpointPool } from './endpoints';
import { callWithRetry, type RetryOptions } from './unary';

/** A topic to create. */
export interface TopicSpec {
  name: string;
  /** @defaultValue the registry's default (3) */
  partitions?: number;
  /** @defaultValue the registry's default (7 days) */
  retentionMillis?: number;
}

/** Where a subscription starts, or a seek goes. */
export type StartAt = 'earliest' | 'latest' | Date;

/** A {@link StartAt} as the `position` / `time` choice of Seek and Tail requests. */
export function positionOrTime(at: StartAt) {
  return at instanceof Date
    ? { $case: 'time' as const, value: at }
    : {
        $case: 'position' as const,
        value: at === 'earliest' ? Position.POSITION_EARLIEST : Position.POSITION_LATEST,
      };
}

/**
 * Where a push subscription sends its messages: an HTTP endpoint (CloudEvents,
 * binary mode unless said) or a gRPC `herald.v1.PushEndpointService`. See
 * `PushConfig` in types.proto.
 */
export type PushSpec = (
  | { endpoint: string; mode?: 'binary' | 'structured'; audience?: string; grpcTarget?: undefined }
  | { grpcTarget: string; endpoint?: undefined }
) & {
  /** Most requests in flight, 1 to 1000. @defaultValue 100 */
  maxOutstanding?: number;
};

/** A {@link PushSpec} as the API's `PushConfig`. */
export function pushConfigProto(spec: PushSpec): PushConfig {
  return {
    endpoint:
      spec.grpcTarget !== undefined
        ? { $case: 'grpc', value: { target: spec.grpcTarget } }
        : {
            $case: 'http',
            value: {
              endpoint: spec.endpoint,
              mode:
                spec.mode === 'structured'
                  ? CloudEventsMode.CLOUD_EVENTS_MODE_STRUCTURED
                  : CloudEventsMode.CLOUD_EVENTS_MODE_BINARY,
              audience: spec.audience ?? '',
            },
          },
    maxOutstanding: spec.maxOutstanding ?? 0,
  };
}

/** A subscription to create. Only `name` and `topic` are required. */
export interface SubscriptionSpec {
  name: string;
  topic: string;
  /** 10 to 600. @defaultValue 10 */
  ackDeadlineSeconds?: number;
  retryPolicy?: { minimumBackoffMillis: number; maximumBackoffMillis: number };
  deadLetterPolicy?: { deadLetterTopic: string; maxDeliveryAttempts: number };
  enableMessageOrdering?: boolean;
  /** Pub/Sub filter language on attributes. */
  filter?: string;
  /** @defaultValue 'latest' */
  startAt?: StartAt;
  /** Makes it a push subscription; unset: pull. */
  push?: PushSpec;
  /**
   * Exactly-once delivery (pull only): each ack is confirmed once stored, and
   * a confirmed ack's message is never delivered again; `message.ack()`
   * resolves with the answer. @defaultValue false
   */
  enableExactlyOnceDelivery?: boolean;
}

/** What `updateSubscription` may change; `null` removes a policy (back to its defaults). */
export interface SubscriptionChanges {
  ackDeadlineSeconds?: number;
  retryPolicy?: SubscriptionSpec['retryPolicy'] | null;
  deadLetterPolicy?: SubscriptionSpec['deadLetterPolicy'] | null;
  /** A push configuration (switching to push), or `null` to switch back to pull. */
  push?: PushSpec | null;
  /** Switches exactly-once delivery on or off (its streams reconnect once). */
  enableExactlyOnceDelivery?: boolean;
}

/** Options of {@link Admin}. */
export interface AdminOptions extends ConnectionOptions {
  /** Retries of retryable failures, across endpoints. @defaultValue 30 s in all */
  retry?: RetryOptions;
}

/**
 * Topics, subscriptions, seek and watch, on the subscriber-registry. Every call
 * fails over between registry endpoints and retries retryable failures; a
 * create retried after an uncertain failure may answer ALREADY_EXISTS for the
 * very resource it created.
 *
 * @example
 * ```ts
 * const admin = new Admin({ endpoints: ['127.0.0.1:50052'] });
 * await admin.createTopic({ name: 'orders', partitions: 6 });
 * await admin.createSubscription({ name: 'orders-audit', topic: 'orders', filter: 'attributes.region = "eu"' });
 * admin.close();
 * ```
 */
export class Admin {
  private readonly pool: EndpointPool<SubscriberRegistryServiceClient>;

  constructor(private readonly options: AdminOptions) {
    this.pool = new EndpointPool(SubscriberRegistryServiceClient, options, 'subscriber-registry');
  }

  async createTopic(spec: TopicSpec): Promise<Topic> {
    const topic = Topic.fromPartial({
      name: spec.name,
      partitions: spec.partitions ?? 0,
      retention: spec.retentionMillis === undefined ? undefined : millisToDuration(spec.retentionMillis),
    });
    return (await this.call((c) => c.createTopic, { topic })).topic!;
  }

  async getTopic(name: string): Promise<Topic> {
    return (await this.call((c) => c.getTopic, { name })).topic!;
  }

  /** Every topic, in name order, fetched a page at a time. */
  async *listTopics(pageSize = 100): AsyncGenerator<Topic> {
    let pageToken = '';
    do {
      const page = await this.call((c) => c.listTopics, { pageSize, pageToken });
      yield* page.topics;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.call((c) => c.deleteTopic, { name });
  }

  async createSubscription(spec: SubscriptionSpec): Promise<Subscription> {
    const start = positionOrTime(spec.startAt ?? 'latest');
    const subscription = Subscription.fromPartial({
      name: spec.name,
      topic: spec.topic,
      ackDeadlineSeconds: spec.ackDeadlineSeconds ?? 0,
      retryPolicy: spec.retryPolicy && retryPolicyProto(spec.retryPolicy),
      deadLetterPolicy: spec.deadLetterPolicy,
      enableMessageOrdering: spec.enableMessageOrdering ?? false,
      filter: spec.filter ?? '',
      pushConfig: spec.push && pushConfigProto(spec.push),
      enableExactlyOnceDelivery: spec.enableExactlyOnceDelivery ?? false,
      start:
        start.$case === 'time'
          ? { $case: 'startTime', value: start.value }
          : { $case: 'startPosition', value: start.value },
    });
    return (await this.call((c) => c.createSubscription, { subscription })).subscription!;
  }

  async getSubscription(name: string): Promise<Subscription> {
    return (await this.call((c) => c.getSubscription, { name })).subscription!;
  }

  /** Every subscription (of one topic, if given), in name order. */
  async *listSubscriptions(topic = '', pageSize = 100): AsyncGenerator<Subscription> {
    let pageToken = '';
    do {
      const page = await this.call((c) => c.listSubscriptions, { pageSize, pageToken, topic });
      yield* page.subscriptions;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /** Changes only the fields given. */
  async updateSubscription(name: string, changes: SubscriptionChanges): Promise<Subscription> {
    const paths: string[] = [];
    if (changes.ackDeadlineSeconds !== undefined) paths.push('ack_deadline_seconds');
    if (changes.retryPolicy !== undefined) paths.push('retry_policy');
    if (changes.deadLetterPolicy !== undefined) paths.push('dead_letter_policy');
    if (changes.push !== undefined) paths.push('push_config');
    if (changes.enableExactlyOnceDelivery !== undefined) paths.push('enable_exactly_once_delivery');
    const subscription = Subscription.fromPartial({
      name,
      ackDeadlineSeconds: changes.ackDeadlineSeconds ?? 0,
      retryPolicy: changes.retryPolicy ? retryPolicyProto(changes.retryPolicy) : undefined,
      deadLetterPolicy: changes.deadLetterPolicy ?? undefined,
      pushConfig: changes.push ? pushConfigProto(changes.push) : undefined,
      enableExactlyOnceDelivery: changes.enableExactlyOnceDelivery ?? false,
    });
    return (await this.call((c) => c.updateSubscription, { subscription, updateMask: paths })).subscription!;
  }

  async deleteSubscription(name: string): Promise<void> {
    await this.call((c) => c.deleteSubscription, { name });
  }

  /** Moves a subscription to earliest, latest or a time, for every dispatcher. */
  async seek(subscription: string, to: StartAt): Promise<Subscription> {
    return (await this.call((c) => c.seek, { subscription, target: positionOrTime(to) })).subscription!;
  }

  /**
   * The registry's changes as they happen (after a snapshot, unless resuming
   * after `afterRevision`). Ends when the consumer stops iterating.
   */
  async *watch(afterRevision = '0'): AsyncGenerator<WatchResponse> {
    const stream = this.pool.current.watch({ afterRevision });
    try {
      for await (const response of stream as AsyncIterable<WatchResponse>) yield response;
    } catch (error) {
      throw HeraldClientError.from(error);
    } finally {
      stream.cancel();
    }
  }

  /**
   * The IAM policy of a resource (`herald`, `topics/<name>` or
   * `subscriptions/<name>`), with the etag to give back to
   * {@link Admin.setIamPolicy}, and the bindings of the services' policy file
   * (which add to it and cannot be changed here).
   */
  async getIamPolicy(resource: string): Promise<{ policy: IamPolicy; staticBindings: IamBinding[] }> {
    const response = await this.call((c) => c.getIamPolicy, { resource });
    return { policy: response.policy ?? { bindings: [], etag: '' }, staticBindings: response.staticBindings };
  }

  /**
   * Replaces the IAM policy of a resource. With the `etag` of a policy read
   * before, it fails with ABORTED ({@link HeraldClientError}) if someone
   * changed the policy since; without one, it overwrites whatever is there.
   */
  async setIamPolicy(resource: string, policy: { bindings: IamBinding[]; etag?: string }): Promise<IamPolicy> {
    const response = await this.call((c) => c.setIamPolicy, {
      resource,
      policy: { bindings: policy.bindings, etag: policy.etag ?? '' },
    });
    return response.policy!;
  }

  /**
   * Read, change, write: applies `change` to the current bindings and sets
   * the result with the etag read, reading again and reapplying when a
   * concurrent edit got in first (ABORTED), at most `attempts` times.
   */
  async updateIamPolicy(
    resource: string,
    change: (bindings: IamBinding[]) => IamBinding[],
    attempts = 5,
  ): Promise<IamPolicy> {
    for (let attempt = 1; ; attempt++) {
      const { policy } = await this.getIamPolicy(resource);
      try {
        return await this.setIamPolicy(resource, { bindings: change(policy.bindings), etag: policy.etag });
      } catch (error) {
        if (!(error instanceof HeraldClientError) || error.code !== status.ABORTED || attempt >= attempts) throw error;
      }
    }
  }

  /** Binds `role` to `members` on a resource, keeping every other binding ({@link updateIamPolicy}). */
  grantRole(resource: string, role: string, members: string[]): Promise<IamPolicy> {
    return this.updateIamPolicy(resource, (bindings) => withRoleMembers(bindings, role, (had) => [...had, ...members]));
  }

  /** Removes `members` from `role` on a resource, keeping every other binding ({@link updateIamPolicy}). */
  revokeRole(resource: string, role: string, members: string[]): Promise<IamPolicy> {
    return this.updateIamPolicy(resource, (bindings) =>
      withRoleMembers(bindings, role, (had) => had.filter((member) => !members.includes(member))),
    );
  }

  /** Which of `permissions` (such as `topics.publish`) the caller holds on a resource. */
  async testIamPermissions(resource: string, permissions: string[]): Promise<string[]> {
    return (await this.call((c) => c.testIamPermissions, { resource, permissions })).permissions;
  }

  close(): void {
    this.pool.close();
  }

  private call<Req, Res>(
    method: Parameters<typeof callWithRetry<SubscriberRegistryServiceClient, Req, Res>>[1],
    request: Req,
  ): Promise<Res> {
    return callWithRetry(this.pool, method, request, this.options.retry);
  }
}

/** The bindings with `role`'s members (of all its bindings, as one) replaced by `change` of them. */
export function withRoleMembers(
  bindings: IamBinding[],
  role: string,
  change: (members: string[]) => string[],
): IamBinding[] {
  const others = bindings.filter((binding) => binding.role !== role);
  const members = bindings.filter((binding) => binding.role === role).flatMap((binding) => binding.members);
  return [...others, { role, members: change(members) }];
}

function retryPolicyProto(policy: { minimumBackoffMillis: number; maximumBackoffMillis: number }) {
  return {
    minimumBackoff: millisToDuration(policy.minimumBackoffMillis),
    maximumBackoff: millisToDuration(policy.maximumBackoffMillis),
  };
}

export type { RegistryEvent };
