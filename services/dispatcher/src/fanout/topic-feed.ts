import type { KafkaClient, PartitionReader } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { SourceRead } from '../domain/subscription-cursor';
import { PartitionWindow } from '../domain/partition-window';
import { toInboundMessages } from '../kafka/inbound-record';
import { WakeQueue } from './wake-queue';

/** Options of a {@link TopicFeed}. */
export interface TopicFeedOptions {
  kafka: KafkaClient;
  logger: Logger;
  /** The Kafka topic. */
  topic: string;
  /** Where each partition read starts. */
  start: Map<number, number>;
  /** Bytes of recent messages kept per partition for readers behind the fastest one. */
  windowBytes: number;
  /** Wakes the readers waiting for new records; a queue of the feed's own by default. */
  wakes?: WakeQueue;
}

/**
 * One Kafka read of some partitions of a topic, kept in a window per partition
 * that every subscription on this dispatcher reads at its own position. It
 * reads ahead only while some reader waits at the end of a partition, or the
 * window has room: with every subscriber slow, it stops rather than fetch what
 * it would evict unread.
 */
export class TopicFeed {
  private readonly windows = new Map<number, PartitionWindow>();
  private readonly waiters = new Map<number, Array<() => void>>();
  private readonly reader: PartitionReader;
  private readonly wakes: WakeQueue;
  /**
   * Partitions whose window is full with nobody waiting at its end. Paused one
   * by one: pausing them all whenever one filled, and resuming them all when a
   * reader reached the end of another, had the reader refetch what librdkafka
   * drops from its queue at each pause, many times over for small messages.
   */
  private readonly paused = new Set<number>();
  private stopped = false;
  /** When a reader last used the feed: an unused catch-up feed is stopped. */
  lastUsed = Date.now();

  constructor(options: TopicFeedOptions) {
    this.wakes = options.wakes ?? new WakeQueue();
    for (const [partition, offset] of options.start) {
      this.windows.set(partition, new PartitionWindow(offset, options.windowBytes));
      this.waiters.set(partition, []);
    }
    this.reader = options.kafka.partitionReader({
      topic: options.topic,
      start: [...options.start].map(([partition, offset]) => ({ partition, offset })),
      records: (partition, records) => {
        if (this.stopped || records.length === 0) return;
        const window = this.windows.get(partition);
        if (!window) return;
        const evicted = window.append(
          toInboundMessages(records, options.logger),
          records[records.length - 1]!.offset + 1,
        );
        const waiting = this.waiters.get(partition) ?? [];
        if (waiting.length === 0) {
          if ((evicted > 0 || window.heldBytes >= options.windowBytes) && !this.paused.has(partition)) {
            this.paused.add(partition);
            this.reader.pause([partition]);
          }
          return;
        }
        this.waiters.set(partition, []);
        this.wakes.wake(waiting);
      },
    });
  }

  start(): Promise<void> {
    return this.reader.start();
  }

  /** Stops reading; readers waiting on it are woken to read again, from whatever replaced it. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const waiting = [...this.waiters.values()].flat();
    this.waiters.clear();
    for (const wake of waiting) wake();
    await this.reader.stop();
  }

  serves(partition: number): boolean {
    return this.windows.has(partition);
  }

  /** The first offset a partition's window holds, or undefined when the feed does not read it. */
  startOf(partition: number): number | undefined {
    return this.windows.get(partition)?.start;
  }

  /**
   * Messages at or after `position` from the window; null (and `wake` later)
   * at the end; 'behind' when the position was evicted or precedes the feed.
   */
  read(partition: number, position: number, max: number, wake: () => void): SourceRead | null | 'behind' {
    const window = this.windows.get(partition);
    if (!window || this.stopped) return 'behind';
    this.lastUsed = Date.now();
    const found = window.read(position, max);
    if (found.kind === 'behind') return 'behind';
    if (found.kind === 'messages') {
      return { messages: found.messages, next: found.messages[found.messages.length - 1]!.offset + 1 };
    }
    if (position < window.end) return { messages: [], next: window.end }; // offsets that held no message
    this.waiters.get(partition)?.push(wake);
    if (this.paused.delete(partition)) this.reader.resume([partition]);
    return null;
  }
}
