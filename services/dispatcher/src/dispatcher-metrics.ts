import { Counter, Gauge, LabelBudget, type Registry, otherLabel } from '@herald/metrics';
import { pushOutcomes } from './domain/adaptive-concurrency';
import type { DeliveryStats } from './domain/delivery-engine';
import { type SubscriptionReport, addCounts } from './domain/subscription-report';

/** What the dispatcher's metrics read: kept this small so that a new read path only has to answer it. */
export interface DispatcherFigures {
  reports(): Promise<SubscriptionReport[]>;
  ownedSlots(): number;
}

/**
 * The dispatcher's Prometheus metrics, per subscription it serves, read at
 * scrape time from its reports: backlog, age of the oldest unacknowledged
 * message, leases, deliveries, redeliveries by cause, dead letters, filtered
 * and deduplicated messages, streams and paused partitions. Nothing is
 * counted on the delivery path. Subscriptions past `maxSeries` are summed
 * under `subscription="other"` (the age: the oldest of them).
 */
export function exportDispatcherMetrics(registry: Registry, figures: DispatcherFigures, maxSeries: number): void {
  const budget = new LabelBudget(maxSeries);
  // A scrape asks every metric at once: they share the reports being made, and the next scrape makes new ones.
  let making: Promise<Map<string, SubscriptionReport>> | undefined;
  const current = () => {
    if (!making) {
      const reports = figures.reports().then((list) => foldReports(list, budget));
      making = reports;
      const forget = () => setImmediate(() => (making = making === reports ? undefined : making));
      reports.then(forget, forget);
    }
    return making;
  };
  const registers = [registry];
  const perSubscription = (
    name: string,
    help: string,
    value: (report: SubscriptionReport) => number | undefined,
    kind: 'gauge' | 'counter' = 'gauge',
  ) => {
    const Metric = kind === 'gauge' ? Gauge : Counter;
    new Metric({
      name,
      help,
      labelNames: ['subscription'],
      registers,
      async collect() {
        const reports = await current();
        this.reset();
        for (const [label, report] of reports) {
          const v = value(report);
          if (v === undefined) continue;
          if (this instanceof Gauge) this.set({ subscription: label }, v);
          else this.inc({ subscription: label }, v);
        }
      },
    });
  };
  const count = (key: keyof DeliveryStats) => (report: SubscriptionReport) => report.counts[key];
  perSubscription(
    'herald_subscription_backlog_messages',
    'Messages at or after the subscription’s position not acknowledged yet (Pub/Sub’s num_undelivered_messages)',
    (r) => r.backlog,
  );
  perSubscription(
    'herald_subscription_oldest_unacked_age_seconds',
    'Age of the oldest message not acknowledged yet, in seconds (absent when there is none or it is not read yet)',
    (r) =>
      r.oldestUnackedPublishMillis === undefined
        ? undefined
        : Math.max(0, Date.now() - r.oldestUnackedPublishMillis) / 1000,
  );
  perSubscription(
    'herald_subscription_leases_outstanding',
    'Messages delivered and awaiting their ack',
    (r) => r.leases,
  );
  perSubscription('herald_subscription_streams', 'StreamingPull streams attached', (r) => r.streams);
  perSubscription(
    'herald_subscription_paused_partitions',
    'Partitions not read because the subscription holds its limit of unacknowledged messages',
    (r) => r.pausedPartitions,
  );
  perSubscription(
    'herald_subscription_deliveries_total',
    'Deliveries to streams, redeliveries included',
    count('delivered'),
    'counter',
  );
  perSubscription('herald_subscription_acks_total', 'Deliveries acknowledged', count('acked'), 'counter');
  perSubscription(
    'herald_subscription_dead_letters_total',
    'Messages moved to the dead-letter topic',
    count('deadLettered'),
    'counter',
  );
  perSubscription(
    'herald_subscription_filtered_total',
    'Messages the subscription’s filter dropped',
    count('filtered'),
    'counter',
  );
  perSubscription(
    'herald_subscription_dedup_hits_total',
    'Messages dropped as repeats of an idempotency key',
    count('deduplicated'),
    'counter',
  );
  new Counter({
    name: 'herald_subscription_redeliveries_total',
    help: 'Deliveries that failed and go again, by cause: deadline (not acked in time) or nack',
    labelNames: ['subscription', 'cause'],
    registers,
    async collect() {
      const reports = await current();
      this.reset();
      for (const [label, report] of reports) {
        this.inc({ subscription: label, cause: 'deadline' }, report.counts.expired);
        this.inc({ subscription: label, cause: 'nack' }, report.counts.nacked);
      }
    },
  });
  new Counter({
    name: 'herald_subscription_push_requests_total',
    help: 'Push requests of a push subscription, by outcome: ok, throttled (429), server-error (5xx), timeout, network-error, rejected (other answers), refused (endpoint on a private address)',
    labelNames: ['subscription', 'outcome'],
    registers,
    async collect() {
      const reports = await current();
      this.reset();
      for (const [label, report] of reports) {
        if (!report.push) continue;
        for (const outcome of pushOutcomes) {
          this.inc({ subscription: label, outcome }, report.push.outcomes[outcome]);
        }
      }
    },
  });
  perSubscription(
    'herald_subscription_push_concurrency',
    'Push requests a push subscription may have in flight now (adaptive, under its max_outstanding)',
    (r) => r.push?.concurrency,
  );
  perSubscription(
    'herald_subscription_push_refused',
    '1 while a push subscription’s endpoint resolves to a private address the dispatcher may not reach',
    (r) => r.push && (r.push.state === 'refused' ? 1 : 0),
  );
  new Gauge({
    name: 'herald_dispatcher_slots_owned',
    help: 'Slots (shares of the subscriptions) this dispatcher serves',
    registers,
    collect() {
      this.set(figures.ownedSlots());
    },
  });
}

/** Reports by label: each subscription under its own name while the budget lasts, the rest summed as `other`. */
export function foldReports(reports: SubscriptionReport[], budget: LabelBudget): Map<string, SubscriptionReport> {
  budget.retainOnly(new Set(reports.map((report) => report.subscription)));
  const folded = new Map<string, SubscriptionReport>();
  for (const report of reports) {
    const label = budget.labelOf(report.subscription);
    if (label !== otherLabel) {
      folded.set(label, report);
      continue;
    }
    const other = folded.get(otherLabel);
    if (!other) {
      // Push figures stay with the subscriptions that have series of their own.
      folded.set(otherLabel, { ...report, subscription: otherLabel, counts: { ...report.counts }, push: undefined });
      continue;
    }
    other.backlog += report.backlog;
    other.leases += report.leases;
    other.streams += report.streams;
    other.pausedPartitions += report.pausedPartitions;
    addCounts(other.counts, report.counts);
    const age = report.oldestUnackedPublishMillis;
    if (
      age !== undefined &&
      (other.oldestUnackedPublishMillis === undefined || age < other.oldestUnackedPublishMillis)
    ) {
      other.oldestUnackedPublishMillis = age;
    }
  }
  return folded;
}
