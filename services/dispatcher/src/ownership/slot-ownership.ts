import { UnavailableError } from '@herald/errors';
import type { GroupConsumer, KafkaClient, PartitionReader, TopicAdmin } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { retry } from '@herald/retry';
import { type CursorRecord, decodeCursor } from '../domain/cursor-record';

/** Options of {@link SlotOwnership}. */
export interface SlotOwnershipOptions {
  kafka: KafkaClient;
  admin: TopicAdmin;
  logger: Logger;
  /** The cursor topic: one partition per slot. */
  topic: string;
  groupId: string;
  sessionTimeoutMillis: number;
  /** A slot is this member's, with the latest cursor of each of its subscriptions. */
  gained(slot: number, cursors: Map<string, CursorRecord>): void;
  /** Every slot is about to go (a rebalance, or leaving): stop serving them and store their cursors. */
  losing(): Promise<void>;
}

/** How long joining may be retried at start-up. */
const startTimeoutMillis = 60_000;

/** How long a load of a slot's cursors may take before the slot is given up on until the next rebalance. */
const loadTimeoutMillis = 20_000;

/**
 * Which subscriptions this dispatcher serves. The cursor topic's partitions
 * are slots; a subscription belongs to the slot its name hashes to, and the
 * dispatchers share the slots as members of one consumer group, so Kafka's
 * group protocol decides who serves what and moves a dead member's slots to
 * the others. A gained slot is served once its cursors are read back.
 *
 * The group is classic (eager): on every rebalance all slots are given up
 * first, then the new assignment is loaded.
 */
export class SlotOwnership {
  private consumer: GroupConsumer | undefined;
  private readonly ready = new Set<number>();
  private readonly loading = new Map<number, Promise<void>>();
  private generation = 0;
  private loader: PartitionReader | undefined;
  private settle: (() => void) | undefined;
  private readonly settled = new Promise<void>((resolve) => (this.settle = resolve));

  constructor(private readonly options: SlotOwnershipOptions) {}

  /** Joins the group; retried while the cursor topic, just created, is not yet known to every broker. */
  async start(): Promise<void> {
    await retry(
      async () => {
        const consumer = this.options.kafka.groupConsumer({
          groupId: this.options.groupId,
          topic: this.options.topic,
          sessionTimeoutMillis: this.options.sessionTimeoutMillis,
          handlers: {
            assigned: (slots) => this.onAssigned(slots),
            revoking: () => this.onRevoking(),
            // Membership is all this consumer is for: cursors are read by the loader, from the start.
            records: () => undefined,
          },
        });
        this.consumer = consumer;
        await consumer.start();
      },
      { initialMillis: 200, maxMillis: 2_000, totalTimeoutMillis: startTimeoutMillis },
    );
  }

  /**
   * Resolves once the first assignment is loaded (or after `timeoutMillis`):
   * a dispatcher reports SERVING only then, so a stream reaching it right after
   * start finds its subscription served or relayed rather than UNAVAILABLE.
   */
  async firstAssignment(timeoutMillis: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMillis)))]);
    clearTimeout(timer);
  }

  /** Gives every slot up (storing their cursors first) and leaves the group. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    await this.stopLoader();
  }

  /** Whether this member serves `slot` now; a slot still loading resolves once it is served (or not). */
  owns(slot: number): boolean | Promise<boolean> {
    if (this.ready.has(slot)) return true;
    const loading = this.loading.get(slot);
    return loading ? loading.then(() => this.ready.has(slot)) : false;
  }

  get ownedSlots(): number[] {
    return [...this.ready].sort((a, b) => a - b);
  }

  private onAssigned(slots: number[]): void {
    const generation = ++this.generation;
    this.ready.clear();
    this.loading.clear();
    // Nothing is read through the group: its partitions would otherwise be fetched from the start.
    setImmediate(() => {
      if (generation === this.generation) this.consumer?.pause(slots);
    });
    if (slots.length === 0) {
      this.settle?.();
      return;
    }
    // Loading needs Kafka; while a broker is down it may fail for a while: try again for as long as
    // the slots are this member's, or nothing would be served until the next rebalance.
    const load = retry(() => this.load(generation, slots), {
      initialMillis: 500,
      maxMillis: 5_000,
      retryable: () => generation === this.generation,
      onRetry: (error, attempt, waitMillis) =>
        this.options.logger.warn(
          { err: error, slots: slots.length, attempt, waitMillis },
          'slot cursors not loaded; retrying',
        ),
    }).catch(() => undefined);
    for (const slot of slots) this.loading.set(slot, load);
    void load.then(() => this.settle?.());
    this.options.logger.info({ slots: [...slots].sort((a, b) => a - b) }, 'slots assigned');
  }

  private async onRevoking(): Promise<void> {
    this.generation++;
    this.ready.clear();
    this.loading.clear();
    await this.stopLoader();
    await this.options.losing();
  }

  /** Reads each slot's partition to its end, keeping the last cursor per subscription. */
  private async load(generation: number, slots: number[]): Promise<void> {
    const started = Date.now();
    const ends = new Map(
      (await this.options.admin.latestOffsets(this.options.topic)).map((o) => [o.partition, Number(o.offset)]),
    );
    const cursors = new Map<number, Map<string, CursorRecord>>(slots.map((slot) => [slot, new Map()]));
    const positions = new Map<number, number>(slots.map((slot) => [slot, 0]));
    const done = (slot: number) => (positions.get(slot) ?? 0) >= (ends.get(slot) ?? 0);
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const advance = (slot: number, offset: number) => {
      positions.set(slot, Math.max(positions.get(slot) ?? 0, offset));
      if (slots.every(done)) finish();
    };
    if (slots.every(done)) finish();
    else {
      await this.stopLoader();
      if (generation !== this.generation) return;
      this.loader = this.options.kafka.partitionReader({
        topic: this.options.topic,
        start: slots.filter((slot) => !done(slot)).map((slot) => ({ partition: slot, offset: 0 })),
        records: (slot, records) => {
          const slotCursors = cursors.get(slot)!;
          for (const record of records) {
            const name = record.key?.toString('utf8');
            if (!name) continue;
            const cursor = record.value && decodeCursor(record.value);
            if (cursor) slotCursors.set(name, cursor);
            else slotCursors.delete(name); // a tombstone, or a format this build does not read
          }
          advance(slot, records[records.length - 1]!.offset + 1);
        },
        caughtUp: (slot, offset) => advance(slot, offset),
      });
      await this.loader.start();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new UnavailableError(`slot cursors not read within ${loadTimeoutMillis} ms`)),
          loadTimeoutMillis,
        );
      });
      try {
        await Promise.race([finished, timeout]);
      } finally {
        clearTimeout(timer);
        await this.stopLoader();
      }
    }
    if (generation !== this.generation) return;
    for (const slot of slots) {
      this.ready.add(slot);
      this.options.gained(slot, cursors.get(slot)!);
    }
    const subscriptions = [...cursors.values()].reduce((sum, slot) => sum + slot.size, 0);
    this.options.logger.info(
      { slots: slots.length, subscriptions, loadMillis: Date.now() - started },
      'slot cursors loaded; serving',
    );
  }

  private async stopLoader(): Promise<void> {
    const loader = this.loader;
    this.loader = undefined;
    await loader?.stop();
  }
}
