/** Readers woken in one turn of the event loop before the queue yields. */
export const defaultWakesPerTurn = 64;

/**
 * Wakes the readers waiting at the end of a partition a few dozen at a time,
 * yielding to the event loop in between. A record read once is delivered to
 * every subscription of its topic, and each wake-up writes a response: woken
 * all in one go, a thousand subscriptions' writes were made before the first
 * left for its socket, and acks coming back waited behind them. In slices, the
 * first responses are on the wire (and the subscribers at work) while the
 * later ones are still being made.
 */
export class WakeQueue {
  private queue: Array<() => void> = [];
  private head = 0;
  /** A turn is scheduled or running: queued wakes wait for it. */
  private busy = false;

  constructor(
    private readonly wakesPerTurn = defaultWakesPerTurn,
    private readonly nextTurn: (run: () => void) => void = setImmediate,
  ) {}

  /** Queues `wakes`; the first slice runs now unless earlier ones are still queued (order is kept). */
  wake(wakes: ReadonlyArray<() => void>): void {
    for (const wake of wakes) this.queue.push(wake);
    if (!this.busy) this.run();
  }

  /** Wake-ups queued and not yet run. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Wake-ups held, run ones included until they are dropped (for tests). */
  get held(): number {
    return this.queue.length;
  }

  private readonly run = (): void => {
    this.busy = true;
    const end = Math.min(this.queue.length, this.head + this.wakesPerTurn);
    try {
      while (this.head < end) this.queue[this.head++]!();
    } finally {
      // Even after a wake threw, the others still run.
      if (this.head < this.queue.length) {
        // Under steady traffic the queue may never run empty: drop what ran, or it would grow for ever.
        if (this.head >= this.wakesPerTurn * 16) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
        this.nextTurn(this.run);
      } else {
        this.queue = [];
        this.head = 0;
        this.busy = false;
      }
    }
  };
}
