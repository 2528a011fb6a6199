import { EventEmitter } from 'node:events';
import {
  type ChannelCredentials,
  type ClientReadableStream,
  connectivityState,
  credentials,
  Metadata,
  status,
} from '@grpc/grpc-js';
import {
  type IamPolicy,
  type Subscription,
  SubscriberRegistryServiceClient,
  type Topic,
  unaryCall,
  type WatchResponse,
} from '@herald/api';
import { UnavailableError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import { backoffMillis } from '@herald/retry';

/** A change to the watched state, after it is applied locally. */
export type WatchedChange =
  | { kind: 'topic-created'; topic: Topic }
  | { kind: 'topic-deleted'; name: string }
  | { kind: 'subscription-upserted'; subscription: Subscription; previous: Subscription | undefined }
  | { kind: 'subscription-deleted'; name: string; previous: Subscription }
  | { kind: 'policy-changed'; resource: string; policy: IamPolicy | undefined };

/** Options of {@link RegistryWatcher}. */
export interface RegistryWatcherOptions {
  /** Every registry instance, `host:port`; the watcher fails over between them. */
  addresses: string[];
  logger: Logger;
  /** TLS and token of the calls to the registry. @defaultValue plaintext */
  credentials?: ChannelCredentials;
  /** Deadline of the unary calls made on a miss. @defaultValue 5 s */
  callTimeoutMillis?: number;
  /**
   * How long the Watch stream may stay broken before `reachable` turns false:
   * failing over to another instance, or a registry's restart, is not an outage.
   * @defaultValue 3 s
   */
  unreachableAfterMillis?: number;
}

/**
 * A live local copy of the registry's topics and subscriptions, from its Watch
 * stream: a snapshot, then each change. On a broken stream it reconnects (to
 * the next instance), resuming after the last revision it holds. Emits
 * `change` with a {@link WatchedChange} for every difference it applies,
 * `revision` once the local copy reflects a new revision of the registry log
 * (a whole snapshot, or one event, even one that changed nothing here),
 * `interrupted` with the reason each time the stream breaks, `connected` when
 * a stream is up again after that, and `reachable` when no registry instance
 * could be reached for a while (false) and when one is again (true).
 */
export class RegistryWatcher extends EventEmitter<{
  change: [WatchedChange];
  revision: [revision: string];
  interrupted: [reason: string];
  connected: [];
  reachable: [reachable: boolean];
}> {
  private topicsByName = new Map<string, Topic>();
  private subscriptionsByName = new Map<string, Subscription>();
  private policiesByResource = new Map<string, IamPolicy>();
  private pendingSnapshot:
    | { topics: Map<string, Topic>; subscriptions: Map<string, Subscription>; policies: Map<string, IamPolicy> }
    | undefined;
  private revisionHeld = '0';
  private complete = false;
  private readonly clients: SubscriberRegistryServiceClient[];
  private readonly waitingForReady = new Set<SubscriberRegistryServiceClient>();
  private current = 0;
  private stream: ClientReadableStream<WatchResponse> | undefined;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readyWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  private reachableNow = true;
  private brokenSince = 0;
  private unreachableTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RegistryWatcherOptions) {
    super();
    if (options.addresses.length === 0) throw new Error('RegistryWatcher needs at least one registry address');
    this.clients = options.addresses.map(
      (address) =>
        new SubscriberRegistryServiceClient(address, options.credentials ?? credentials.createInsecure(), {
          'grpc.keepalive_time_ms': 15_000,
          'grpc.keepalive_timeout_ms': 5_000,
          'grpc.keepalive_permit_without_calls': 1,
        }),
    );
  }

  /** Starts watching; resolves once the first snapshot is complete (or rejects after `timeoutMillis`). */
  start(timeoutMillis = 60_000): Promise<void> {
    this.connect();
    return this.ready(timeoutMillis);
  }

  /** Resolves once the local copy holds a complete snapshot. */
  ready(timeoutMillis: number): Promise<void> {
    if (this.complete) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new UnavailableError(
              `no registry snapshot within ${timeoutMillis} ms from ${this.options.addresses.join(', ')}`,
            ),
          ),
        timeoutMillis,
      );
      this.readyWaiters.push({
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  /** Whether a registry instance is reachable (false once the Watch stream stayed broken for a while). */
  get reachable(): boolean {
    return this.reachableNow;
  }

  /** Why no registry counts as reachable, for a caller's error message. */
  get unreachableReason(): string {
    const seconds = Math.round((Date.now() - this.brokenSince) / 1000);
    return `no subscriber-registry instance reachable for ${seconds} s (${this.options.addresses.join(', ')}); retry later`;
  }

  /** The revision of the registry log the local copy reflects. */
  get revision(): string {
    return this.revisionHeld;
  }

  topic(name: string): Topic | undefined {
    return this.topicsByName.get(name);
  }

  topics(): Topic[] {
    return [...this.topicsByName.values()];
  }

  subscription(name: string): Subscription | undefined {
    return this.subscriptionsByName.get(name);
  }

  subscriptions(): Subscription[] {
    return [...this.subscriptionsByName.values()];
  }

  /**
   * The IAM policy set on a resource (`herald`, `topics/<name>`,
   * `subscriptions/<name>`) through SetIamPolicy. The registry sends policies
   * only to watchers that see everything (the services' own identities).
   */
  policy(resource: string): IamPolicy | undefined {
    return this.policiesByResource.get(resource);
  }

  /**
   * Asks a registry instance directly, for a name the local copy lacks: it may
   * have been created a moment ago through another instance.
   */
  async fetchTopic(name: string): Promise<Topic | undefined> {
    return this.fetch((client) =>
      unaryCall(client, client.getTopic, { name }, new Metadata(), this.callTimeout()).then((r) => r.topic),
    );
  }

  /** As {@link RegistryWatcher.fetchTopic}, for a subscription. */
  async fetchSubscription(name: string): Promise<Subscription | undefined> {
    return this.fetch((client) =>
      unaryCall(client, client.getSubscription, { name }, new Metadata(), this.callTimeout()).then(
        (r) => r.subscription,
      ),
    );
  }

  /**
   * Which of `permissions` this watcher's identity holds on `resource`
   * (`herald`, `topics/<name>`...), asked of a registry instance.
   */
  async heldPermissions(resource: string, permissions: string[]): Promise<string[]> {
    const held = await this.fetch((client) =>
      unaryCall(client, client.testIamPermissions, { resource, permissions }, new Metadata(), this.callTimeout()).then(
        (r) => r.permissions,
      ),
    );
    return held ?? [];
  }

  /** Cancels the stream, even one waiting for the registry's next change; a pending {@link ready} rejects. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.unreachableTimer);
    this.stream?.cancel();
    for (const client of this.clients) client.close();
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(new UnavailableError('the registry watch stopped'));
  }

  /**
   * Applies one response of a Watch stream, as the stream does: public so that a view built on the
   * watcher's events can be fed without a registry.
   */
  apply(response: WatchResponse): void {
    this.onResponse(response);
  }

  private callTimeout(): number {
    return this.options.callTimeoutMillis ?? 5_000;
  }

  private async fetch<T>(
    call: (client: SubscriberRegistryServiceClient) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    let lastError: unknown;
    for (let i = 0; i < this.clients.length; i++) {
      const client = this.clients[(this.current + i) % this.clients.length]!;
      try {
        return await call(client);
      } catch (error) {
        if ((error as { code?: number }).code === status.NOT_FOUND) return undefined;
        lastError = error;
      }
    }
    throw new UnavailableError(`no registry instance answered: ${(lastError as Error)?.message ?? lastError}`);
  }

  private connect(): void {
    if (this.stopped) return;
    const client = this.clients[this.current]!;
    const stream = client.watch({ afterRevision: this.complete ? this.revisionHeld : '0' });
    this.stream = stream;
    // A resumed Watch sends nothing until something changes: a ready channel is what says "reachable".
    // One wait per client at a time: grpc-js keeps each until the channel is ready, and an outage
    // reconnects every few seconds.
    if (!this.waitingForReady.has(client)) {
      this.waitingForReady.add(client);
      this.whenReady(client, () => {
        this.waitingForReady.delete(client);
        if (this.stream !== undefined && this.clients[this.current] === client) this.markReachable();
      });
    }
    stream.on('data', (response: WatchResponse) => {
      this.failures = 0;
      this.markReachable();
      this.onResponse(response);
    });
    const address = this.options.addresses[this.current]!;
    const retry = (why: string) => {
      if (this.stream !== stream || this.stopped) return;
      this.markBroken();
      this.emit('interrupted', `watching the registry at ${address}: ${why}`);
      this.stream = undefined;
      this.pendingSnapshot = undefined;
      this.failures++;
      this.current = (this.current + 1) % this.clients.length;
      const delay = backoffMillis({ initialMillis: 200, maxMillis: 2_000 }, this.failures);
      // The first break is worth a line; the retries of an outage are counted by "no registry instance reachable".
      const line = { why, retryInMillis: delay, next: this.options.addresses[this.current], failures: this.failures };
      if (this.failures === 1) this.options.logger.warn(line, 'registry watch interrupted');
      else this.options.logger.debug(line, 'registry watch interrupted');
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    };
    stream.on('error', (error: Error) => retry(error.message));
    stream.on('end', () => retry('stream ended'));
  }

  /**
   * Calls `then` once the client's channel is ready. Not the client's waitForReady: closing the
   * channel wakes that wait, which then asks the closed channel to connect again, and it does, for
   * the hour of the deadline, keeping a stopped watcher's process alive.
   */
  private whenReady(client: SubscriberRegistryServiceClient, then: () => void): void {
    const channel = client.getChannel();
    const check = (error?: Error) => {
      if (this.stopped) return;
      if (error) {
        this.waitingForReady.delete(client);
        return;
      }
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) then();
      else channel.watchConnectivityState(state, Date.now() + 3_600_000, check);
    };
    setImmediate(check);
  }

  private markReachable(): void {
    if (this.brokenSince > 0) this.emit('connected');
    clearTimeout(this.unreachableTimer);
    this.unreachableTimer = undefined;
    this.brokenSince = 0;
    if (this.reachableNow) return;
    this.reachableNow = true;
    this.options.logger.info('registry reachable again');
    this.emit('reachable', true);
  }

  private markBroken(): void {
    if (this.brokenSince > 0) return;
    this.brokenSince = Date.now();
    this.unreachableTimer = setTimeout(() => {
      if (this.stopped || !this.reachableNow) return;
      this.reachableNow = false;
      this.options.logger.warn({ addresses: this.options.addresses }, 'no registry instance reachable');
      this.emit('reachable', false);
    }, this.options.unreachableAfterMillis ?? 3_000);
  }

  private onResponse(response: WatchResponse): void {
    const kind = response.kind;
    if (!kind) return;
    if (kind.$case === 'snapshot') {
      const part = kind.value;
      if (part.reset || !this.pendingSnapshot) {
        this.pendingSnapshot = { topics: new Map(), subscriptions: new Map(), policies: new Map() };
      }
      for (const entry of part.policies) {
        if (entry.policy) this.pendingSnapshot.policies.set(entry.resource, entry.policy);
      }
      for (const topic of part.topics) this.pendingSnapshot.topics.set(topic.name, topic);
      for (const subscription of part.subscriptions)
        this.pendingSnapshot.subscriptions.set(subscription.name, subscription);
      if (part.last) {
        const snapshot = this.pendingSnapshot;
        this.pendingSnapshot = undefined;
        this.replaceWith(snapshot.topics, snapshot.subscriptions, snapshot.policies);
        this.revisionHeld = response.revision;
        this.markComplete();
        this.emit('revision', this.revisionHeld);
      }
      return;
    }
    const change = kind.value.change;
    this.revisionHeld = response.revision;
    switch (change?.$case) {
      case 'topicCreated':
        this.topicsByName.set(change.value.name, change.value);
        this.emit('change', { kind: 'topic-created', topic: change.value });
        break;
      case 'topicDeleted':
        if (this.topicsByName.delete(change.value)) this.emit('change', { kind: 'topic-deleted', name: change.value });
        break;
      case 'subscriptionCreated':
      case 'subscriptionUpdated': {
        const previous = this.subscriptionsByName.get(change.value.name);
        this.subscriptionsByName.set(change.value.name, change.value);
        this.emit('change', { kind: 'subscription-upserted', subscription: change.value, previous });
        break;
      }
      case 'subscriptionDeleted': {
        const previous = this.subscriptionsByName.get(change.value);
        if (previous && this.subscriptionsByName.delete(change.value)) {
          this.emit('change', { kind: 'subscription-deleted', name: change.value, previous });
        }
        break;
      }
      case 'policyChanged': {
        const { resource, policy } = change.value;
        if (policy) this.policiesByResource.set(resource, policy);
        else this.policiesByResource.delete(resource);
        this.emit('change', { kind: 'policy-changed', resource, policy });
        break;
      }
    }
    this.markComplete();
    this.emit('revision', this.revisionHeld);
  }

  /** Swaps in a snapshot and emits the differences, so listeners never miss a change across a reconnect. */
  private replaceWith(
    topics: Map<string, Topic>,
    subscriptions: Map<string, Subscription>,
    policies: Map<string, IamPolicy>,
  ): void {
    const oldTopics = this.topicsByName;
    const oldSubscriptions = this.subscriptionsByName;
    const oldPolicies = this.policiesByResource;
    this.topicsByName = topics;
    this.subscriptionsByName = subscriptions;
    this.policiesByResource = policies;
    for (const [resource] of oldPolicies) {
      if (!policies.has(resource)) this.emit('change', { kind: 'policy-changed', resource, policy: undefined });
    }
    for (const [resource, policy] of policies) {
      if (oldPolicies.get(resource)?.etag !== policy.etag) {
        this.emit('change', { kind: 'policy-changed', resource, policy });
      }
    }
    for (const [name] of oldTopics) if (!topics.has(name)) this.emit('change', { kind: 'topic-deleted', name });
    for (const [name, topic] of topics) {
      if (oldTopics.get(name)?.revision !== topic.revision) this.emit('change', { kind: 'topic-created', topic });
    }
    for (const [name, previous] of oldSubscriptions) {
      if (!subscriptions.has(name)) this.emit('change', { kind: 'subscription-deleted', name, previous });
    }
    for (const [name, subscription] of subscriptions) {
      const previous = oldSubscriptions.get(name);
      if (previous?.revision !== subscription.revision) {
        this.emit('change', { kind: 'subscription-upserted', subscription, previous });
      }
    }
  }

  private markComplete(): void {
    if (this.complete) return;
    this.complete = true;
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
  }
}

/**
 * Fails when the service's own identity lacks `registry.watch` on Herald: its
 * Watch would then be filtered to what it may get, without IAM policies, and
 * it would refuse publishes to topics it cannot see and check calls against
 * the policy file alone. Bind the services' identities `admin` on Herald in
 * HERALD_AUTHZ_POLICY_FILE. A registry that cannot answer (an older build)
 * is only logged: the check is a safety net, not a dependency.
 */
export async function requireFullView(watcher: RegistryWatcher, logger: Logger): Promise<void> {
  let held: string[];
  try {
    held = await watcher.heldPermissions('herald', ['registry.watch']);
  } catch (error) {
    logger.warn({ err: error }, 'could not ask the registry whether this service sees everything');
    return;
  }
  if (!held.includes('registry.watch')) {
    throw new Error(
      'this service\'s identity lacks registry.watch on Herald, so its registry Watch is filtered and carries no IAM policies: bind it admin under "herald" in HERALD_AUTHZ_POLICY_FILE',
    );
  }
}
