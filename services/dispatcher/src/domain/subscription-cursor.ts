import type { DeliveryEngine } from './delivery-engine';
import type { InboundMessage } from './inbound-message';

/** A batch read at a position: the messages, and the position after them. */
export interface SourceRead {
  messages: InboundMessage[];
  next: number;
}

/** The partitions of a topic as this dispatcher reads them once for every subscription. */
export interface PartitionSource {
  /**
   * Up to `max` messages at or after `position`; null when there are none yet,
   * and then `wake` is called once, when there may be.
   */
  read(partition: number, position: number, max: number, wake: () => void): SourceRead | null;
}

/** Bounds on what one subscription holds unsettled before it stops reading. */
export interface CursorLimits {
  maxHeldPerPartition: number;
  maxHeldTotal: number;
  /** Most messages taken from the source in one read. */
  maxRead: number;
}

interface PartitionCursor {
  /** The next offset to read. */
  position: number;
  /** Offsets before this were delivered before (a previous owner): they only feed the dedup window. */
  deliverFrom: number;
  /** Registered with the source for a wake-up. */
  waiting: boolean;
  /** Stopped reading because the engine holds too much; resumed once it drained by half. */
  full: boolean;
}

/**
 * One subscription's read positions, one per partition, over a source shared
 * with the other subscriptions of the topic. Reads only while the delivery
 * engine has room, so a slow subscriber holds back its own cursor and nobody
 * else's; costs nothing while there is nothing to read (no timer, no fetch).
 */
export class SubscriptionCursor {
  private readonly partitions = new Map<number, PartitionCursor>();

  /**
   * @param onProgress - called when a partition starts and when messages reach the engine: from then on the
   *   engine may hold messages to time out and commit points to store, until its owner finds it drained.
   */
  constructor(
    private readonly engine: DeliveryEngine,
    private readonly source: PartitionSource,
    private readonly limits: CursorLimits,
    private readonly onProgress: () => void = () => undefined,
  ) {}

  /**
   * Starts (or restarts, after a seek) a partition: messages from `readFrom`
   * on are read, those before `deliverFrom` only into the dedup window, and
   * `settled` (past `deliverFrom`, settled by an earlier owner) not at all.
   */
  start(partition: number, readFrom: number, deliverFrom: number, settled?: readonly number[]): void {
    this.engine.assignPartition(partition, deliverFrom, settled);
    const cursor: PartitionCursor = { position: readFrom, deliverFrom, waiting: false, full: false };
    this.partitions.set(partition, cursor);
    this.onProgress();
    this.pump(partition, cursor);
  }

  has(partition: number): boolean {
    return this.partitions.has(partition);
  }

  /** Stops reading every partition; what the engine holds of them is dropped. */
  stop(): void {
    for (const partition of this.partitions.keys()) this.engine.revokePartition(partition);
    this.partitions.clear();
  }

  /** Reads on where the engine drained below half its bounds: called after acks and ticks. */
  resumeDrained(): void {
    for (const [partition, cursor] of this.partitions) {
      if (!cursor.full) continue;
      const { maxHeldPerPartition, maxHeldTotal } = this.limits;
      if (this.engine.held(partition) < maxHeldPerPartition / 2 && this.engine.held() < maxHeldTotal / 2) {
        cursor.full = false;
        this.pump(partition, cursor);
      }
    }
  }

  /** Partitions not read because the engine holds too much of them (or of all). */
  get pausedCount(): number {
    let paused = 0;
    for (const cursor of this.partitions.values()) if (cursor.full) paused++;
    return paused;
  }

  /** The next offset to read per partition (for logs and tests). */
  positions(): Map<number, number> {
    return new Map([...this.partitions].map(([partition, cursor]) => [partition, cursor.position]));
  }

  private pump(partition: number, cursor: PartitionCursor): void {
    const { maxHeldPerPartition, maxHeldTotal, maxRead } = this.limits;
    while (this.partitions.get(partition) === cursor && !cursor.waiting) {
      // Messages still before the delivery start only fill the dedup window: they take no room.
      const room =
        cursor.position < cursor.deliverFrom
          ? maxRead
          : Math.min(maxRead, maxHeldPerPartition - this.engine.held(partition), maxHeldTotal - this.engine.held());
      if (room <= 0) {
        cursor.full = true;
        return;
      }
      const read = this.source.read(partition, cursor.position, room, () => {
        cursor.waiting = false;
        this.pump(partition, cursor);
      });
      if (!read) {
        cursor.waiting = true;
        return;
      }
      cursor.position = read.next;
      if (read.messages.length === 0) continue;
      const firstLive = read.messages.findIndex((message) => message.offset >= cursor.deliverFrom);
      if (firstLive < 0) {
        this.engine.observeHistory(read.messages);
      } else if (firstLive === 0) {
        this.engine.receive(read.messages);
      } else {
        this.engine.observeHistory(read.messages.slice(0, firstLive));
        this.engine.receive(read.messages.slice(firstLive));
      }
      this.onProgress();
    }
  }
}
