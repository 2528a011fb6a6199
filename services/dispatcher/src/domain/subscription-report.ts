import type { PushOutcome } from './adaptive-concurrency';
import type { DeliveryStats } from './delivery-engine';

/** Where a push subscription's delivery stands. */
export interface PushReport {
  endpoint: string;
  /** `checking` until the endpoint's host was resolved and allowed; `refused` while it may not be reached. */
  state: 'checking' | 'ready' | 'refused';
  /** Requests allowed in flight now (adaptive), and the ceiling. */
  concurrency: number;
  maxOutstanding: number;
  inFlight: number;
  /** Requests ended so far, by outcome (`refused` counts checks that refused the endpoint too). */
  outcomes: Record<PushOutcome, number>;
  /** The last failure, when there was one. */
  lastError: string | undefined;
}

/** Where one partition of a subscription stands against the end of the topic's log. */
export interface PartitionStanding {
  /** The next offset to be written (the high watermark). */
  end: number;
  /** The oldest offset not settled for the subscription. */
  commitPoint: number;
  /** Offsets past the commit point settled already. */
  settledAhead: number;
  /** Publish time of the message at the commit point, when known. */
  oldestPublishMillis: number | undefined;
}

/** A subscription's backlog and delivery figures on the dispatcher serving it. */
export interface SubscriptionReport {
  subscription: string;
  topic: string;
  /** Messages at or after the position not acknowledged yet. */
  backlog: number;
  /** Publish time of the oldest of them; undefined when there is none, or it is not known yet. */
  oldestUnackedPublishMillis: number | undefined;
  /** Messages leased to streams now. */
  leases: number;
  streams: number;
  /** Partitions whose reading paused because the subscription holds too much. */
  pausedPartitions: number;
  counts: DeliveryStats;
  /** Set while the subscription is pushed from here. */
  push?: PushReport;
}

/** Adds `more` into `total`. */
export function addCounts(total: DeliveryStats, more: DeliveryStats): DeliveryStats {
  for (const key of Object.keys(total) as Array<keyof DeliveryStats>) total[key] += more[key];
  return total;
}

/**
 * The backlog over a subscription's partitions: per partition what lies
 * between the commit point and the end, less what was settled out of order;
 * and the oldest publish time among the partitions that have a backlog.
 */
export function backlogOf(partitions: Iterable<PartitionStanding>): {
  backlog: number;
  oldestPublishMillis: number | undefined;
} {
  let backlog = 0;
  let oldestPublishMillis: number | undefined;
  for (const { end, commitPoint, settledAhead, oldestPublishMillis: oldest } of partitions) {
    const unsettled = Math.max(0, end - commitPoint - settledAhead);
    if (unsettled === 0) continue;
    backlog += unsettled;
    if (oldest !== undefined && (oldestPublishMillis === undefined || oldest < oldestPublishMillis)) {
      oldestPublishMillis = oldest;
    }
  }
  return { backlog, oldestPublishMillis };
}
