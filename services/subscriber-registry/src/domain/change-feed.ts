import type { AppliedChange } from './registry-state';

/** Receives every change as it is applied. */
export type ChangeListener = (change: AppliedChange) => void;

/**
 * The recent changes of the registry, so that a watcher that reconnects with
 * the last revision it saw gets only what it missed; and the live listeners.
 */
export class ChangeFeed {
  private readonly recent: AppliedChange[] = [];
  private readonly listeners = new Set<ChangeListener>();
  /** Revisions at or below this were applied but may have left `recent`. */
  private oldestGap = -1n;

  constructor(private readonly capacity = 10_000) {}

  publish(change: AppliedChange): void {
    this.recent.push(change);
    if (this.recent.length > this.capacity) {
      const dropped = this.recent.shift()!;
      this.oldestGap = BigInt(dropped.revision);
    }
    for (const listener of this.listeners) listener(change);
  }

  /** Listeners now: one per open Watch stream. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * The changes after `revision`, or undefined when some of them are no longer
   * held and the watcher needs a full snapshot instead.
   */
  since(revision: string): AppliedChange[] | undefined {
    const after = BigInt(revision);
    if (after < this.oldestGap) return undefined;
    return this.recent.filter((change) => BigInt(change.revision) > after);
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
