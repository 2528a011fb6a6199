import type { Random } from '@herald/retry';
import type { Timers } from '../timers';

/** How leases of held messages are kept alive. */
export interface LeaseOptions {
  /** The lease the stream asked for, in seconds. */
  deadlineSeconds: number;
  /** Stop extending a message this long after it arrived; 0 turns extension off. */
  maxExtensionMillis: number;
}

interface Lease {
  generation: number;
  receivedAt: number;
}

/**
 * The messages a subscriber holds (received, not settled), and the extension
 * of their leases. Extensions go out at a random point between 40 % and 80 %
 * of the deadline, so that many subscribers started together do not extend
 * in step, and always with room before the lease runs out.
 */
export class LeaseManager {
  private readonly held = new Map<string, Lease>();
  private timer: unknown;
  private running = false;
  private readonly drained: Array<() => void> = [];

  constructor(
    private readonly options: LeaseOptions,
    /** Sends new deadlines for these ack ids. */
    private readonly extend: (ackIds: string[], seconds: number) => void,
    private readonly timers: Timers,
    private readonly random: Random = Math.random,
  ) {}

  /** Messages held. */
  get size(): number {
    return this.held.size;
  }

  has(ackId: string): boolean {
    return this.held.has(ackId);
  }

  add(ackId: string, generation: number): void {
    this.held.set(ackId, { generation, receivedAt: this.timers.now() });
  }

  /** The message was acked, nacked or given back. */
  remove(ackId: string): void {
    this.held.delete(ackId);
    if (this.held.size === 0) for (const resolve of this.drained.splice(0)) resolve();
  }

  /** Forgets the messages of a broken stream: the server delivers them again. */
  removeGeneration(generation: number): void {
    for (const [ackId, lease] of this.held) if (lease.generation === generation) this.remove(ackId);
  }

  /** Starts extending leases. */
  start(): void {
    if (this.running || this.options.maxExtensionMillis <= 0) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves once nothing is held, or after `timeoutMillis`, whichever is first. */
  waitUntilEmpty(timeoutMillis: number): Promise<void> {
    if (this.held.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.timers.setTimeout(resolve, timeoutMillis);
      this.drained.push(() => {
        this.timers.clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The next extension: 40–80 % of the deadline from now. */
  nextExtensionDelayMillis(): number {
    return this.options.deadlineSeconds * 1000 * (0.4 + 0.4 * this.random());
  }

  private schedule(): void {
    this.timer = this.timers.setTimeout(() => {
      if (!this.running) return;
      this.extendNow();
      this.schedule();
    }, this.nextExtensionDelayMillis());
  }

  private extendNow(): void {
    const now = this.timers.now();
    const due: string[] = [];
    for (const [ackId, lease] of this.held) {
      // Past the maximum, the lease runs out and the message goes to another subscriber.
      if (now - lease.receivedAt <= this.options.maxExtensionMillis) due.push(ackId);
    }
    if (due.length > 0) this.extend(due, this.options.deadlineSeconds);
  }
}
