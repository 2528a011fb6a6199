/**
 * One FIFO per ordering key. Only the head of a key's queue may be out for
 * delivery; the next goes only once the head is settled. Keys never wait on
 * each other, and a failing head holds only its own key.
 */
export class OrderingQueues<T> {
  private readonly queues = new Map<string, T[]>();

  /** Adds an item; true when it is its key's head (deliverable now). */
  enqueue(key: string, item: T): boolean {
    const queue = this.queues.get(key);
    if (!queue) {
      this.queues.set(key, [item]);
      return true;
    }
    queue.push(item);
    return false;
  }

  /** Removes the key's head; returns the new head, which is deliverable now. */
  settleHead(key: string, head: T): T | undefined {
    const queue = this.queues.get(key);
    if (!queue || queue[0] !== head) return undefined;
    queue.shift();
    if (queue.length === 0) {
      this.queues.delete(key);
      return undefined;
    }
    return queue[0];
  }

  /**
   * Drops every item for which `drop` is true (a revoked partition's), keeping
   * each key's order. Returns the items that became their key's head this way:
   * they are deliverable now.
   */
  dropWhere(drop: (item: T) => boolean): T[] {
    const newHeads: T[] = [];
    for (const [key, queue] of this.queues) {
      const kept = queue.filter((item) => !drop(item));
      if (kept.length === 0) this.queues.delete(key);
      else {
        if (kept[0] !== queue[0]) newHeads.push(kept[0]!);
        this.queues.set(key, kept);
      }
    }
    return newHeads;
  }

  /** Keys with something queued. */
  get keyCount(): number {
    return this.queues.size;
  }
}
