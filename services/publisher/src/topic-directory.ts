import type { RegistryWatcher } from '@herald/registry-watch';

/**
 * Which topics exist, from the registry's Watch stream. A topic created a
 * moment ago through another registry instance may not have reached the
 * stream yet, so a miss asks the registry once; misses are remembered briefly
 * so that a flood of publishes to a wrong name does not become a flood of calls.
 */
export class TopicDirectory {
  private readonly recentMisses = new Map<string, number>();

  constructor(
    private readonly watcher: RegistryWatcher,
    private readonly missMemoryMillis = 500,
  ) {}

  /** The topic's partition count, or undefined when there is no such topic. */
  async partitions(name: string): Promise<number | undefined> {
    const known = this.watcher.topic(name);
    if (known) return known.partitions;
    const missedAt = this.recentMisses.get(name);
    if (missedAt !== undefined && Date.now() - missedAt < this.missMemoryMillis) return undefined;
    const topic = await this.watcher.fetchTopic(name);
    if (topic) return topic.partitions;
    if (this.recentMisses.size > 10_000) this.recentMisses.clear();
    this.recentMisses.set(name, Date.now());
    return undefined;
  }
}
