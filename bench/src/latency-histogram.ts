import * as hdr from 'hdr-histogram-js';

/** Latency percentiles of one measurement, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50Millis: number;
  p99Millis: number;
  p999Millis: number;
  maxMillis: number;
}

/**
 * An HDR histogram of latencies, recorded in microseconds with 3 significant
 * digits: percentiles stay exact to 0.1% from 1 µs to minutes, at a fixed cost
 * per value however many are recorded.
 */
export class LatencyHistogram {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });

  /** Records one latency, given as a `process.hrtime.bigint()` start. */
  recordSince(startNanos: bigint): void {
    this.recordBetween(startNanos, process.hrtime.bigint());
  }

  /** Records one latency from `startNanos` to `endNanos` (`process.hrtime.bigint()` values). */
  recordBetween(startNanos: bigint, endNanos: bigint): void {
    const micros = Number((endNanos - startNanos) / 1000n);
    this.histogram.recordValue(Math.max(1, micros));
  }

  summary(): LatencySummary {
    const millis = (micros: number) => micros / 1000;
    return {
      count: this.histogram.totalCount,
      p50Millis: millis(this.histogram.getValueAtPercentile(50)),
      p99Millis: millis(this.histogram.getValueAtPercentile(99)),
      p999Millis: millis(this.histogram.getValueAtPercentile(99.9)),
      maxMillis: millis(this.histogram.maxValue),
    };
  }
}
