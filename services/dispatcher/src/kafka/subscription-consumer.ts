import type {
  CommittedOffset,
  ConsumedRecord,
  GroupConsumer,
  KafkaClient,
  KafkaNames,
  OffsetCommit,
  PartitionOffset,
  TopicAdmin,
} from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { DeliveryEngine } from '../domain/delivery-engine';
import { toInboundMessages } from './inbound-record';

/** Where a subscription starts, from the registry: what a partition without a usable commit uses. */
export interface StartInfo {
  /** The subscription's incarnation: commits of an older one with the same name are ignored. */
  createRevision: string;
  startOffsets: Map<number, number>;
  lastSeek: { revision: string; offsets: Map<number, number> } | undefined;
}

/** Options of {@link SubscriptionConsumer}. */
export interface SubscriptionConsumerOptions {
  kafka: KafkaClient;
  admin: TopicAdmin;
  names: KafkaNames;
  logger: Logger;
  subscription: string;
  topic: string;
  engine: DeliveryEngine;
  /** The subscription's current start information (it changes on seek). */
  startInfo: () => StartInfo;
  dedupWindowMillis: number;
  /** A partition is paused once this many of its messages are held unsettled. */
  maxHeldPerPartition: number;
  /** Every partition is paused once this many messages are held in all. */
  maxHeldTotal: number;
  sessionTimeoutMillis: number;
}

type Phase =
  | { kind: 'resolving' }
  | { kind: 'seeking'; target: number; deliverFrom: number }
  | { kind: 'live'; deliverFrom: number };

/** Stored beside each committed offset: which incarnation and which seek the offset belongs to. */
interface CommitMetadata {
  c: string;
  s: string;
}

/**
 * One subscription's Kafka consumer on this dispatcher: group
 * `<prefix>sub.<name>`, sharing partitions with the other dispatchers. It
 * decides where each newly assigned partition starts (committed offset, the
 * latest seek, or the start offsets recorded at creation), feeds fetched
 * messages to the delivery engine, pauses partitions the engine cannot take,
 * and commits what the engine has settled.
 */
export class SubscriptionConsumer {
  private readonly consumer: GroupConsumer;
  private readonly kafkaTopic: string;
  private readonly phases = new Map<number, Phase>();
  private readonly lastCommitted = new Map<number, number>();
  /** Per partition, the seek whose position its delivery reflects: what its commits are stamped with. */
  private readonly seekRevisions = new Map<number, string>();
  private readonly paused = new Set<number>();
  private generationFacts: Promise<GenerationFacts> | undefined;
  private running = false;
  private committing: Promise<void> | undefined;

  constructor(private readonly options: SubscriptionConsumerOptions) {
    this.kafkaTopic = options.names.topic(options.topic);
    this.consumer = options.kafka.groupConsumer({
      groupId: options.names.subscriptionGroup(options.subscription),
      topic: this.kafkaTopic,
      sessionTimeoutMillis: options.sessionTimeoutMillis,
      handlers: {
        assigned: (partitions) => this.onAssignment(partitions),
        // Hand-over: commit what is settled before the partitions move.
        revoking: () => this.commit(),
        records: (partition, records) => this.onRecords(partition, records),
      },
    });
  }

  async start(): Promise<void> {
    this.running = true;
    try {
      await this.consumer.start();
    } catch (error) {
      this.running = false;
      throw error;
    }
  }

  /** Commits what is settled, then leaves the group so the partitions move to other dispatchers. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.consumer.stop(); // commits through `revoking` first
    this.running = false;
  }

  /** Called on the engine's timer: resumes partitions that drained. */
  onTick(): void {
    for (const partition of [...this.paused]) {
      const { maxHeldPerPartition, maxHeldTotal } = this.options;
      const engine = this.options.engine;
      if (engine.held(partition) < maxHeldPerPartition / 2 && engine.held() < maxHeldTotal / 2) {
        this.paused.delete(partition);
        this.consumer.resume([partition]);
      }
    }
  }

  /**
   * Commits, per partition, the offset before which everything is settled, with
   * the incarnation and seek it belongs to. Runs in the background, not per ack.
   */
  commit(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.committing ??= this.commitOnce().finally(() => (this.committing = undefined));
    return this.committing;
  }

  /**
   * A seek from the registry: every owned partition drops what it holds and
   * continues from the new position; the position is committed at once so
   * that whoever owns a partition next starts there too.
   */
  async seek(seek: { revision: string; offsets: Map<number, number> }): Promise<void> {
    const earliest = await this.options.admin.earliestOffsets(this.kafkaTopic);
    for (const partition of this.phases.keys()) {
      const phase = this.phases.get(partition)!;
      if (phase.kind === 'resolving') continue; // it reads the new seek when it resolves
      const target = Math.max(seek.offsets.get(partition) ?? 0, offsetOf(earliest, partition));
      this.options.engine.assignPartition(partition, target);
      this.phases.set(partition, { kind: 'seeking', target, deliverFrom: target });
      this.seekRevisions.set(partition, seek.revision);
      this.lastCommitted.delete(partition);
      this.consumer.seek(partition, target);
      if (this.paused.delete(partition)) this.consumer.resume([partition]);
    }
    this.options.logger.info({ revision: seek.revision, partitions: [...this.phases.keys()] }, 'applied seek');
    await this.commit();
  }

  private onAssignment(partitions: number[]): void {
    const assigned = new Set(partitions);
    for (const partition of [...this.phases.keys()]) {
      if (assigned.has(partition)) continue;
      this.options.engine.revokePartition(partition);
      this.phases.delete(partition);
      this.lastCommitted.delete(partition);
      this.seekRevisions.delete(partition);
    }
    for (const partition of assigned)
      if (!this.phases.has(partition)) this.phases.set(partition, { kind: 'resolving' });
    // A new assignment starts unpaused; the next batches pause again what is still full.
    this.paused.clear();
    this.generationFacts = undefined;
    this.options.logger.info({ partitions: [...assigned].sort((a, b) => a - b) }, 'partitions assigned');
  }

  private async onRecords(partition: number, records: ConsumedRecord[]): Promise<void> {
    if (!this.running || records.length === 0) return;
    let phase = this.phases.get(partition);
    if (!phase) {
      phase = { kind: 'resolving' };
      this.phases.set(partition, phase);
    }
    if (phase.kind === 'resolving') {
      const resolving = phase;
      const { deliverFrom, historyFrom, seekRevision } = await this.resolveStart(partition);
      if (this.phases.get(partition) !== resolving) return; // revoked or seeked meanwhile
      this.options.engine.assignPartition(partition, deliverFrom);
      this.seekRevisions.set(partition, seekRevision);
      this.phases.set(partition, { kind: 'seeking', target: historyFrom, deliverFrom });
      this.consumer.seek(partition, historyFrom);
      return;
    }
    if (phase.kind === 'seeking') {
      if (records[0]!.offset < phase.target) return; // fetched before the seek took effect
      phase = { kind: 'live', deliverFrom: phase.deliverFrom };
      this.phases.set(partition, phase);
    }
    const deliverFrom = phase.deliverFrom;
    const history = [];
    const live = [];
    for (const message of toInboundMessages(records, this.options.logger)) {
      if (message.offset < deliverFrom) history.push(message);
      else live.push(message);
    }
    if (history.length > 0) this.options.engine.observeHistory(history);
    if (live.length > 0) this.options.engine.receive(live);
    const engine = this.options.engine;
    if (engine.held(partition) >= this.options.maxHeldPerPartition || engine.held() >= this.options.maxHeldTotal) {
      if (!this.paused.has(partition)) {
        this.paused.add(partition);
        this.consumer.pause([partition]);
      }
    }
  }

  private async resolveStart(
    partition: number,
  ): Promise<{ deliverFrom: number; historyFrom: number; seekRevision: string }> {
    const facts = await this.facts();
    const info = this.options.startInfo();
    const committed = facts.committed.get(partition);
    const metadata = parseMetadata(committed?.metadata ?? null);
    const seekRevision = info.lastSeek ? BigInt(info.lastSeek.revision) : -1n;
    let deliverFrom: number;
    let source: string;
    let stamp = info.lastSeek?.revision ?? '-1';
    if (
      committed &&
      Number(committed.offset) >= 0 &&
      metadata?.c === info.createRevision &&
      BigInt(metadata.s) >= seekRevision
    ) {
      deliverFrom = Number(committed.offset);
      source = 'committed';
      stamp = metadata.s; // at least as new as the seek we know of
    } else if (info.lastSeek) {
      deliverFrom = info.lastSeek.offsets.get(partition) ?? 0;
      source = 'seek';
    } else {
      deliverFrom = info.startOffsets.get(partition) ?? 0;
      source = 'start';
    }
    const earliest = offsetOf(facts.earliest, partition);
    deliverFrom = Math.max(deliverFrom, earliest);
    // Re-read the dedup window before the start, so repeats across a hand-over are still caught.
    const windowStart = facts.windowStart ? offsetOf(facts.windowStart, partition) : deliverFrom;
    const historyFrom = Math.max(earliest, Math.min(deliverFrom, windowStart));
    this.options.logger.info({ partition, deliverFrom, historyFrom, source }, 'partition start resolved');
    return { deliverFrom, historyFrom, seekRevision: stamp };
  }

  /** Committed offsets and log bounds, read once per generation for all partitions. */
  private facts(): Promise<GenerationFacts> {
    this.generationFacts ??= (async () => {
      const { admin } = this.options;
      const group = this.options.names.subscriptionGroup(this.options.subscription);
      const [committed, earliest, windowStart] = await Promise.all([
        admin.committedOffsets(group, this.kafkaTopic),
        admin.earliestOffsets(this.kafkaTopic),
        this.options.dedupWindowMillis > 0
          ? admin.offsetsForTime(this.kafkaTopic, Date.now() - this.options.dedupWindowMillis)
          : Promise.resolve(undefined),
      ]);
      return { committed: new Map(committed.map((c) => [c.partition, c])), earliest, windowStart };
    })().catch((error: unknown) => {
      this.generationFacts = undefined;
      throw error;
    });
    return this.generationFacts;
  }

  private async commitOnce(): Promise<void> {
    const createRevision = this.options.startInfo().createRevision;
    const offsets: OffsetCommit[] = [];
    for (const [partition, offset] of this.options.engine.commitPoints()) {
      if (this.lastCommitted.get(partition) === offset) continue;
      const metadata: CommitMetadata = { c: createRevision, s: this.seekRevisions.get(partition) ?? '-1' };
      offsets.push({ partition, offset, metadata: JSON.stringify(metadata) });
    }
    if (offsets.length === 0) return;
    try {
      await this.consumer.commit(offsets);
      for (const { partition, offset } of offsets) this.lastCommitted.set(partition, offset);
    } catch (error) {
      // A rebalance in progress or a moving coordinator: the next tick commits again.
      this.options.logger.debug({ err: error }, 'commit failed; will retry');
    }
  }
}

interface GenerationFacts {
  committed: Map<number, CommittedOffset>;
  earliest: PartitionOffset[];
  windowStart: PartitionOffset[] | undefined;
}

function offsetOf(offsets: PartitionOffset[], partition: number): number {
  const found = offsets.find((o) => o.partition === partition);
  return found ? Math.max(0, Number(found.offset)) : 0;
}

function parseMetadata(metadata: string | null): CommitMetadata | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as CommitMetadata;
    return typeof parsed.c === 'string' && typeof parsed.s === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
