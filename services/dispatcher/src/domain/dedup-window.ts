/**
 * Idempotency keys seen recently on one partition. Messages that share an
 * idempotency key share a partition (it is their record key), so the
 * partition's owner alone can tell a repeat: same key, a different (later)
 * offset, published within the window of the first.
 */
export class DedupWindow {
  private readonly seen = new Map<string, { offset: number; publishTimeMillis: number }>();

  constructor(private readonly windowMillis: number) {}

  /** Records a message and says whether it repeats an earlier one. */
  isRepeat(key: string, offset: number, publishTimeMillis: number): boolean {
    if (!key || this.windowMillis <= 0) return false;
    const first = this.seen.get(key);
    if (first && first.offset !== offset && publishTimeMillis - first.publishTimeMillis <= this.windowMillis) {
      return first.offset < offset;
    }
    this.seen.delete(key); // re-insert so the map stays in publish-time order for eviction
    this.seen.set(key, { offset, publishTimeMillis });
    this.evictBefore(publishTimeMillis - this.windowMillis);
    return false;
  }

  get size(): number {
    return this.seen.size;
  }

  private evictBefore(cutoffMillis: number): void {
    for (const [key, entry] of this.seen) {
      if (entry.publishTimeMillis >= cutoffMillis) break;
      this.seen.delete(key);
    }
  }
}
