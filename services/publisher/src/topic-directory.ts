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

  async exists(name: string): Promise<boolean> {
    if (this.watcher.topic(name)) return true;
    const missedAt = this.recentMisses.get(name);
    if (missedAt !== undefined && Date.now() - missedAt < this.missMemoryMillis) return false;
    const topic = await this.watcher.fetchTopic(name);
    if (topic) return true;
    if (this.recentMisses.size > 10_000) this.recentMisses.clear();
    this.recentMisses.set(name, Date.now());
    return false;
  }
}
