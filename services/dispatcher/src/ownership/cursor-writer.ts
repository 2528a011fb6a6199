import type { DurableProducer, OutgoingRecord } from '@herald/kafka';
import { type CursorRecord, encodeCursor } from '../domain/cursor-record';

/**
 * Stores subscriptions' cursors in the cursor topic, keyed by subscription so
 * each lands in its slot's partition. Writes are gathered and sent together:
 * thousands of subscriptions cost one produce request per interval, not one
 * commit each.
 */
export class CursorWriter {
  private pending = new Map<string, CursorRecord | null>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly producer: DurableProducer,
    private readonly topic: string,
    private readonly slots: number,
  ) {}

  /** Queues a subscription's cursor; null forgets the subscription (it was deleted). */
  write(subscription: string, cursor: CursorRecord | null): void {
    this.pending.set(subscription, cursor);
  }

  /** Sends what is queued; resolves once it is acknowledged by Kafka (acks=all). */
  flush(): Promise<void> {
    this.flushing = this.flushing.catch(() => undefined).then(() => this.sendPending());
    return this.flushing;
  }

  private async sendPending(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const now = Date.now();
    const records: OutgoingRecord[] = [...batch].map(([subscription, cursor]) => ({
      key: subscription,
      value: cursor && encodeCursor(cursor),
      headers: {},
      timestamp: now,
    }));
    try {
      await this.producer.send(this.topic, this.slots, records);
    } catch (error) {
      // Kept for the next flush, unless something newer was queued meanwhile.
      for (const [subscription, cursor] of batch) {
        if (!this.pending.has(subscription)) this.pending.set(subscription, cursor);
      }
      throw error;
    }
  }
}
