import { AckIds } from './ack-ids';
import { retryDelayMillis, type RetryPolicy } from './backoff';
import { DedupWindow } from './dedup-window';
import { FlowControl, type FlowLimits } from './flow-control';
import { type InboundMessage, dedupKeyOf } from './inbound-message';
import { MinHeap } from './min-heap';
import { OffsetTracker } from './offset-tracker';
import { OrderingQueues } from './ordering-queues';

/** One message handed to a stream. */
export interface Delivery {
  ackId: string;
  message: InboundMessage;
  /** 1 on the first delivery. */
  deliveryAttempt: number;
}

/** Where deliveries go: one subscriber stream. */
export interface DeliverySink {
  /** Sends a batch; false when the stream's buffer is full (then call `streamDrained`). */
  send(batch: Delivery[]): boolean;
}

/** What the subscription says about delivery; can change while it runs. */
export interface DeliveryPolicy {
  ackDeadlineMillis: number;
  retryPolicy: RetryPolicy;
  /** Deliveries before dead-lettering; undefined when the subscription has no dead-letter policy. */
  maxDeliveryAttempts: number | undefined;
}

/** Options of {@link DeliveryEngine}. */
export interface DeliveryEngineOptions {
  /** Binds ack ids to this subscription and incarnation. */
  ackScope: string;
  ackIds: AckIds;
  policy: DeliveryPolicy;
  ordering: boolean;
  /** False for messages the subscription's filter rejects; they are settled unseen. */
  filter: (attributes: Record<string, string>) => boolean;
  /**
   * This subscription as redriven copies address it (`redriveTarget`): copies
   * addressed to another subscription of the topic are settled unseen.
   */
  redriveTarget?: string;
  dedupWindowMillis: number;
  /** Most messages in one response. */
  maxBatchSize: number;
  /**
   * Most data bytes in one response (a larger single message still goes
   * alone), so that responses stay under gRPC's 4 MB default receive limit.
   * @defaultValue 3 MiB
   */
  maxBatchBytes?: number;
  /** Publishes a message to the dead-letter topic; the message is settled once it resolves. */
  deadLetter: (message: InboundMessage, deliveryAttempts: number) => Promise<void>;
  now: () => number;
  /**
   * Exactly-once delivery: acks, nacks and deadline changes go through the
   * `*Checked` methods, which answer each id; an ack id is verified whole and
   * must come from the stream holding the lease; the next message of an
   * ordering key waits until the previous ack is durable ({@link DeliveryEngine.acksDurable}).
   */
  exactlyOnce?: boolean;
  /**
   * Whether messages may be leased now; checked once per dispatch. An
   * exactly-once subscription leases only while its dispatcher provably owns
   * it; call {@link DeliveryEngine.dispatch} when that becomes true again.
   */
  mayLease?: () => boolean;
}

/** Why an ack, nack or deadline change of an exactly-once subscription did not take effect. */
export type LeaseFailure = 'invalid' | 'expired' | 'lease-moved';

/** The answers to one request's ack ids on an exactly-once subscription. */
export interface LeaseOutcome {
  /** Taken; for acks, confirmed once the settled state is durable. */
  accepted: string[];
  failed: Array<{ ackId: string; reason: LeaseFailure }>;
}

/** Why a lease ended, kept a while on an exactly-once subscription to answer a late ack. */
type LeaseEnd = 'acked' | 'nacked' | 'expired' | 'stream-gone' | 'revoked';

/** Ended leases remembered for their reasons; older ones are answered `expired`. */
const endedLeasesKept = 100_000;

/** Counters for logs, metrics and tests. */
export interface DeliveryStats {
  delivered: number;
  acked: number;
  nacked: number;
  expired: number;
  filtered: number;
  deduplicated: number;
  deadLettered: number;
  unknownAcks: number;
}

/** Counters of a subscription before its first message. */
export function noCounts(): DeliveryStats {
  return {
    delivered: 0,
    acked: 0,
    nacked: 0,
    expired: 0,
    filtered: 0,
    deduplicated: 0,
    deadLettered: 0,
    unknownAcks: 0,
  };
}

type EntryState = 'queued' | 'ready' | 'leased' | 'waiting' | 'dead-lettering' | 'settled';

interface Entry {
  message: InboundMessage;
  /** Deliveries so far. */
  attempts: number;
  state: EntryState;
  /** The partition ownership this entry belongs to; a revoke or seek starts a new one. */
  epoch: number;
  leaseId: number;
  /** The ack id of the current lease, compared whole on every ack: no MAC is computed per ack. */
  ackId: string;
  streamId: number;
  deadline: number;
  dueAt: number;
}

interface PartitionState {
  epoch: number;
  tracker: OffsetTracker;
  dedup: DedupWindow;
  /** Received and not settled: what pausing the partition bounds. */
  held: number;
  /**
   * The same messages by offset: the oldest unacknowledged one is looked up
   * here for its age. Made by the first message held, dropped by
   * {@link DeliveryEngine.releaseEmpty} once none is.
   */
  heldAt: Map<number, InboundMessage> | undefined;
  /** Offsets past the start settled by an earlier owner (exactly-once): skipped when read. */
  preSettled: Set<number> | undefined;
}

/** Where a partition's acknowledgements stand, for backlog figures. */
export interface PartitionProgress {
  /** The oldest offset not settled: everything before it is. */
  commitPoint: number;
  /** Offsets past the commit point settled already (acked out of order, filtered, deduplicated). */
  settledAhead: number;
  /** The message at the commit point when it is held here (it may not be read yet). */
  oldest: InboundMessage | undefined;
}

interface StreamState {
  id: number;
  sink: DeliverySink;
  flow: FlowControl;
  ackDeadlineMillis: number | undefined;
  writable: boolean;
  /** Made by the first lease, dropped by {@link DeliveryEngine.releaseEmpty}. */
  leases: Set<number> | undefined;
}

/** A FIFO that drops entries lazily: stale ones are skipped when they reach the front. */
class EntryQueue {
  private items: Entry[] = [];
  private head = 0;

  push(entry: Entry): void {
    this.items.push(entry);
  }

  peek(isLive: (entry: Entry) => boolean): Entry | undefined {
    while (this.head < this.items.length) {
      const entry = this.items[this.head]!;
      if (isLive(entry)) return entry;
      this.head++;
    }
    if (this.head > 0) {
      this.items = [];
      this.head = 0;
    }
    return undefined;
  }

  shift(): void {
    this.head++;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  get length(): number {
    return this.items.length - this.head;
  }
}

let nextEpoch = 1;

/**
 * Delivery of one subscription's messages on one dispatcher: leases, acks,
 * redelivery with backoff, dead letters, ordering, flow control, and the
 * offset each owned partition may commit. It knows nothing of Kafka or gRPC:
 * the adapters feed it messages and streams, and call `tick` on a timer.
 */
export class DeliveryEngine {
  private readonly partitions = new Map<number, PartitionState>();
  private readonly streams: StreamState[] = [];
  /** The same streams by id: acks and drains look their stream up, thousands of streams or not. */
  private readonly streamsById = new Map<number, StreamState>();
  /** Made by the first lease, dropped by {@link releaseEmpty}. */
  private leases: Map<number, Entry> | undefined;
  private readonly fresh = new EntryQueue();
  private readonly redeliveries = new EntryQueue();
  private readonly expiries = new MinHeap<{ leaseId: number; deadline: number }>();
  private readonly waiting = new MinHeap<Entry>();
  private readonly deadLetterRetries = new MinHeap<Entry>();
  /** Ordered subscriptions only. */
  private readonly ordering: OrderingQueues<Entry> | undefined;
  private nextLeaseId = 1;
  private roundRobin = 0;
  private dispatching = false;
  private heldTotal = 0;
  private policy: DeliveryPolicy;
  /** Exactly-once only: recently ended leases, oldest first. */
  private readonly ended: Map<number, { entry: Entry; why: LeaseEnd; streamId: number }> | undefined;
  /** Exactly-once only: acked heads of ordering keys whose successors wait for the ack to be durable. */
  private awaitingDurable: Entry[] = [];
  /** How many acked heads were released so far: marks count from the engine's start, so a late one releases nothing twice. */
  private releasedDurable = 0;
  readonly stats: DeliveryStats = noCounts();

  constructor(private readonly options: DeliveryEngineOptions) {
    this.policy = options.policy;
    this.ended = options.exactlyOnce ? new Map() : undefined;
    this.ordering = options.ordering ? new OrderingQueues() : undefined;
  }

  /** Applies a subscription update (deadline, retry, dead letter) to future deliveries. */
  setPolicy(policy: DeliveryPolicy): void {
    this.policy = policy;
  }

  // Partitions.

  /**
   * Takes ownership of a partition; delivery starts at `startOffset`, skipping
   * `settled` (offsets past it an earlier owner settled, as an exactly-once
   * subscription stores them).
   */
  assignPartition(partition: number, startOffset: number, settled?: readonly number[]): void {
    this.revokePartition(partition);
    this.partitions.set(partition, {
      epoch: nextEpoch++,
      tracker: new OffsetTracker(startOffset),
      dedup: new DedupWindow(this.options.dedupWindowMillis),
      held: 0,
      heldAt: undefined,
      preSettled: settled && settled.length > 0 ? new Set(settled) : undefined,
    });
  }

  /**
   * Gives up a partition: its messages are dropped, and acks of its leases are
   * ignored from now on; whoever owns it next redelivers from the commit point.
   */
  revokePartition(partition: number): void {
    const state = this.partitions.get(partition);
    if (!state) return;
    this.partitions.delete(partition);
    this.heldTotal -= state.held;
    for (const [leaseId, entry] of this.leases ?? []) {
      if (entry.message.partition === partition) this.endLease(leaseId, entry, 'revoked');
    }
    for (const head of this.ordering?.dropWhere((entry) => entry.message.partition === partition) ?? []) {
      if (head.state === 'queued' && this.isCurrent(head)) {
        head.state = 'ready';
        this.fresh.push(head);
      }
    }
    this.waiting.filter((entry) => entry.message.partition !== partition);
    this.deadLetterRetries.filter((entry) => entry.message.partition !== partition);
  }

  /** Partitions owned now. */
  ownedPartitions(): number[] {
    return [...this.partitions.keys()];
  }

  owns(partition: number): boolean {
    return this.partitions.has(partition);
  }

  /** Messages held (received, not settled) on a partition, and in all. */
  held(partition?: number): number {
    return partition === undefined ? this.heldTotal : (this.partitions.get(partition)?.held ?? 0);
  }

  /** Offset after the last one received on a partition. */
  fetchedUpTo(partition: number): number | undefined {
    return this.partitions.get(partition)?.tracker.fetchedUpTo;
  }

  /** Per owned partition, how far its messages are settled. */
  progress(): Map<number, PartitionProgress> {
    const progress = new Map<number, PartitionProgress>();
    for (const [partition, state] of this.partitions) {
      const commitPoint = state.tracker.commitPoint();
      progress.set(partition, {
        commitPoint,
        settledAhead: state.tracker.settledAhead,
        oldest: state.heldAt?.get(commitPoint),
      });
    }
    return progress;
  }

  /**
   * Gives back the storage of structures emptied since messages last came:
   * for an idle subscription, not per message, since a steady flow would only
   * make them again. A dispatcher keeps an engine for every subscription it
   * serves, thousands of them idle.
   */
  releaseEmpty(): void {
    for (const state of this.partitions.values()) {
      if (state.held === 0) state.heldAt = undefined;
      state.tracker.releaseEmpty();
    }
    if (this.leases?.size === 0) this.leases = undefined;
    for (const stream of this.streams) if (stream.leases?.size === 0) stream.leases = undefined;
  }

  /** Messages leased to streams now, awaiting their ack. */
  get leaseCount(): number {
    return this.leases?.size ?? 0;
  }

  /** The offset of an owned partition safe to commit; undefined for a partition not owned. */
  commitPoint(partition: number): number | undefined {
    return this.partitions.get(partition)?.tracker.commitPoint();
  }

  /**
   * Visits each owned partition with the offset safe to commit. Builds no
   * collection: every served subscription is asked once per commit interval,
   * most of them with nothing new.
   */
  forEachCommitPoint(visit: (partition: number, offset: number) => void): void {
    for (const [partition, state] of this.partitions) visit(partition, state.tracker.commitPoint());
  }

  /** Per owned partition, the commit point and the offsets settled past it: an exactly-once subscription's state. */
  settledPositions(): Map<number, { offset: number; settled: number[] }> {
    const positions = new Map<number, { offset: number; settled: number[] }>();
    for (const [partition, state] of this.partitions) {
      positions.set(partition, { offset: state.tracker.commitPoint(), settled: state.tracker.settledPast() });
    }
    return positions;
  }

  // Messages in.

  /**
   * Takes messages fetched from one owned partition, in offset order. Offsets
   * already received (a re-fetch after a rebalance) are skipped; filtered-out
   * and repeated messages are settled at once.
   */
  receive(messages: InboundMessage[]): void {
    for (const message of messages) {
      const partition = this.partitions.get(message.partition);
      if (!partition || partition.tracker.hasFetched(message.offset)) continue;
      partition.tracker.fetched(message.offset);
      if (partition.preSettled?.delete(message.offset)) {
        // Settled by an earlier owner (an exactly-once subscription's confirmed ack): never again.
        partition.tracker.settle(message.offset);
        continue;
      }
      if (message.redrive && message.redrive.target !== this.options.redriveTarget) {
        // A dead letter moved back to another subscription of the topic: not this one's to deliver.
        partition.tracker.settle(message.offset);
        continue;
      }
      if (!this.options.filter(message.attributes)) {
        partition.tracker.settle(message.offset);
        this.stats.filtered++;
        continue;
      }
      if (partition.dedup.isRepeat(dedupKeyOf(message), message.offset, message.publishTimeMillis)) {
        partition.tracker.settle(message.offset);
        this.stats.deduplicated++;
        continue;
      }
      partition.held++;
      (partition.heldAt ??= new Map()).set(message.offset, message);
      this.heldTotal++;
      const entry: Entry = {
        message,
        attempts: 0,
        state: 'queued',
        epoch: partition.epoch,
        leaseId: 0,
        ackId: '',
        streamId: 0,
        deadline: 0,
        dueAt: 0,
      };
      if (!this.ordering || !message.orderingKey || this.ordering.enqueue(message.orderingKey, entry)) {
        entry.state = 'ready';
        this.fresh.push(entry);
      }
    }
    this.dispatch();
  }

  /**
   * Feeds messages from before the delivery start (re-read after a failover)
   * into the deduplication window only, so repeats across the hand-over are caught.
   */
  observeHistory(messages: InboundMessage[]): void {
    for (const message of messages) {
      this.partitions
        .get(message.partition)
        ?.dedup.isRepeat(dedupKeyOf(message), message.offset, message.publishTimeMillis);
    }
  }

  // Streams.

  addStream(id: number, sink: DeliverySink, limits: FlowLimits, ackDeadlineMillis?: number): void {
    const stream: StreamState = {
      id,
      sink,
      flow: new FlowControl(limits),
      ackDeadlineMillis,
      writable: true,
      leases: undefined,
    };
    this.streams.push(stream);
    this.streamsById.set(id, stream);
    this.dispatch();
  }

  /** A stream went away: what it held is delivered again at once (to any stream). */
  removeStream(id: number): void {
    const index = this.streams.findIndex((stream) => stream.id === id);
    if (index < 0) return;
    const [stream] = this.streams.splice(index, 1);
    this.streamsById.delete(id);
    for (const leaseId of [...(stream!.leases ?? [])]) {
      const entry = this.leases?.get(leaseId);
      if (entry) {
        this.endLease(leaseId, entry, 'stream-gone');
        this.fail(entry, false);
      }
    }
    this.dispatch();
  }

  get streamCount(): number {
    return this.streams.length;
  }

  /** What a stream holds now (for tests and metrics). */
  outstanding(id: number): { messages: number; bytes: number } | undefined {
    const stream = this.streamsById.get(id);
    return stream && { messages: stream.flow.outstandingMessages, bytes: stream.flow.outstandingBytes };
  }

  /**
   * New flow limits for a stream: a push endpoint's concurrency grows and
   * shrinks with its answers. Lower limits take effect as leases end.
   */
  setStreamLimits(id: number, limits: FlowLimits): void {
    const stream = this.streamsById.get(id);
    if (!stream) return;
    const current = stream.flow.limits;
    // A push sender restates its limits after every response; unchanged, there is nothing to fill.
    if (
      current.maxOutstandingMessages === limits.maxOutstandingMessages &&
      current.maxOutstandingBytes === limits.maxOutstandingBytes
    ) {
      return;
    }
    stream.flow.limits = limits;
    this.dispatch();
  }

  /** The stream can take more after it was full. */
  streamDrained(id: number): void {
    const stream = this.streamsById.get(id);
    if (stream) stream.writable = true;
    this.dispatch();
  }

  // Acks.

  ack(ackIds: string[]): void {
    for (const ackId of ackIds) {
      const found = this.lease(ackId);
      if (!found) continue;
      this.endLease(found.leaseId, found.entry, 'acked');
      this.stats.acked++;
      this.settle(found.entry);
    }
    this.dispatch();
  }

  nack(ackIds: string[]): void {
    for (const ackId of ackIds) {
      const found = this.lease(ackId);
      if (!found) continue;
      this.endLease(found.leaseId, found.entry, 'nacked');
      this.stats.nacked++;
      this.fail(found.entry, true);
    }
    this.dispatch();
  }

  /** New deadlines, in seconds from now; 0 gives the message back at once, without backoff. */
  modifyDeadlines(ackIds: string[], seconds: number[]): void {
    const now = this.options.now();
    ackIds.forEach((ackId, i) => {
      const found = this.lease(ackId);
      if (found) this.extend(found.leaseId, found.entry, seconds[i] ?? 0, now);
    });
    this.dispatch();
  }

  private extend(leaseId: number, entry: Entry, seconds: number, now: number): void {
    const extension = Math.min(Math.max(seconds, 0), 600);
    if (extension === 0) {
      this.endLease(leaseId, entry, 'nacked');
      this.stats.nacked++;
      this.fail(entry, false);
      return;
    }
    entry.deadline = now + extension * 1000;
    this.expiries.push(entry.deadline, { leaseId, deadline: entry.deadline });
  }

  // Exactly-once: every id answered.

  /**
   * Acks from stream `streamId`. Accepted acks settle their messages at once
   * (nothing delivers them again here); the caller confirms them once the
   * settled state that includes them is durable.
   */
  ackChecked(streamId: number, ackIds: string[]): LeaseOutcome {
    const outcome: LeaseOutcome = { accepted: [], failed: [] };
    for (const ackId of ackIds) {
      const found = this.check(streamId, ackId);
      if (found === 'acked') outcome.accepted.push(ackId);
      else if (typeof found === 'string') outcome.failed.push({ ackId, reason: found });
      else {
        this.endLease(found.leaseId, found.entry, 'acked');
        this.stats.acked++;
        this.settle(found.entry, true);
        outcome.accepted.push(ackId);
      }
    }
    this.dispatch();
    return outcome;
  }

  /** Nacks from stream `streamId`: accepted ones are delivered again after the backoff. */
  nackChecked(streamId: number, ackIds: string[]): LeaseOutcome {
    const outcome: LeaseOutcome = { accepted: [], failed: [] };
    for (const ackId of ackIds) {
      const found = this.check(streamId, ackId);
      if (typeof found === 'string') {
        outcome.failed.push({ ackId, reason: found === 'acked' ? 'expired' : found });
        continue;
      }
      this.endLease(found.leaseId, found.entry, 'nacked');
      this.stats.nacked++;
      this.fail(found.entry, true);
      outcome.accepted.push(ackId);
    }
    this.dispatch();
    return outcome;
  }

  /** Deadline changes from stream `streamId`, as {@link modifyDeadlines}. */
  modifyDeadlinesChecked(streamId: number, ackIds: string[], seconds: number[]): LeaseOutcome {
    const outcome: LeaseOutcome = { accepted: [], failed: [] };
    const now = this.options.now();
    ackIds.forEach((ackId, i) => {
      const found = this.check(streamId, ackId);
      if (typeof found === 'string') {
        outcome.failed.push({ ackId, reason: found === 'acked' ? 'expired' : found });
        return;
      }
      this.extend(found.leaseId, found.entry, seconds[i] ?? 0, now);
      outcome.accepted.push(ackId);
    });
    this.dispatch();
    return outcome;
  }

  /** Where the acks stand now: pass it to {@link acksDurable} once the state taken now is stored. */
  durableMark(): number {
    return this.releasedDurable + this.awaitingDurable.length;
  }

  /**
   * The acks up to `mark` are durable: the next message of each of their
   * ordering keys may go out. Until then a failover could deliver the acked
   * message again (unconfirmed) after its successor, out of order.
   */
  acksDurable(mark: number): void {
    const count = mark - this.releasedDurable;
    if (count <= 0) return;
    const released = this.awaitingDurable.slice(0, count);
    this.awaitingDurable = this.awaitingDurable.slice(count);
    this.releasedDurable += count;
    for (const entry of released) {
      if (!this.isCurrent(entry)) continue;
      this.releaseOrdering(entry);
    }
    this.dispatch();
  }

  /**
   * The lease an exactly-once ack id stands for when stream `streamId` holds
   * it; else why not, or 'acked' when that very lease was acked already (a
   * repeat, answered as the first).
   */
  private check(streamId: number, ackId: string): { leaseId: number; entry: Entry } | LeaseFailure | 'acked' {
    const leaseId = this.options.ackIds.decode(this.options.ackScope, ackId);
    if (leaseId === undefined) {
      this.stats.unknownAcks++;
      return 'invalid';
    }
    const entry = this.leases?.get(leaseId);
    if (entry) return entry.streamId === streamId ? { leaseId, entry } : 'lease-moved';
    this.stats.unknownAcks++;
    const ended = this.ended?.get(leaseId);
    if (!ended) return 'expired';
    if (ended.why === 'acked') return 'acked';
    // Leased again, to another stream: only that lease can settle it now.
    const moved = ended.entry.state === 'leased' && ended.entry.streamId !== ended.streamId;
    return moved && this.isCurrent(ended.entry) ? 'lease-moved' : 'expired';
  }

  // Time.

  /** Expires leases past their deadline, releases messages whose backoff is over, and delivers. */
  tick(): void {
    const now = this.options.now();
    while ((this.expiries.peekKey() ?? Infinity) <= now) {
      const { leaseId, deadline } = this.expiries.pop()!;
      const entry = this.leases?.get(leaseId);
      if (!entry || entry.deadline !== deadline) continue;
      this.endLease(leaseId, entry, 'expired');
      this.stats.expired++;
      this.fail(entry, true);
    }
    while ((this.waiting.peekKey() ?? Infinity) <= now) {
      const entry = this.waiting.pop()!;
      if (entry.state !== 'waiting' || !this.isCurrent(entry)) continue;
      entry.state = 'ready';
      this.redeliveries.push(entry);
    }
    while ((this.deadLetterRetries.peekKey() ?? Infinity) <= now) {
      const entry = this.deadLetterRetries.pop()!;
      if (entry.state !== 'dead-lettering' || !this.isCurrent(entry)) continue;
      if (this.policy.maxDeliveryAttempts === undefined) {
        // The dead-letter policy was removed meanwhile: deliver the message again instead.
        entry.state = 'ready';
        this.redeliveries.push(entry);
      } else {
        this.deadLetter(entry);
      }
    }
    this.dispatch();
  }

  /** Hands ready messages to streams with room, round-robin, a batch per stream at a time. */
  dispatch(): void {
    if (this.dispatching) return;
    if (this.options.mayLease && !this.options.mayLease()) return;
    this.dispatching = true;
    try {
      let progressed = true;
      // Stop as soon as nothing is ready, the usual case (each new stream, ack and tick of an idle
      // subscription): visiting every stream for nothing made opening N streams cost N², and 5,000 of
      // them held the event loop, health checks included, for over a second.
      while (progressed && this.streams.length > 0 && this.hasReady()) {
        progressed = false;
        const count = this.streams.length;
        let nextStart = this.roundRobin;
        for (let turn = 0; turn < count && this.hasReady(); turn++) {
          const index = (this.roundRobin + turn) % count;
          const stream = this.streams[index]!;
          if (!stream.writable || !stream.flow.hasRoom()) continue;
          const batch = this.fill(stream);
          if (batch.length === 0) continue;
          progressed = true;
          // The next batch starts with the stream after the last one served, however few messages came.
          nextStart = index + 1;
          stream.writable = stream.sink.send(batch);
        }
        this.roundRobin = nextStart % count;
      }
    } finally {
      this.dispatching = false;
    }
  }

  private readonly isLive = (entry: Entry) => entry.state === 'ready' && this.isCurrent(entry);

  private hasReady(): boolean {
    return this.redeliveries.peek(this.isLive) !== undefined || this.fresh.peek(this.isLive) !== undefined;
  }

  private fill(stream: StreamState): Delivery[] {
    const batch: Delivery[] = [];
    let bytes = 0;
    const isLive = (entry: Entry) => entry.state === 'ready' && this.isCurrent(entry);
    while (batch.length < this.options.maxBatchSize) {
      const queue = this.redeliveries.peek(isLive) ? this.redeliveries : this.fresh;
      const entry = queue.peek(isLive);
      if (!entry || !stream.flow.fits(entry.message.size)) break;
      if (batch.length > 0 && bytes + entry.message.size > (this.options.maxBatchBytes ?? 3 * 1024 * 1024)) break;
      queue.shift();
      bytes += entry.message.size;
      batch.push(this.leaseTo(stream, entry));
    }
    return batch;
  }

  private leaseTo(stream: StreamState, entry: Entry): Delivery {
    const leaseId = this.nextLeaseId++;
    entry.state = 'leased';
    entry.attempts++;
    entry.leaseId = leaseId;
    entry.ackId = this.options.ackIds.encode(this.options.ackScope, leaseId);
    entry.streamId = stream.id;
    entry.deadline = this.options.now() + (stream.ackDeadlineMillis ?? this.policy.ackDeadlineMillis);
    (this.leases ??= new Map()).set(leaseId, entry);
    (stream.leases ??= new Set()).add(leaseId);
    stream.flow.add(entry.message.size);
    this.expiries.push(entry.deadline, { leaseId, deadline: entry.deadline });
    this.stats.delivered++;
    return {
      ackId: entry.ackId,
      message: entry.message,
      deliveryAttempt: entry.attempts,
    };
  }

  private lease(ackId: string): { leaseId: number; entry: Entry } | undefined {
    const leaseId = AckIds.leaseIdOf(ackId);
    const entry = leaseId === undefined ? undefined : this.leases?.get(leaseId);
    if (!entry || entry.ackId !== ackId) {
      this.stats.unknownAcks++;
      return undefined;
    }
    return { leaseId: leaseId!, entry };
  }

  private endLease(leaseId: number, entry: Entry, why: LeaseEnd): void {
    this.leases!.delete(leaseId);
    if (this.ended) {
      this.ended.set(leaseId, { entry, why, streamId: entry.streamId });
      if (this.ended.size > endedLeasesKept) this.ended.delete(this.ended.keys().next().value!);
    }
    const stream = this.streamsById.get(entry.streamId);
    if (stream?.leases?.delete(leaseId)) stream.flow.remove(entry.message.size);
  }

  /** A delivery failed: deliver again after backoff, or dead-letter once attempts are used up. */
  private fail(entry: Entry, withBackoff: boolean): void {
    if (!this.isCurrent(entry)) return;
    const max = this.policy.maxDeliveryAttempts;
    if (max !== undefined && entry.attempts >= max) {
      this.deadLetter(entry);
      return;
    }
    const delay = withBackoff ? retryDelayMillis(this.policy.retryPolicy, entry.attempts) : 0;
    if (delay <= 0) {
      entry.state = 'ready';
      this.redeliveries.push(entry);
      return;
    }
    entry.state = 'waiting';
    entry.dueAt = this.options.now() + delay;
    this.waiting.push(entry.dueAt, entry);
  }

  private deadLetter(entry: Entry): void {
    entry.state = 'dead-lettering';
    this.options.deadLetter(entry.message, entry.attempts).then(
      () => {
        if (entry.state !== 'dead-lettering' || !this.isCurrent(entry)) return;
        this.stats.deadLettered++;
        this.settle(entry);
        this.dispatch();
      },
      () => {
        // The dead-letter topic could not take it: publish again shortly (never deliver it again);
        // the message stays unsettled, so its offset is not committed meanwhile.
        if (entry.state !== 'dead-lettering' || !this.isCurrent(entry)) return;
        entry.dueAt = this.options.now() + 1_000;
        this.deadLetterRetries.push(entry.dueAt, entry);
      },
    );
  }

  /** @param untilDurable - an exactly-once ack: the ordering key's next message waits for {@link acksDurable}. */
  private settle(entry: Entry, untilDurable = false): void {
    if (entry.state === 'settled' || !this.isCurrent(entry)) return;
    entry.state = 'settled';
    const partition = this.partitions.get(entry.message.partition)!;
    partition.tracker.settle(entry.message.offset);
    partition.held--;
    partition.heldAt!.delete(entry.message.offset);
    this.heldTotal--;
    if (this.ordering && entry.message.orderingKey) {
      if (untilDurable) this.awaitingDurable.push(entry);
      else this.releaseOrdering(entry);
    }
  }

  private releaseOrdering(entry: Entry): void {
    const next = this.ordering?.settleHead(entry.message.orderingKey, entry);
    if (next) {
      next.state = 'ready';
      this.fresh.push(next);
    }
  }

  private isCurrent(entry: Entry): boolean {
    return this.partitions.get(entry.message.partition)?.epoch === entry.epoch;
  }
}
