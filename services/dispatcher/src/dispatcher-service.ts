import type { Subscription } from '@herald/api';
import { FailedPreconditionError, type HeraldError, NotFoundError, UnavailableError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { RegistryWatcher, WatchedChange } from '@herald/registry-watch';
import { validateResourceName } from '@herald/resource-names';
import { type CursorRecord, partitionStart } from './domain/cursor-record';
import { type DeliveryStats, noCounts } from './domain/delivery-engine';
import type { FlowLimits } from './domain/flow-control';
import { type PartitionStanding, type SubscriptionReport, addCounts, backlogOf } from './domain/subscription-report';
import type { TopicSources } from './fanout/topic-sources';
import type { RecordTimes } from './kafka/record-times';
import type { CursorWriter } from './ownership/cursor-writer';
import type { SlotDirectory } from './ownership/slot-directory';
import type { SlotOwnership } from './ownership/slot-ownership';
import { type RuntimeDeps, type StreamEndpoint, SubscriptionRuntime, startInfoOf } from './subscription-runtime';

/** How long a stream waits for its slot to finish loading before it is told to come back. */
const ownershipWaitMillis = 10_000;

/** A subscriber stream once attached to its subscription. */
export interface AttachedStream {
  /** On an exactly-once subscription acks, nacks and deadline changes are answered on the stream. */
  ack(ackIds: string[]): void;
  nack(ackIds: string[]): void;
  modifyDeadlines(ackIds: string[], seconds: number[]): void;
  /** The stream can take messages again after its buffer was full. */
  drained(): void;
  /** The stream went away: what it holds is delivered again. */
  detach(): void;
}

/**
 * A stream attached to a runtime here. A class rather than five closures: a
 * dispatcher keeps one for every open stream, thousands of them idle.
 */
class LocalStream implements AttachedStream {
  constructor(
    private readonly runtime: SubscriptionRuntime,
    private readonly id: number,
  ) {}

  ack(ackIds: string[]): void {
    this.runtime.ack(this.id, ackIds);
  }

  nack(ackIds: string[]): void {
    this.runtime.nack(this.id, ackIds);
  }

  modifyDeadlines(ackIds: string[], seconds: number[]): void {
    this.runtime.modifyDeadlines(this.id, ackIds, seconds);
  }

  drained(): void {
    this.runtime.engine.streamDrained(this.id);
  }

  detach(): void {
    this.runtime.removeStream(this.id);
  }
}

/** Where a stream is served: here, or by the dispatcher that serves its subscription. */
export type Attachment = { kind: 'local'; stream: AttachedStream } | { kind: 'forward'; address: string };

/** What the service is built from, besides the runtimes' own needs. */
export interface DispatcherParts {
  watcher: RegistryWatcher;
  runtime: RuntimeDeps;
  ownership: SlotOwnership;
  directory: SlotDirectory;
  cursors: CursorWriter;
  sources: TopicSources;
  /** Publish times of messages not held here, for the age of a backlog. */
  recordTimes: RecordTimes;
  /** The slot a subscription belongs to. */
  slotOf: (subscription: string) => number;
  kafkaTopicOf: (heraldTopic: string) => string;
  logger: Logger;
  tickMillis: number;
  commitIntervalMillis: number;
}

/**
 * The subscriptions this dispatcher serves: those in the slots it owns, each
 * with a runtime while it has streams, and always when it is a push
 * subscription (started once its slot is owned, whether a stream comes or
 * not). A stream for a subscription served elsewhere is forwarded to its
 * dispatcher. One timer ticks every runtime that
 * holds messages and stores moved cursors, together, each interval.
 */
export class DispatcherService {
  private readonly runtimes = new Map<string, Promise<SubscriptionRuntime>>();
  /** The runtimes started and not retired. */
  private readonly started = new Set<SubscriptionRuntime>();
  /**
   * The started runtimes that may hold messages or have a moved cursor: what the timer visits. A runtime
   * leaves once its cursor is stored with nothing held, and comes back when its cursor reads again, so
   * idle subscriptions cost the timer nothing: visiting every one, every tick, allocated enough for V8 to
   * take an idle dispatcher for a busy one and never give back the heap grown while streams attached.
   */
  private readonly ticking = new Set<SubscriptionRuntime>();
  /** The stored cursor of every subscription in an owned slot, as loaded or last written. */
  private readonly slotCursors = new Map<number, Map<string, CursorRecord>>();
  /** Counters of runtimes retired while their subscription stayed here, so the totals never go back. */
  private readonly pastCounts = new Map<string, DeliveryStats>();
  /** Push subscriptions known to the registry, served here when their slot is owned. */
  private readonly pushNames = new Set<string>();
  private nextStreamId = 1;
  private stopping = false;
  /** While every slot is being given up: no push subscription may start meanwhile. */
  private losing = false;
  private timer: NodeJS.Timeout | undefined;
  private lastStore = Date.now();

  constructor(private readonly parts: DispatcherParts) {
    parts.watcher.on('change', (change) => this.onRegistryChange(change));
  }

  start(): void {
    this.timer = setInterval(() => this.onTimer(), this.parts.tickMillis);
  }

  /** A slot is ours: its subscriptions are served from their stored cursors; other dispatchers are told. */
  slotGained(slot: number, cursors: Map<string, CursorRecord>): void {
    this.slotCursors.set(slot, cursors);
    for (const name of this.pushNames) if (this.parts.slotOf(name) === slot) this.servePush(name);
    this.parts.directory
      .announce([slot])
      .catch((error: unknown) => this.parts.logger.warn({ err: error, slot }, 'slot not announced'));
  }

  /** Every slot goes (a rebalance): streams end so their clients reconnect to the new owners; cursors are stored. */
  async slotsLosing(): Promise<void> {
    this.losing = true;
    // The next assignment can arrive while this one is still handed over: only the slots held now go.
    const given = new Map(this.slotCursors);
    try {
      await this.endAll(
        new UnavailableError('the subscription moved to another dispatcher; reconnect'),
        'cursors not stored before the slots moved',
      );
      for (const [slot, cursors] of given) if (this.slotCursors.get(slot) === cursors) this.slotCursors.delete(slot);
      this.pastCounts.clear();
    } finally {
      this.losing = false;
    }
  }

  /**
   * Attaches a stream to a subscription served here, starting it if this is
   * its first stream; or says where it is served. A forwarded stream is never
   * forwarded again.
   *
   * @throws NotFoundError, FailedPreconditionError (detached), UnavailableError.
   */
  async attach(
    name: string,
    endpoint: StreamEndpoint,
    limits: FlowLimits,
    ackDeadlineMillis: number | undefined,
    forwarded: boolean,
  ): Promise<Attachment> {
    validateResourceName('subscription', name);
    if (this.stopping) throw new UnavailableError('dispatcher is stopping; connect to another instance');
    // While the slots it had are being given up (an exactly-once hand-over can outlast the Kafka client's wait
    // for it, so the next assignment may already be loaded), a runtime started now would read from the topic
    // readers endAll is about to stop, and never be woken again: the client retries once this is over.
    if (this.losing) throw new UnavailableError('the dispatcher is handing over its subscriptions; retry');
    const { watcher } = this.parts;
    const subscription = watcher.subscription(name) ?? (await watcher.fetchSubscription(name));
    if (!subscription) throw new NotFoundError('subscription', name);
    if (subscription.detached) {
      throw new FailedPreconditionError(`subscription "${name}" is detached: its topic was deleted`);
    }
    const slot = this.parts.slotOf(name);
    if (!(await within(this.parts.ownership.owns(slot), ownershipWaitMillis, false))) {
      const address = this.parts.directory.owner(slot);
      if (forwarded || !address || address === this.parts.directory.address) {
        throw new UnavailableError(`no dispatcher serves subscription "${name}" at the moment; retry`);
      }
      return { kind: 'forward', address };
    }
    const runtime = await this.runtimeFor(subscription, slot);
    const id = this.nextStreamId++;
    runtime.addStream(id, endpoint, limits, ackDeadlineMillis);
    return { kind: 'local', stream: new LocalStream(runtime, id) };
  }

  /** Ends every stream with UNAVAILABLE (clients reconnect elsewhere) and stores every cursor. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.endAll(new UnavailableError('dispatcher is stopping; reconnect'), 'cursors not stored at stop');
  }

  /**
   * Ends every runtime's streams with `error`, stores their cursors, and stops reading every topic.
   * Exactly-once subscriptions hand over first: leasing stops, their state is stored and their
   * pending acks are answered while the streams are still open.
   */
  private async endAll(error: HeraldError, notStored: string): Promise<void> {
    await this.parts.runtime.exactlyOnce?.handOver();
    const runtimes = await this.allRuntimes();
    this.runtimes.clear();
    this.started.clear();
    this.ticking.clear();
    for (const runtime of runtimes) {
      this.storeCursor(runtime);
      runtime.terminate(error);
    }
    await this.parts.cursors.flush().catch((flushError: unknown) => {
      this.parts.logger.warn({ err: flushError }, notStored);
    });
    await this.parts.sources.stopAll();
  }

  /**
   * Splits subscription names by where they are served: here, or at another
   * dispatcher's address. A call forwarded already is never forwarded again.
   *
   * @throws UnavailableError when one of them is served nowhere reachable now.
   */
  locate(names: readonly string[], forwarded: boolean): { local: string[]; remote: Map<string, string[]> } {
    const local: string[] = [];
    const remote = new Map<string, string[]>();
    for (const name of names) {
      const slot = this.parts.slotOf(name);
      if (this.slotCursors.has(slot)) {
        local.push(name);
        continue;
      }
      const address = this.parts.directory.owner(slot);
      if (forwarded || !address || address === this.parts.directory.address) {
        throw new UnavailableError(`no dispatcher serves subscription "${name}" at the moment; retry`);
      }
      remote.set(address, [...(remote.get(address) ?? []), name]);
    }
    return { local, remote };
  }

  /** Slots owned now. */
  get ownedSlots(): number {
    return this.slotCursors.size;
  }

  /**
   * Backlog and delivery figures of the subscriptions in the slots owned here
   * (of those named in `only`, when given): from the runtime where one runs,
   * else from the stored cursor. The age of a backlog whose oldest message is
   * not held here is read from Kafka, in the background unless `waitForAges`.
   */
  async reports(only?: ReadonlySet<string>, waitForAges = false): Promise<SubscriptionReport[]> {
    const { watcher, slotOf, kafkaTopicOf, runtime: deps, recordTimes } = this.parts;
    const live = new Map([...this.started].map((runtime) => [runtime.name, runtime]));
    const subscriptions = (
      only ? [...only].flatMap((name) => watcher.subscription(name) ?? []) : watcher.subscriptions()
    ).filter((subscription) => !subscription.detached && this.slotCursors.has(slotOf(subscription.name)));
    const topics = [...new Set(subscriptions.map((subscription) => kafkaTopicOf(subscription.topic)))];
    const ends = new Map(
      await Promise.all(
        topics.map(async (topic) => {
          const offsets = await Promise.all([deps.facts.earliest(topic), deps.facts.latest(topic)]).catch(
            () => undefined,
          );
          return [topic, offsets] as const;
        }),
      ),
    );
    // Reports whose age waits for a record read from Kafka: completed from what was read, nothing asked again.
    const ageless: Array<{
      report: SubscriptionReport;
      kafkaTopic: string;
      /** The partition of each standing. */
      partitions: number[];
      standings: PartitionStanding[];
      read: Promise<void>;
    }> = [];
    const reports: SubscriptionReport[] = [];
    for (const subscription of subscriptions) {
      const kafkaTopic = kafkaTopicOf(subscription.topic);
      const offsets = ends.get(kafkaTopic);
      if (!offsets) continue;
      const [earliest, latest] = offsets;
      const runtime = live.get(subscription.name);
      const served = runtime?.createRevision === subscription.createRevision ? runtime : undefined;
      const progress = served?.engine.progress();
      const stored = this.slotCursors.get(slotOf(subscription.name))?.get(subscription.name);
      const info = startInfoOf(subscription);
      const standings: PartitionStanding[] = [];
      const unknownAges: Array<{ partition: number; offset: number }> = [];
      for (const [partition, end] of latest) {
        const held = progress?.get(partition);
        const commitPoint =
          held?.commitPoint ?? partitionStart(partition, stored, info, earliest.get(partition) ?? 0).deliverFrom;
        let oldestPublishMillis = held?.oldest?.publishTimeMillis;
        if (oldestPublishMillis === undefined && commitPoint < end) {
          oldestPublishMillis = recordTimes.known(kafkaTopic, partition, commitPoint);
          if (oldestPublishMillis === undefined) unknownAges.push({ partition, offset: commitPoint });
        }
        standings.push({ end, commitPoint, settledAhead: held?.settledAhead ?? 0, oldestPublishMillis });
      }
      const { backlog, oldestPublishMillis } = backlogOf(standings);
      const counts = addCounts(noCounts(), this.pastCounts.get(subscription.name) ?? noCounts());
      if (served) addCounts(counts, served.engine.stats);
      const report: SubscriptionReport = {
        subscription: subscription.name,
        topic: subscription.topic,
        backlog,
        oldestUnackedPublishMillis: oldestPublishMillis,
        leases: served?.engine.leaseCount ?? 0,
        streams: served?.streamCount ?? 0,
        pausedPartitions: served?.pausedPartitions ?? 0,
        counts,
        push: served?.push,
      };
      reports.push(report);
      if (unknownAges.length > 0) {
        const read = recordTimes.lookup(kafkaTopic, unknownAges);
        ageless.push({ report, kafkaTopic, partitions: [...latest.keys()], standings, read });
      }
    }
    if (waitForAges) {
      for (const { report, kafkaTopic, partitions, standings, read } of ageless) {
        await read;
        for (const [index, partition] of partitions.entries()) {
          const standing = standings[index]!;
          if (standing.oldestPublishMillis !== undefined || standing.commitPoint >= standing.end) continue;
          standing.oldestPublishMillis = recordTimes.known(kafkaTopic, partition, standing.commitPoint);
        }
        report.oldestUnackedPublishMillis = backlogOf(standings).oldestPublishMillis;
      }
    }
    return reports;
  }

  /** Subscriptions served now (for logs and tests). */
  get servedCount(): number {
    return this.runtimes.size;
  }

  private runtimeFor(subscription: Subscription, slot: number): Promise<SubscriptionRuntime> {
    const existing = this.runtimes.get(subscription.name);
    if (existing) return existing;
    const starting = this.startRuntime(subscription, slot);
    this.runtimes.set(subscription.name, starting);
    starting.catch(() => {
      if (this.runtimes.get(subscription.name) === starting) this.runtimes.delete(subscription.name);
    });
    return starting;
  }

  private async startRuntime(subscription: Subscription, slot: number): Promise<SubscriptionRuntime> {
    const latest = this.parts.watcher.subscription(subscription.name) ?? subscription;
    const topic = this.parts.watcher.topic(latest.topic) ?? (await this.parts.watcher.fetchTopic(latest.topic));
    if (!topic) throw new FailedPreconditionError(`subscription "${latest.name}" is detached: its topic was deleted`);
    const kafkaTopic = this.parts.kafkaTopicOf(latest.topic);
    let stored = this.slotCursors.get(slot)?.get(latest.name);
    if (!stored) stored = await this.parts.runtime.facts.legacyCursor(latest.name, kafkaTopic).catch(() => undefined);
    const source = this.parts.sources.sourceFor(kafkaTopic, topic.partitions);
    const runtime = new SubscriptionRuntime(
      latest,
      kafkaTopic,
      slot,
      stored,
      source,
      this.parts.runtime,
      (idle) => this.onIdle(idle),
      (lost, error) => void this.retire(lost.name, lost, () => lost.terminate(error)),
      (busy) => {
        if (this.started.has(busy)) this.ticking.add(busy);
      },
    );
    try {
      await runtime.start(topic.partitions);
    } catch (error) {
      runtime.stop();
      this.parts.sources.release(kafkaTopic);
      throw new UnavailableError(`subscription "${latest.name}" could not start: ${(error as Error).message}`);
    }
    // The slots may have moved while it started: then it is not ours to serve.
    if (this.runtimes.get(latest.name) === undefined || !(await this.parts.ownership.owns(slot))) {
      runtime.stop();
      this.parts.sources.release(kafkaTopic);
      throw new UnavailableError(`subscription "${latest.name}" moved to another dispatcher while starting; retry`);
    }
    this.started.add(runtime);
    this.ticking.add(runtime); // its start positions are stored at the next interval
    return runtime;
  }

  /**
   * The runtimes out of the timer's set (nothing held, cursor stored) give
   * back the storage their engines emptied. For an idle process about to
   * compact its heap, not as each runtime goes quiet: under a steady flow
   * that would remake it all for every message.
   */
  releaseIdleState(): void {
    for (const runtime of this.started) if (!this.ticking.has(runtime)) runtime.engine.releaseEmpty();
  }

  private onTimer(): void {
    const now = Date.now();
    const store = now - this.lastStore >= this.parts.commitIntervalMillis;
    if (store) this.lastStore = now;
    for (const runtime of this.ticking) {
      runtime.tick();
      if (!store) continue;
      this.storeCursor(runtime);
      if (runtime.engine.held() === 0) this.ticking.delete(runtime);
    }
    this.parts.runtime.exactlyOnce?.tick();
    if (store) {
      // A push subscription whose start failed (Kafka unreachable, say) has no stream to retry it: retried here.
      for (const name of this.pushNames) this.servePush(name);
      void Promise.resolve().then(() =>
        this.parts.cursors.flush().catch((error: unknown) => {
          this.parts.logger.debug({ err: error }, 'cursors not stored; will retry');
        }),
      );
      this.parts.sources.retireIdle(now);
    }
  }

  private storeCursor(runtime: SubscriptionRuntime): void {
    const cursor = runtime.takeCursor();
    if (!cursor) return;
    this.slotCursors.get(runtime.slot)?.set(runtime.name, cursor);
    this.parts.cursors.write(runtime.name, cursor);
  }

  /** Starts serving a push subscription of an owned slot, unless it is served already. */
  private servePush(name: string): void {
    if (this.stopping || this.losing || this.runtimes.has(name)) return;
    const subscription = this.parts.watcher.subscription(name);
    if (!subscription?.pushConfig || subscription.detached) return;
    const slot = this.parts.slotOf(name);
    if (!this.slotCursors.has(slot)) return;
    this.runtimeFor(subscription, slot).catch((error: unknown) =>
      this.parts.logger.warn({ err: error, subscription: name }, 'push subscription not started; will retry'),
    );
  }

  private onIdle(runtime: SubscriptionRuntime): void {
    if (runtime.streamCount > 0 || runtime.pushing) return;
    void this.retire(runtime.name, runtime, () => runtime.stop());
  }

  private onRegistryChange(change: WatchedChange): void {
    if (change.kind === 'subscription-upserted') {
      const { subscription } = change;
      if (subscription.pushConfig && !subscription.detached) this.pushNames.add(subscription.name);
      else this.pushNames.delete(subscription.name);
      void this.withRuntime(subscription.name, (runtime) => {
        if (runtime.createRevision !== subscription.createRevision) {
          return this.retire(subscription.name, runtime, () =>
            runtime.terminate(new NotFoundError('subscription', subscription.name)),
          );
        }
        if (subscription.detached) {
          return this.retire(subscription.name, runtime, () =>
            runtime.terminate(new FailedPreconditionError(`subscription "${subscription.name}" is detached`)),
          );
        }
        if (runtime.exactlyOnce !== subscription.enableExactlyOnceDelivery) {
          // Leases and ack ids of one mode mean nothing in the other: streams reconnect to a new runtime.
          return this.retire(subscription.name, runtime, () =>
            runtime.terminate(new UnavailableError('the subscription’s delivery mode changed; reconnect')),
          );
        }
        runtime.update(subscription);
        return Promise.resolve();
      }).then(() => this.servePush(subscription.name));
    } else if (change.kind === 'subscription-deleted') {
      this.pushNames.delete(change.name);
      void this.withRuntime(change.name, (runtime) =>
        this.retire(change.name, runtime, () => runtime.terminate(new NotFoundError('subscription', change.name))),
      );
      this.pastCounts.delete(change.name);
      const slot = this.parts.slotOf(change.name);
      const cursors = this.slotCursors.get(slot);
      if (cursors?.delete(change.name)) this.parts.cursors.write(change.name, null);
    }
  }

  private async withRuntime(name: string, act: (runtime: SubscriptionRuntime) => Promise<void>): Promise<void> {
    const runtime = await this.runtimes.get(name)?.catch(() => undefined);
    if (runtime) await act(runtime);
  }

  private async retire(name: string, runtime: SubscriptionRuntime, stop: () => void): Promise<void> {
    const current = await this.runtimes.get(name)?.catch(() => undefined);
    if (current !== runtime) return;
    this.runtimes.delete(name);
    this.started.delete(runtime);
    this.ticking.delete(runtime);
    this.storeCursor(runtime);
    this.pastCounts.set(name, addCounts(this.pastCounts.get(name) ?? noCounts(), runtime.engine.stats));
    stop();
    this.parts.sources.release(runtime.kafkaTopic);
  }

  private async allRuntimes(): Promise<SubscriptionRuntime[]> {
    const settled = await Promise.allSettled([...this.runtimes.values()]);
    return settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  }
}

/** `value`, or `fallback` once `millis` passed first. */
async function within<T>(value: T | Promise<T>, millis: number, fallback: T): Promise<T> {
  if (!(value instanceof Promise)) return value;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      value,
      new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), millis))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
