import { type Subscription, durationToMillis } from '@herald/api';
import { type HeraldError, UnavailableError } from '@herald/errors';
import { parseFilter } from '@herald/filter';
import type { Logger } from '@herald/logging';
import type { AckIds } from './domain/ack-ids';
import { type CursorRecord, type StartInfo, noSeekRevision, partitionStart } from './domain/cursor-record';
import {
  DeliveryEngine,
  type DeliveryPolicy,
  type DeliverySink,
  type LeaseFailure,
  type LeaseOutcome,
} from './domain/delivery-engine';
import type { FlowLimits } from './domain/flow-control';
import { type PartitionSource, SubscriptionCursor } from './domain/subscription-cursor';
import { type SettledRecord, cursorOf } from './domain/settled-record';
import type { PushReport } from './domain/subscription-report';
import type { DeadLetterPublisher } from './kafka/dead-letter';
import { redriveTarget } from './kafka/redrive-record';
import type { StartFacts } from './kafka/start-facts';
import type { ExactlyOnceMember, ExactlyOnceStore } from './ownership/exactly-once-store';
import type { PushSender } from './push/push-sender';
import type { PushSenders } from './push/push-senders';

/** Tunables shared by every subscription on this dispatcher. */
export interface RuntimeSettings {
  dedupWindowMillis: number;
  maxHeldPerPartition: number;
  maxHeldTotal: number;
  maxBatchSize: number;
  /** How long a subscription stays served after its last stream left, so a reconnecting subscriber finds it. */
  idleGraceMillis: number;
}

/** What a runtime needs from the dispatcher process. */
export interface RuntimeDeps {
  logger: Logger;
  ackIds: AckIds;
  deadLetters: DeadLetterPublisher;
  facts: StartFacts;
  settings: RuntimeSettings;
  /** Makes push senders; without it push subscriptions are served to streams only. */
  push?: PushSenders;
  /** Where exactly-once subscriptions store their acks; without it they cannot be served. */
  exactlyOnce?: ExactlyOnceStore;
}

/** The engine stream id of a runtime's push sender (StreamingPull streams are numbered from 1). */
const pushStreamId = 0;

/** Why an operation on an ack id failed: the engine's reasons, or the state could not be stored. */
export type AnswerFailure = LeaseFailure | 'unavailable';

/** Answers to ack ids of one kind of operation, on an exactly-once subscription. */
export interface LeaseAnswer {
  kind: 'ack' | 'nack' | 'modify-deadline';
  confirmed: string[];
  failed: Array<{ ackId: string; reason: AnswerFailure }>;
}

/** A connected subscriber stream, as the runtime sees it. */
export interface StreamEndpoint {
  sink: DeliverySink;
  /** Ends the stream with an error status (subscription deleted, dispatcher stopping). */
  end(error: HeraldError): void;
  /** Sends answers to acks, nacks and deadline changes (exactly-once subscriptions only). */
  answer(answer: LeaseAnswer): void;
  /** Tells the stream, before any delivery, that it is on an exactly-once subscription. */
  exactlyOnce(ordering: boolean): void;
}

/**
 * One subscription served by this dispatcher: its delivery engine, its cursor
 * over the topic's shared read, its connected streams, and its push sender
 * when it is a push subscription. Started by the first stream (a push
 * subscription: by the dispatcher, as soon as it owns it), stopped a grace
 * period after the last stream leaves (never while it pushes). Has no
 * timer or Kafka consumer of its own: the dispatcher ticks it while it holds
 * messages, and its cursor reads only when there is something to read.
 */
export class SubscriptionRuntime {
  readonly engine: DeliveryEngine;
  private readonly cursor: SubscriptionCursor;
  private readonly endpoints = new Map<number, StreamEndpoint>();
  private subscription: Subscription;
  /** The cursor as last stored (or read back), merged with what this runtime settles. */
  private stored: CursorRecord;
  /** Per partition, the seek its position follows; made by the first seek, since most subscriptions have none. */
  private seekRevisions: Map<number, string> | undefined;
  private written = new Map<number, number>();
  private idleTimer: NodeJS.Timeout | undefined;
  private pushSender: PushSender | undefined;
  /** The push configuration the sender was made for, to tell whether an update changed it. */
  private pushKey = '';
  private stopped = false;
  /** Exactly-once only: accepted acks not yet durable, per stream. */
  private pendingAcks: Array<{ streamId: number; ackIds: string[] }> = [];
  private readonly member: ExactlyOnceMember | undefined;
  /** Whether this runtime serves exactly-once; fixed for its life (a change restarts it). */
  readonly exactlyOnce: boolean;

  constructor(
    subscription: Subscription,
    readonly kafkaTopic: string,
    readonly slot: number,
    stored: CursorRecord | undefined,
    source: PartitionSource,
    private readonly deps: RuntimeDeps,
    private readonly onIdle: (runtime: SubscriptionRuntime) => void,
    private readonly onLost: (runtime: SubscriptionRuntime, error: HeraldError) => void = () => undefined,
    /** It may hold messages or have a cursor to store: it needs {@link tick} and {@link takeCursor} again. */
    private readonly onBusy: (runtime: SubscriptionRuntime) => void = () => undefined,
  ) {
    this.subscription = subscription;
    this.exactlyOnce = subscription.enableExactlyOnceDelivery;
    this.stored = stored ?? { createRevision: subscription.createRevision, partitions: new Map() };
    const filter = parseFilter(subscription.filter);
    this.engine = new DeliveryEngine({
      ackScope: `${subscription.name}@${subscription.createRevision}`,
      ackIds: deps.ackIds,
      policy: policyOf(subscription),
      ordering: subscription.enableMessageOrdering,
      filter: (attributes) => filter.matches(attributes),
      redriveTarget: redriveTarget(subscription.name, subscription.createRevision),
      dedupWindowMillis: deps.settings.dedupWindowMillis,
      maxBatchSize: deps.settings.maxBatchSize,
      exactlyOnce: this.exactlyOnce,
      mayLease: this.exactlyOnce ? () => deps.exactlyOnce?.mayLease(slot) === true : undefined,
      deadLetter: (message, attempts) => {
        const policy = this.subscription.deadLetterPolicy;
        if (!policy) return Promise.reject(new Error('no dead-letter policy'));
        return deps.deadLetters.publish(policy.deadLetterTopic, this.subscription.name, message, attempts);
      },
      now: Date.now,
    });
    const { maxHeldPerPartition, maxHeldTotal, maxBatchSize } = deps.settings;
    this.cursor = new SubscriptionCursor(
      this.engine,
      source,
      { maxHeldPerPartition, maxHeldTotal, maxRead: maxBatchSize },
      () => this.onBusy(this),
    );
    if (this.exactlyOnce) {
      this.member = {
        name: subscription.name,
        snapshot: () => this.snapshot(),
        lost: (error) => this.onLost(this, error),
        resume: () => {
          this.engine.dispatch();
          this.cursor.resumeDrained();
        },
      };
    }
  }

  /**
   * Made per line rather than kept: its few lines (start, seek, stop) do not
   * repay the child logger's memory in every runtime of a dispatcher.
   */
  private get logger(): Logger {
    return this.deps.logger.child({ subscription: this.subscription.name });
  }

  private seekRevisionOf(partition: number): string {
    return this.seekRevisions?.get(partition) ?? noSeekRevision;
  }

  private followSeek(partition: number, revision: string): void {
    if (revision === noSeekRevision && !this.seekRevisions) return;
    (this.seekRevisions ??= new Map()).set(partition, revision);
  }

  get name(): string {
    return this.subscription.name;
  }

  get createRevision(): string {
    return this.subscription.createRevision;
  }

  /**
   * Resolves where each partition starts (the stored cursor, the latest seek,
   * or the subscription's start) and begins reading there; when the start is
   * a stored cursor, the dedup window before it is read again first, so a
   * repeat published across a hand-over is still caught.
   */
  async start(partitions: number): Promise<void> {
    const { facts } = this.deps;
    const [earliest, windowStart] = await Promise.all([
      facts.earliest(this.kafkaTopic),
      facts.dedupWindowStart(this.kafkaTopic),
    ]);
    if (this.stopped) return;
    let settled: SettledRecord | undefined;
    if (this.member) {
      const store = this.deps.exactlyOnce;
      if (!store) throw new UnavailableError('this dispatcher does not serve exactly-once subscriptions');
      settled = await store.join(this.slot, this.member);
      if (this.stopped) return store.leave(this.slot, this.member);
      settled = settled?.createRevision === this.subscription.createRevision ? settled : undefined;
      if (settled) this.stored = furthest(settled, this.stored);
    }
    const info = startInfoOf(this.subscription);
    const sources: string[] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const first = earliest.get(partition) ?? 0;
      const start = partitionStart(partition, this.stored, info, first);
      const ahead =
        start.source === 'cursor'
          ? settled?.partitions.get(partition)?.settled.filter((offset) => offset >= start.deliverFrom)
          : undefined;
      const readFrom =
        start.source === 'cursor' && windowStart
          ? Math.max(first, Math.min(start.deliverFrom, windowStart.get(partition) ?? start.deliverFrom))
          : start.deliverFrom;
      this.followSeek(partition, start.seekRevision);
      this.cursor.start(partition, readFrom, start.deliverFrom, ahead);
      sources.push(`${partition}:${start.source}@${start.deliverFrom}${ahead?.length ? `+${ahead.length}` : ''}`);
    }
    this.logger.info({ partitions: sources }, 'subscription started');
    this.syncPush();
  }

  addStream(id: number, endpoint: StreamEndpoint, limits: FlowLimits, ackDeadlineMillis: number | undefined): void {
    if (this.exactlyOnce) endpoint.exactlyOnce(this.subscription.enableMessageOrdering);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.endpoints.set(id, endpoint);
    this.engine.addStream(id, endpoint.sink, limits, ackDeadlineMillis);
  }

  removeStream(id: number): void {
    if (!this.endpoints.delete(id)) return;
    this.engine.removeStream(id);
    this.idleIfUnused();
  }

  private idleIfUnused(): void {
    if (this.endpoints.size === 0 && !this.pushSender && !this.stopped) {
      clearTimeout(this.idleTimer);
      this.idleTimer = setTimeout(() => this.onIdle(this), this.deps.settings.idleGraceMillis);
    }
  }

  /** StreamingPull streams attached (a push sender is not one). */
  get streamCount(): number {
    return this.endpoints.size;
  }

  /** Whether it pushes: then it stays served without streams. */
  get pushing(): boolean {
    return this.pushSender !== undefined;
  }

  /** How its push delivery goes, while it pushes. */
  get push(): PushReport | undefined {
    return this.pushSender?.report();
  }

  /**
   * Starts, replaces or stops the push sender after the push configuration
   * changed. A replaced sender's messages in flight are delivered again.
   */
  private syncPush(): void {
    if (this.stopped) return;
    const config = this.subscription.pushConfig;
    const key = config ? JSON.stringify(config) : '';
    if (key === this.pushKey) return;
    this.pushKey = key;
    this.pushSender?.stop();
    this.pushSender = undefined;
    const sender = this.deps.push?.create(
      this.subscription,
      this.engine,
      pushStreamId,
      () => this.subscription.ackDeadlineSeconds * 1000,
      () => this.settled(),
    );
    if (sender) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      this.pushSender = sender;
      sender.start();
    } else {
      this.deps.push?.tokens.forget(this.subscription.name);
      this.idleIfUnused();
    }
  }

  /** Acks from stream `streamId`. Exactly-once: failures answered now, the rest once durable. */
  ack(streamId: number, ackIds: string[]): void {
    if (!this.exactlyOnce) {
      this.engine.ack(ackIds);
      this.settled();
      return;
    }
    const outcome = this.engine.ackChecked(streamId, ackIds);
    this.answerFailures(streamId, 'ack', outcome);
    if (outcome.accepted.length > 0) {
      this.pendingAcks.push({ streamId, ackIds: outcome.accepted });
      this.deps.exactlyOnce?.flushSoon(this.slot);
    }
    this.settled();
  }

  /** Nacks from stream `streamId`; exactly-once: answered at once, nothing to store. */
  nack(streamId: number, ackIds: string[]): void {
    if (this.exactlyOnce) this.answerAll(streamId, 'nack', this.engine.nackChecked(streamId, ackIds));
    else this.engine.nack(ackIds);
    this.settled();
  }

  /** Deadline changes from stream `streamId`; exactly-once: answered at once, nothing to store. */
  modifyDeadlines(streamId: number, ackIds: string[], seconds: number[]): void {
    if (this.exactlyOnce) {
      this.answerAll(streamId, 'modify-deadline', this.engine.modifyDeadlinesChecked(streamId, ackIds, seconds));
    } else {
      this.engine.modifyDeadlines(ackIds, seconds);
    }
    this.settled();
  }

  private answerAll(streamId: number, kind: LeaseAnswer['kind'], outcome: LeaseOutcome): void {
    this.endpoints.get(streamId)?.answer({ kind, confirmed: outcome.accepted, failed: outcome.failed });
  }

  private answerFailures(streamId: number, kind: LeaseAnswer['kind'], outcome: LeaseOutcome): void {
    if (outcome.failed.length > 0)
      this.endpoints.get(streamId)?.answer({ kind, confirmed: [], failed: outcome.failed });
  }

  /**
   * The state to store (every partition's commit point and offsets settled
   * past it), and the acks it makes durable: confirmed once it is stored,
   * failed as unavailable when it could not be.
   */
  private snapshot(): { record: SettledRecord; stored(ok: boolean): void } {
    const partitions = new Map<number, { offset: number; seekRevision: string; settled: number[] }>();
    for (const [partition, position] of this.engine.settledPositions()) {
      partitions.set(partition, { ...position, seekRevision: this.seekRevisionOf(partition) });
    }
    const pending = this.pendingAcks;
    this.pendingAcks = [];
    const mark = this.engine.durableMark();
    return {
      record: { createRevision: this.subscription.createRevision, partitions },
      stored: (ok) => {
        if (ok) this.engine.acksDurable(mark);
        for (const { streamId, ackIds } of pending) {
          const endpoint = this.endpoints.get(streamId);
          if (!endpoint) continue;
          if (ok) endpoint.answer({ kind: 'ack', confirmed: ackIds, failed: [] });
          else
            endpoint.answer({
              kind: 'ack',
              confirmed: [],
              failed: ackIds.map((ackId) => ({ ackId, reason: 'unavailable' })),
            });
        }
      },
    };
  }

  /** Partitions not read now because the subscription holds too much. */
  get pausedPartitions(): number {
    return this.cursor.pausedCount;
  }

  /** Acks, nacks and deadline changes may have made room: read on where the cursor had stopped. */
  settled(): void {
    this.cursor.resumeDrained();
  }

  /** Expires leases and releases backoffs; cheap to skip while nothing is held. */
  tick(): void {
    if (this.engine.held() === 0) return;
    this.engine.tick();
    this.cursor.resumeDrained();
  }

  /** A newer version of the subscription from the registry: new policy, maybe a seek. */
  update(subscription: Subscription): void {
    const previousSeek = this.subscription.lastSeek?.revision ?? noSeekRevision;
    this.subscription = subscription;
    this.engine.setPolicy(policyOf(subscription));
    this.syncPush();
    const seek = subscription.lastSeek;
    if (!seek || BigInt(seek.revision) <= BigInt(previousSeek)) return;
    this.deps.facts.earliest(this.kafkaTopic).then(
      (earliest) => {
        if (this.stopped || this.subscription.lastSeek?.revision !== seek.revision) return;
        const offsets = offsetsMap(seek.offsets);
        for (const partition of this.cursor.positions().keys()) {
          const target = Math.max(offsets.get(partition) ?? 0, earliest.get(partition) ?? 0);
          this.followSeek(partition, seek.revision);
          this.written.delete(partition);
          this.cursor.start(partition, target, target);
        }
        this.logger.info({ revision: seek.revision }, 'applied seek');
      },
      (error: unknown) => this.logger.error({ err: error }, 'seek failed'),
    );
  }

  /**
   * The cursor to store when it moved since the last call: per partition the
   * offset before which everything is settled, with the seek it follows.
   */
  takeCursor(): CursorRecord | undefined {
    let partitions: CursorRecord['partitions'] | undefined;
    this.engine.forEachCommitPoint((partition, offset) => {
      if (this.written.get(partition) === offset) return;
      partitions ??= new Map(this.stored.partitions);
      partitions.set(partition, { offset, seekRevision: this.seekRevisionOf(partition) });
    });
    if (!partitions) return undefined;
    this.stored = { createRevision: this.subscription.createRevision, partitions };
    this.written = new Map([...partitions].map(([partition, position]) => [partition, position.offset]));
    return this.stored;
  }

  /** Ends every stream with `error` and stops. */
  terminate(error: HeraldError): void {
    for (const [id, endpoint] of [...this.endpoints]) {
      this.endpoints.delete(id);
      this.engine.removeStream(id);
      endpoint.end(error);
    }
    this.stop();
  }

  /** Stops reading; what the engine holds unsettled is delivered again by whoever serves the subscription next. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.idleTimer);
    this.pushSender?.stop();
    if (this.member) this.deps.exactlyOnce?.leave(this.slot, this.member);
    this.cursor.stop();
    this.logger.info({ ...this.engine.stats }, 'subscription stopped');
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

/**
 * The cursor an exactly-once runtime starts from: its stored settled state,
 * but per partition the plain cursor where that one is further (it was a
 * plain subscription since, or the plain cursor was written after): a plain
 * cursor only ever claims what was settled.
 */
function furthest(settled: SettledRecord, plain: CursorRecord): CursorRecord {
  const cursor = cursorOf(settled);
  if (plain.createRevision !== settled.createRevision) return cursor;
  for (const [partition, position] of plain.partitions) {
    const own = cursor.partitions.get(partition);
    const newerSeek = own && BigInt(position.seekRevision) > BigInt(own.seekRevision);
    const sameSeek = own && position.seekRevision === own.seekRevision;
    if (!own || newerSeek || (sameSeek && position.offset > own.offset)) cursor.partitions.set(partition, position);
  }
  return cursor;
}

/** Where a subscription starts when it has no stored cursor: its creation's offsets, or its latest seek. */
export function startInfoOf(subscription: Subscription): StartInfo {
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
