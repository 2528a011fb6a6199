import type { KafkaClient } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import type { PartitionSource, SourceRead } from '../domain/subscription-cursor';
import { TopicFeed } from './topic-feed';
import type { WakeQueue } from './wake-queue';

/** Options of a {@link TopicSource}. */
export interface TopicSourceOptions {
  kafka: KafkaClient;
  logger: Logger;
  /** The Kafka topic. */
  topic: string;
  partitions: number;
  windowBytes: number;
  /** How long a feed waits for other readers' positions before it starts, so that one read serves them all. */
  gatherMillis: number;
  /** A catch-up feed nobody read for this long is stopped. */
  catchUpIdleMillis: number;
  /** The end of each partition now: where the live feed reads partitions nobody asked for yet. */
  latestOffsets: () => Promise<Map<number, number>>;
  /** Wakes the readers of every feed of the topic. */
  wakes?: WakeQueue;
}

/** How long readers wait before asking again after a feed failed to start (Kafka away, say). */
const restartDelayMillis = 1_000;

interface PendingFeed {
  /** The lowest position asked for per partition so far. */
  positions: Map<number, number>;
  wakes: Array<() => void>;
}

/**
 * Every subscription's view of one topic on this dispatcher: one live feed
 * reading all partitions, shared by every subscription near the end, and per
 * partition at most one catch-up feed for subscriptions behind the live
 * feed's window (a failover, a seek, a subscriber that fell behind). So the
 * Kafka reads of a topic are at most 1 + partitions, whatever the number of
 * subscriptions; subscriptions behind share the catch-up feed, which starts
 * again from the lowest position one of them asks for.
 */
export class TopicSource implements PartitionSource {
  private live: TopicFeed | undefined;
  private pendingLive: PendingFeed | undefined;
  private readonly catchUp = new Map<number, TopicFeed>();
  private readonly pendingCatchUp = new Map<number, PendingFeed>();
  private stopped = false;

  constructor(private readonly options: TopicSourceOptions) {}

  read(partition: number, position: number, max: number, wake: () => void): SourceRead | null {
    if (this.stopped) return null;
    if (!this.live) {
      this.gather('live', partition, position, wake);
      return null;
    }
    const fromLive = this.live.read(partition, position, max, wake);
    if (fromLive !== 'behind') return fromLive;
    const catchUp = this.catchUp.get(partition);
    if (catchUp) {
      const fromCatchUp = catchUp.read(partition, position, max, wake);
      if (fromCatchUp !== 'behind') return fromCatchUp;
    }
    this.gather(partition, partition, position, wake);
    return null;
  }

  /** Stops catch-up feeds nobody has read for a while. */
  retireIdleCatchUp(now: number): void {
    for (const [partition, feed] of this.catchUp) {
      if (now - feed.lastUsed < this.options.catchUpIdleMillis) continue;
      this.catchUp.delete(partition);
      void feed.stop();
    }
  }

  get feedCount(): number {
    return (this.live ? 1 : 0) + this.catchUp.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const feeds = [this.live, ...this.catchUp.values()];
    this.live = undefined;
    this.catchUp.clear();
    await Promise.all(feeds.map((feed) => feed?.stop()));
  }

  /**
   * Collects positions for a feed about to start (the live one, or a
   * partition's catch-up feed), so that subscriptions arriving together share
   * one read from the lowest of them.
   */
  private gather(feed: 'live' | number, partition: number, position: number, wake: () => void): void {
    const pendingOf = (): PendingFeed | undefined =>
      feed === 'live' ? this.pendingLive : this.pendingCatchUp.get(feed);
    let pending = pendingOf();
    if (!pending) {
      pending = { positions: new Map(), wakes: [] };
      if (feed === 'live') this.pendingLive = pending;
      else this.pendingCatchUp.set(feed, pending);
      const gathered = pending;
      setTimeout(() => void this.startFeed(feed, gathered), this.options.gatherMillis);
    }
    const known = pending.positions.get(partition);
    if (known === undefined || position < known) pending.positions.set(partition, position);
    pending.wakes.push(wake);
  }

  private async startFeed(which: 'live' | number, pending: PendingFeed): Promise<void> {
    if (this.stopped) return;
    // Readers keep joining `pending` until the feed is in place: a read in between would start another.
    const done = () => {
      if (which === 'live' ? this.pendingLive === pending : this.pendingCatchUp.get(which) === pending) {
        if (which === 'live') this.pendingLive = undefined;
        else this.pendingCatchUp.delete(which);
      }
    };
    const wakeAll = () => {
      for (const wake of pending.wakes.splice(0)) wake();
    };
    let feed: TopicFeed | undefined;
    try {
      const start = new Map<number, number>();
      if (which === 'live') {
        const ends = await this.options.latestOffsets();
        for (let partition = 0; partition < this.options.partitions; partition++) {
          start.set(partition, pending.positions.get(partition) ?? ends.get(partition) ?? 0);
        }
      } else {
        start.set(which, pending.positions.get(which)!);
      }
      if (this.stopped) return;
      feed = new TopicFeed({
        kafka: this.options.kafka,
        logger: this.options.logger,
        topic: this.options.topic,
        start,
        windowBytes: this.options.windowBytes,
        wakes: this.options.wakes,
      });
      const previous = which === 'live' ? this.live : this.catchUp.get(which);
      if (which === 'live') this.live = feed;
      else this.catchUp.set(which, feed);
      done();
      // Its readers are woken by its stop and read again, from the new feed or asking for another.
      void previous?.stop();
      await feed.start();
      this.options.logger.debug({ feed: which, start: [...start] }, 'feed started');
      wakeAll(); // every reader that waited reads again: from this feed, or it asks for another
    } catch (error) {
      done();
      this.options.logger.warn({ err: error, feed: which }, 'feed failed to start');
      if (feed && which === 'live' && this.live === feed) this.live = undefined;
      if (feed && which !== 'live' && this.catchUp.get(which) === feed) this.catchUp.delete(which);
      void feed?.stop();
      setTimeout(wakeAll, restartDelayMillis);
    }
  }
}
