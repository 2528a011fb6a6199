import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from '@herald/logging';
import { releaseFreeNativeMemory } from './native-memory';

/** What a {@link HeapCompaction} looks at and does; the process's own by default. */
export interface HeapProbes {
  /** Bytes the V8 heap holds from the system, and bytes of objects in it (live or not yet collected). */
  heap(): { totalBytes: number; usedBytes: number };
  /** Share of the time since the previous call the event loop was busy (0 to 1). */
  loopUtilization(): number;
  /** A full, compacting collection that gives free heap pages back to the system. */
  compact(): void;
  /** Asks the C allocator to give its free pages back; whether it did. */
  releaseNative(): boolean;
  /** The process's resident memory, for the log. */
  residentBytes(): number;
  now(): number;
}

export interface HeapCompactionOptions {
  /** How often to look; 0 never compacts. */
  intervalMillis: number;
  /** The process counts as idle while its event loop was busy at most this share of the last interval. */
  maxLoopUtilization: number;
  /** Compact only when the heap holds at least this many bytes more than right after the last compaction... */
  minReclaimBytes: number;
  /** ...and at least this many times as much. */
  minGrowthFactor: number;
  /** Time between two compactions at least: a load that comes in bursts pays for one now and then, not each time. */
  minSpacingMillis: number;
  /** Lets the process drop what it keeps for its next burst, just before the collection that would free it. */
  beforeCompaction?: () => void;
  logger: Logger;
  probes?: HeapProbes;
}

/**
 * Gives back the heap a burst left behind, once the process is idle. V8 keeps
 * the heap at the size its busiest moment needed (attaching thousands of
 * streams grows it to three times what stays live) and its own memory reducer
 * never runs in a Node.js process that only waits: it takes the allocation rate
 * measured at the last collection, the burst's, for the current one. So each
 * interval in which the event loop was nearly idle and the heap is well past
 * its size after the last compaction, one compacting collection runs: a pause
 * of a few hundred milliseconds for a heap of some hundred megabytes, paid
 * when nothing waits for the process, at most once per doubling of the heap
 * and once per `minSpacingMillis`. The C allocator is asked to give its free
 * pages back one look later. The heap grows back under the next load,
 * at some cost in collections. The JVM's periodic collection of an idle G1
 * heap does the same.
 */
export class HeapCompaction {
  private readonly probes: HeapProbes;
  private timer: NodeJS.Timeout | undefined;
  /**
   * The heap's size right after the last compaction (or at start): what it needs, with little room. Measured
   * from the size rather than from the live bytes, the room the young generation takes back at once does
   * not count as growth, and light traffic does not compact every interval.
   */
  private baselineBytes: number;
  private lastCompaction = -Infinity;
  /** A compaction ran at the last look: the native memory it freed is to be given back at this one. */
  private releasePending = false;

  constructor(private readonly options: HeapCompactionOptions) {
    this.probes = options.probes ?? processHeapProbes();
    this.baselineBytes = this.probes.heap().totalBytes;
  }

  start(): void {
    if (this.options.intervalMillis <= 0 || this.timer) return;
    this.probes.loopUtilization();
    this.timer = setInterval(() => this.check(), this.options.intervalMillis);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look: compacts when the process was idle and the heap grew enough; whether it did. */
  check(): boolean {
    if (this.releasePending) this.releaseNative();
    const utilization = this.probes.loopUtilization();
    const before = this.probes.heap();
    const { maxLoopUtilization, minReclaimBytes, minGrowthFactor, minSpacingMillis } = this.options;
    const started = this.probes.now();
    if (
      started - this.lastCompaction < minSpacingMillis ||
      utilization > maxLoopUtilization ||
      before.totalBytes - this.baselineBytes < minReclaimBytes ||
      before.totalBytes < this.baselineBytes * minGrowthFactor
    ) {
      return false;
    }
    this.options.beforeCompaction?.();
    this.probes.compact();
    const after = this.probes.heap();
    this.baselineBytes = after.totalBytes;
    this.lastCompaction = started;
    this.options.logger.info(
      {
        pauseMillis: Math.round(this.probes.now() - started),
        heapBeforeBytes: before.totalBytes,
        heapAfterBytes: after.totalBytes,
        liveBytes: after.usedBytes,
      },
      'idle: heap compacted',
    );
    // The collection itself kept the loop busy: not a sign of load for the next look.
    this.probes.loopUtilization();
    this.releasePending = true;
    return true;
  }

  /**
   * What the collection freed outside the heap (HTTP/2 streams' state,
   * buffers) is freed after it, by V8's sweeper thread and the objects'
   * finalizers: so it is asked back one look later. glibc would keep the
   * pages of a burst's short-lived allocations that lie between long-lived
   * ones, about a fifth of an idle fan-out dispatcher's resident memory.
   */
  private releaseNative(): void {
    this.releasePending = false;
    const before = this.probes.residentBytes();
    const released = this.probes.releaseNative();
    this.options.logger.info(
      { released, residentBeforeBytes: before, residentAfterBytes: this.probes.residentBytes() },
      'idle: native memory given back',
    );
  }
}

/** The probes of this process. Asking for `gc` turns on V8's `--expose-gc` for the rest of its life. */
export function processHeapProbes(): HeapProbes {
  let last = performance.eventLoopUtilization();
  let gc: ((options: object) => void) | undefined;
  return {
    heap: () => {
      const statistics = getHeapStatistics();
      return { totalBytes: statistics.total_heap_size, usedBytes: statistics.used_heap_size };
    },
    loopUtilization: () => {
      const now = performance.eventLoopUtilization();
      const since = performance.eventLoopUtilization(now, last);
      last = now;
      return since.utilization;
    },
    compact: () => {
      if (!gc) {
        setFlagsFromString('--expose-gc');
        gc = runInNewContext('gc') as (options: object) => void;
      }
      // 'last-resort' is V8's memory-reducing collection: it compacts and releases the freed pages.
      gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    },
    releaseNative: releaseFreeNativeMemory,
    residentBytes: () => process.memoryUsage.rss(),
    now: () => performance.now(),
  };
}
