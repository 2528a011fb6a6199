import type { LatencyHistogram } from './latency-histogram';
import { readStamp } from './stamped-payloads';

/** Sequence numbers beyond this are no stamp of ours (a tracker holds one byte per number). */
const maxSequence = 2 ** 28;

/**
 * The receiving end of an end-to-end measurement: counts each stamped message
 * once (by its sequence number; redeliveries count as duplicates), and records
 * the latency of the measured ones from the time stamped in their payload.
 */
export class DeliveryTracker {
  private seen: Uint8Array;
  private distinct = 0;
  private measuredFrom = Number.POSITIVE_INFINITY;
  private measured = 0;
  private histogram: LatencyHistogram | undefined;
  /** Deliveries of a sequence number already seen. */
  duplicates = 0;
  /** Payloads without a stamp this tracker can place. */
  unknown = 0;
  /** When the last measured message arrived (`process.hrtime.bigint()`); 0n before any. */
  lastMeasuredNanos = 0n;
  /** When the first measured message arrived; 0n before any. */
  firstMeasuredNanos = 0n;

  /** Room for sequence numbers 0 to `expected - 1` at first; it grows as needed. */
  constructor(expected: number) {
    this.seen = new Uint8Array(Math.max(1024, expected));
  }

  /** Messages with a sequence number from `fromSequence` on are measured from now on, into `histogram` if given. */
  measure(fromSequence: number, histogram: LatencyHistogram | undefined): void {
    this.measuredFrom = fromSequence;
    this.measured = 0;
    this.histogram = histogram;
    this.lastMeasuredNanos = 0n;
    this.firstMeasuredNanos = 0n;
  }

  /** One delivery, received now. */
  record(payload: Buffer | null | undefined, nowNanos: bigint = process.hrtime.bigint()): void {
    const stamp = readStamp(payload);
    if (!stamp || stamp.sequence >= maxSequence) {
      this.unknown++;
      return;
    }
    if (stamp.sequence >= this.seen.length) {
      const grown = new Uint8Array(Math.max(this.seen.length * 2, stamp.sequence + 1));
      grown.set(this.seen);
      this.seen = grown;
    }
    if (this.seen[stamp.sequence] === 1) {
      this.duplicates++;
      return;
    }
    this.seen[stamp.sequence] = 1;
    this.distinct++;
    if (stamp.sequence >= this.measuredFrom) {
      this.measured++;
      this.histogram?.recordBetween(stamp.sentAtNanos, nowNanos);
      if (this.firstMeasuredNanos === 0n) this.firstMeasuredNanos = nowNanos;
      this.lastMeasuredNanos = nowNanos;
    }
  }

  /** Distinct messages received so far. */
  get delivered(): number {
    return this.distinct;
  }

  /** Distinct measured messages received since {@link DeliveryTracker.measure}. */
  get measuredDelivered(): number {
    return this.measured;
  }

  /** Resolves true once `count` distinct messages arrived in all, false after `timeoutMillis`. */
  waitForDelivered(count: number, timeoutMillis: number): Promise<boolean> {
    return this.waitUntil(() => this.distinct >= count, timeoutMillis);
  }

  /** Resolves true once `count` distinct measured messages arrived, false after `timeoutMillis`. */
  waitForMeasured(count: number, timeoutMillis: number): Promise<boolean> {
    return this.waitUntil(() => this.measured >= count, timeoutMillis);
  }

  /** Polls: the arrival times come from the deliveries themselves, so the poll's delay does not count. */
  private async waitUntil(done: () => boolean, timeoutMillis: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMillis;
    while (!done()) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }
}
