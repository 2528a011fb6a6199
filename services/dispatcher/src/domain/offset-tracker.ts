/**
 * Per partition: which fetched offsets are settled (acknowledged, filtered out,
 * deduplicated or dead-lettered), and so the offset it is safe to commit.
 */
export class OffsetTracker {
  /** Fetched offsets not yet passed by the commit point, in fetch order. */
  private readonly offsets: number[] = [];
  private head = 0;
  /**
   * Settled offsets not yet passed by the commit point. Made by the first
   * settle, dropped by {@link releaseEmpty}: a dispatcher keeps a tracker per
   * partition of every subscription it serves, most of them idle.
   */
  private settled: Set<number> | undefined;
  private nextExpected: number;

  /** @param startOffset - the first offset this owner reads: the commit point until something is settled. */
  constructor(startOffset: number) {
    this.nextExpected = startOffset;
  }

  /** Offset after the last one fetched. */
  get fetchedUpTo(): number {
    return this.nextExpected;
  }

  /** Offsets fetched and not yet behind the commit point. */
  get pending(): number {
    return this.offsets.length - this.head;
  }

  /** Whether the offset was fetched already (a re-fetch after a rebalance repeats some). */
  hasFetched(offset: number): boolean {
    return offset < this.nextExpected;
  }

  /** Records a fetched offset; offsets arrive in increasing order, gaps allowed. */
  fetched(offset: number): void {
    this.offsets.push(offset);
    this.nextExpected = offset + 1;
  }

  /** Offsets settled past the commit point (acknowledged out of order), as of the last {@link commitPoint}. */
  get settledAhead(): number {
    return this.settled?.size ?? 0;
  }

  settle(offset: number): void {
    (this.settled ??= new Set()).add(offset);
  }

  /** Offsets settled past the commit point, ascending: what an exactly-once subscription stores beside it. */
  settledPast(): number[] {
    // For its side effect: it drops the settled offsets below the commit point, which need not be stored.
    this.commitPoint();
    return this.settled ? [...this.settled].sort((a, b) => a - b) : [];
  }

  /**
   * The offset to commit: that of the oldest unsettled message, or the next to
   * fetch when all are settled. Never a later one: committing past a gap would
   * lose the gap if this dispatcher died before those messages were acked.
   */
  commitPoint(): number {
    const settled = this.settled;
    if (settled) {
      while (this.head < this.offsets.length && settled.delete(this.offsets[this.head]!)) this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets.splice(0, this.head);
      this.head = 0;
    }
    return this.head < this.offsets.length ? this.offsets[this.head]! : this.nextExpected;
  }

  /**
   * Gives back the storage of what the commit point has passed entirely. For
   * when the subscription goes idle, not per message: a steady flow would
   * only make it all again.
   */
  releaseEmpty(): void {
    if (this.settled?.size === 0) this.settled = undefined;
    if (this.head === this.offsets.length) {
      this.offsets.length = 0; // an emptied array's storage goes, as `splice` would not give it back
      this.head = 0;
    }
  }
}
