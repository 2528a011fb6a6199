import type { LatencyHistogram } from './latency-histogram';
import { readStamp } from './stamped-payloads';

/** A run of sequence numbers whose deliveries are measured on every subscription. */
interface Measured {
  first: number;
  count: number;
  /** One byte per (subscription, message): whether that delivery came. */
  seen: Uint8Array;
  histogram: LatencyHistogram | undefined;
  deliveries: number;
  lastNanos: bigint;
}

/**
 * The receiving end of a fan-out measurement, where every stamped message is
 * delivered once per subscription: counts each (subscription, message) pair
 * once (a redelivery is a duplicate), records the latency of each measured
 * delivery from the time stamped in its payload, and tells which
 * subscriptions received a given probe message.
 */
export class FanoutDeliveries {
  private readonly probes = new Map<number, { seen: Uint8Array; receivedBy: number }>();
  private measured: Measured | undefined;
  /** Deliveries of a pair already seen. */
  duplicates = 0;
  /** Deliveries of no probe and no measured message (a stamp we do not know, or none). */
  unknown = 0;
  /** Every delivery, whatever it was. */
  total = 0;

  constructor(readonly subscriptions: number) {}

  /** Tracks probe message `sequence`: which subscriptions receive it ({@link FanoutDeliveries.receivedProbe}). */
  watchProbe(sequence: number): void {
    this.probes.set(sequence, { seen: new Uint8Array(this.subscriptions), receivedBy: 0 });
  }

  /** How many subscriptions received probe `sequence` so far. */
  receivedProbe(sequence: number): number {
    return this.probes.get(sequence)?.receivedBy ?? 0;
  }

  /** Whether subscription `subscription` received probe `sequence`. */
  hasProbe(sequence: number, subscription: number): boolean {
    return this.probes.get(sequence)?.seen[subscription] === 1;
  }

  /** Measures messages `first` to `first + count - 1` on every subscription from now on, latencies into `histogram`. */
  measure(first: number, count: number, histogram: LatencyHistogram | undefined): void {
    this.measured = {
      first,
      count,
      seen: new Uint8Array(this.subscriptions * count),
      histogram,
      deliveries: 0,
      lastNanos: 0n,
    };
  }

  /** Distinct measured deliveries so far. */
  get measuredDeliveries(): number {
    return this.measured?.deliveries ?? 0;
  }

  /** When the last measured delivery arrived (`process.hrtime.bigint()`); 0n before any. */
  get lastMeasuredNanos(): bigint {
    return this.measured?.lastNanos ?? 0n;
  }

  /** One delivery on subscription number `subscription`, received at `nowNanos`. */
  record(subscription: number, payload: Buffer | null | undefined, nowNanos: bigint): void {
    this.total++;
    const stamp = readStamp(payload);
    if (!stamp || subscription < 0 || subscription >= this.subscriptions) {
      this.unknown++;
      return;
    }
    const probe = this.probes.get(stamp.sequence);
    if (probe) {
      if (probe.seen[subscription] === 1) this.duplicates++;
      else {
        probe.seen[subscription] = 1;
        probe.receivedBy++;
      }
      return;
    }
    const measured = this.measured;
    const index = measured ? stamp.sequence - measured.first : -1;
    if (!measured || index < 0 || index >= measured.count) {
      this.unknown++;
      return;
    }
    const slot = subscription * measured.count + index;
    if (measured.seen[slot] === 1) {
      this.duplicates++;
      return;
    }
    measured.seen[slot] = 1;
    measured.deliveries++;
    measured.lastNanos = nowNanos;
    measured.histogram?.recordBetween(stamp.sentAtNanos, nowNanos);
  }
}

/** Polls `done` every 20 ms until it holds (true) or `timeoutMillis` passed (false). */
export async function waitFor(done: () => boolean, timeoutMillis: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMillis;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
