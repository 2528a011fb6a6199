import type { KafkaClient } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { TopicSource } from './topic-source';
import { WakeQueue } from './wake-queue';

/** Options of {@link TopicSources}. */
export interface TopicSourcesOptions {
  kafka: KafkaClient;
  logger: Logger;
  windowBytes: number;
  gatherMillis: number;
  catchUpIdleMillis: number;
  latestOffsets: (kafkaTopic: string) => Promise<Map<number, number>>;
}

/** The topics this dispatcher reads, one {@link TopicSource} each while a served subscription follows it. */
export class TopicSources {
  private readonly sources = new Map<string, { source: TopicSource; users: number }>();
  /** One for every topic: what one turn of the event loop wakes is bounded for the dispatcher, not per topic. */
  private readonly wakes = new WakeQueue();

  constructor(private readonly options: TopicSourcesOptions) {}

  /** The source of a topic, shared; each call is matched by one {@link TopicSources.release}. */
  sourceFor(kafkaTopic: string, partitions: number): TopicSource {
    let entry = this.sources.get(kafkaTopic);
    if (!entry) {
      const { kafka, logger, windowBytes, gatherMillis, catchUpIdleMillis, latestOffsets } = this.options;
      const source = new TopicSource({
        kafka,
        logger: logger.child({ topic: kafkaTopic }),
        topic: kafkaTopic,
        partitions,
        windowBytes,
        gatherMillis,
        catchUpIdleMillis,
        latestOffsets: () => latestOffsets(kafkaTopic),
        wakes: this.wakes,
      });
      entry = { source, users: 0 };
      this.sources.set(kafkaTopic, entry);
    }
    entry.users++;
    return entry.source;
  }

  /** A subscription stopped following the topic; the last one stops its reads. */
  release(kafkaTopic: string): void {
    const entry = this.sources.get(kafkaTopic);
    if (!entry || --entry.users > 0) return;
    this.sources.delete(kafkaTopic);
    void entry.source.stop();
  }

  /** Stops catch-up reads nobody used lately. */
  retireIdle(now: number): void {
    for (const { source } of this.sources.values()) source.retireIdleCatchUp(now);
  }

  /** Kafka reads open now, in all (for logs, tests and benchmarks). */
  get feedCount(): number {
    let count = 0;
    for (const { source } of this.sources.values()) count += source.feedCount;
    return count;
  }

  async stopAll(): Promise<void> {
    const entries = [...this.sources.values()];
    this.sources.clear();
    await Promise.all(entries.map(({ source }) => source.stop()));
  }
}
