import { type Subscription, durationToMillis } from '@herald/api';
import type { HeraldError } from '@herald/errors';
import { parseFilter } from '@herald/filter';
import type { KafkaClient, KafkaNames, TopicAdmin } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { AckIds } from './domain/ack-ids';
import { DeliveryEngine, type DeliveryPolicy, type DeliverySink } from './domain/delivery-engine';
import type { FlowLimits } from './domain/flow-control';
import type { DeadLetterPublisher } from './kafka/dead-letter';
import { type StartInfo, SubscriptionConsumer } from './kafka/subscription-consumer';

/** Tunables shared by every subscription on this dispatcher. */
export interface RuntimeSettings {
  dedupWindowMillis: number;
  maxHeldPerPartition: number;
  maxHeldTotal: number;
  sessionTimeoutMillis: number;
  tickMillis: number;
  commitIntervalMillis: number;
  maxBatchSize: number;
  /** How long a consumer outlives its last stream, so a reconnecting subscriber keeps its partitions. */
  idleGraceMillis: number;
}

/** What a runtime needs from the dispatcher process. */
export interface RuntimeDeps {
  kafka: KafkaClient;
  admin: TopicAdmin;
  names: KafkaNames;
  logger: Logger;
  ackIds: AckIds;
  deadLetters: DeadLetterPublisher;
  settings: RuntimeSettings;
}

/** A connected subscriber stream, as the runtime sees it. */
export interface StreamEndpoint {
  sink: DeliverySink;
  /** Ends the stream with an error status (subscription deleted, dispatcher stopping). */
  end(error: HeraldError): void;
}

/**
 * One subscription served by this dispatcher: its delivery engine, its Kafka
 * consumer and its connected streams. Started by the first stream, stopped a
 * grace period after the last one leaves.
 */
export class SubscriptionRuntime {
  readonly engine: DeliveryEngine;
  private readonly consumer: SubscriptionConsumer;
  private readonly endpoints = new Map<number, StreamEndpoint>();
  private subscription: Subscription;
  private ticker: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private lastCommit = 0;
  private stopped = false;
  private readonly logger: Logger;

  constructor(
    subscription: Subscription,
    private readonly deps: RuntimeDeps,
    private readonly onIdle: (runtime: SubscriptionRuntime) => void,
  ) {
    this.subscription = subscription;
    this.logger = deps.logger.child({ subscription: subscription.name });
    const filter = parseFilter(subscription.filter);
    this.engine = new DeliveryEngine({
      ackScope: `${subscription.name}@${subscription.createRevision}`,
      ackIds: deps.ackIds,
      policy: policyOf(subscription),
      ordering: subscription.enableMessageOrdering,
      filter: (attributes) => filter.matches(attributes),
      dedupWindowMillis: deps.settings.dedupWindowMillis,
      maxBatchSize: deps.settings.maxBatchSize,
      deadLetter: (message, attempts) => {
        const policy = this.subscription.deadLetterPolicy;
        if (!policy) return Promise.reject(new Error('no dead-letter policy'));
        return deps.deadLetters.publish(policy.deadLetterTopic, this.subscription.name, message, attempts);
      },
      now: Date.now,
    });
    this.consumer = new SubscriptionConsumer({
      kafka: deps.kafka,
      admin: deps.admin,
      names: deps.names,
      logger: this.logger,
      subscription: subscription.name,
      topic: subscription.topic,
      engine: this.engine,
      startInfo: () => startInfoOf(this.subscription),
      dedupWindowMillis: deps.settings.dedupWindowMillis,
      maxHeldPerPartition: deps.settings.maxHeldPerPartition,
      maxHeldTotal: deps.settings.maxHeldTotal,
      sessionTimeoutMillis: deps.settings.sessionTimeoutMillis,
    });
  }

  get name(): string {
    return this.subscription.name;
  }

  get createRevision(): string {
    return this.subscription.createRevision;
  }

  async start(): Promise<void> {
    await this.consumer.start();
    this.ticker = setInterval(() => this.tick(), this.deps.settings.tickMillis);
    this.logger.info('subscription consumer started');
  }

  addStream(id: number, endpoint: StreamEndpoint, limits: FlowLimits, ackDeadlineMillis: number | undefined): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.endpoints.set(id, endpoint);
    this.engine.addStream(id, endpoint.sink, limits, ackDeadlineMillis);
  }

  removeStream(id: number): void {
    if (!this.endpoints.delete(id)) return;
    this.engine.removeStream(id);
    if (this.endpoints.size === 0 && !this.stopped) {
      this.idleTimer = setTimeout(() => this.onIdle(this), this.deps.settings.idleGraceMillis);
    }
  }

  get streamCount(): number {
    return this.endpoints.size;
  }

  /** A newer version of the subscription from the registry: new policy, maybe a seek. */
  update(subscription: Subscription): void {
    const previousSeek = this.subscription.lastSeek?.revision ?? '-1';
    this.subscription = subscription;
    this.engine.setPolicy(policyOf(subscription));
    const seek = subscription.lastSeek;
    if (seek && BigInt(seek.revision) > BigInt(previousSeek)) {
      this.consumer
        .seek({ revision: seek.revision, offsets: offsetsMap(seek.offsets) })
        .catch((error: unknown) => this.logger.error({ err: error }, 'seek failed'));
    }
  }

  /** Ends every stream with `error` and stops (the subscription is gone or detached, or the process stops). */
  async terminate(error: HeraldError): Promise<void> {
    for (const [id, endpoint] of [...this.endpoints]) {
      this.endpoints.delete(id);
      this.engine.removeStream(id);
      endpoint.end(error);
    }
    await this.stop();
  }

  /** Commits what is settled and leaves the consumer group. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    clearTimeout(this.idleTimer);
    await this.consumer.stop();
    this.logger.info({ ...this.engine.stats }, 'subscription consumer stopped');
  }

  private tick(): void {
    this.engine.tick();
    this.consumer.onTick();
    const now = Date.now();
    if (now - this.lastCommit >= this.deps.settings.commitIntervalMillis) {
      this.lastCommit = now;
      void this.consumer.commit();
    }
  }
}

function policyOf(subscription: Subscription): DeliveryPolicy {
  return {
    ackDeadlineMillis: subscription.ackDeadlineSeconds * 1000,
    retryPolicy: {
      minimumBackoffMillis: durationToMillis(subscription.retryPolicy?.minimumBackoff) ?? 1_000,
      maximumBackoffMillis: durationToMillis(subscription.retryPolicy?.maximumBackoff) ?? 60_000,
    },
    maxDeliveryAttempts: subscription.deadLetterPolicy?.maxDeliveryAttempts,
  };
}

function startInfoOf(subscription: Subscription): StartInfo {
  return {
    createRevision: subscription.createRevision,
    startOffsets: offsetsMap(subscription.startOffsets),
    lastSeek: subscription.lastSeek && {
      revision: subscription.lastSeek.revision,
      offsets: offsetsMap(subscription.lastSeek.offsets),
    },
  };
}

function offsetsMap(offsets: Array<{ partition: number; offset: string }>): Map<number, number> {
  return new Map(offsets.map((o) => [o.partition, Number(o.offset)]));
}
