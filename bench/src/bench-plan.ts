/** How big a run is: `full` for the report, `quick` for a look in under 3 minutes, `smoke` to prove the harness works. */
export type RunMode = 'full' | 'quick' | 'smoke';

/** One message size and how many messages each throughput scenario sends of it. */
export interface SizePlan {
  messageBytes: number;
  /** Messages measured. */
  messages: number;
  /** Messages sent first and not measured: connections, JIT and broker caches warm up. */
  warmupMessages: number;
}

/** One way of calling Publish. */
export interface PublishVariant {
  /** Messages per Publish request. */
  batchMessages: number;
  /** Share of the size's `messages` (and warm-up) this variant sends: small batches are several times slower. */
  share: number;
}

/** What one run measures. */
export interface BenchPlan {
  mode: RunMode;
  sizes: SizePlan[];
  /** Partitions of every benchmark topic. */
  partitions: number;
  /** Concurrent callers of the publisher in `herald-publish`. */
  publishCallers: number;
  /** gRPC connections those callers share. */
  publishChannels: number;
  /** The variants of `herald-publish`: messages per Publish request. */
  publishVariants: PublishVariant[];
  /** Subscription records in the log `registry-replay` starts from. */
  registrySubscriptions: number;
  /** Whether to run Kafka's own perf tool (a JVM start per size). */
  ceiling: boolean;
  /**
   * A measurement stops after this long even if not all its messages are sent
   * (the report counts those acknowledged), so that a slow path or a busy
   * machine cannot stretch the run. Warm-ups stop after a fifth of it.
   */
  maxMeasureSeconds: number;
}

const KB = 1024;

const common = {
  partitions: 6,
  publishCallers: 50,
  publishChannels: 4,
  // Batches of 10 as the main case; 100 puts at least as many messages in flight as the raw baseline has
  // (50 × 100 = 5,000 vs 4 × 500 = 2,000); 1 is the worst case, an application that never batches.
  publishVariants: [
    { batchMessages: 10, share: 1 },
    { batchMessages: 100, share: 1 },
    { batchMessages: 1, share: 0.2 },
  ],
};

/**
 * The plan of each mode. Counts are upper bounds, sized so that the fastest path
 * (Kafka's own tool) runs a few seconds; slower paths stop at `maxMeasureSeconds`.
 */
export function benchPlan(mode: RunMode): BenchPlan {
  switch (mode) {
    case 'full':
      return {
        ...common,
        mode,
        sizes: [
          { messageBytes: 100, messages: 1_000_000, warmupMessages: 50_000 },
          { messageBytes: KB, messages: 500_000, warmupMessages: 25_000 },
          { messageBytes: 10 * KB, messages: 100_000, warmupMessages: 5_000 },
        ],
        registrySubscriptions: 10_000,
        ceiling: true,
        maxMeasureSeconds: 60,
      };
    case 'quick':
      return {
        ...common,
        mode,
        sizes: [
          { messageBytes: 100, messages: 300_000, warmupMessages: 20_000 },
          { messageBytes: KB, messages: 150_000, warmupMessages: 10_000 },
          { messageBytes: 10 * KB, messages: 30_000, warmupMessages: 2_000 },
        ],
        registrySubscriptions: 10_000,
        ceiling: true,
        maxMeasureSeconds: 5,
      };
    case 'smoke':
      return {
        ...common,
        mode,
        sizes: [{ messageBytes: 100, messages: 500, warmupMessages: 100 }],
        registrySubscriptions: 200,
        ceiling: false,
        maxMeasureSeconds: 20,
      };
  }
}
