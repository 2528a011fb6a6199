import assert from 'node:assert/strict';
import { LabelBudget } from '@herald/metrics';
import { foldReports } from './dispatcher-metrics';
import { noCounts } from './domain/delivery-engine';
import type { SubscriptionReport } from './domain/subscription-report';

function report(subscription: string, backlog: number, oldest: number | undefined): SubscriptionReport {
  return {
    subscription,
    topic: 't',
    backlog,
    oldestUnackedPublishMillis: oldest,
    leases: 1,
    streams: 1,
    pausedPartitions: 0,
    counts: { ...noCounts(), delivered: backlog },
  };
}

describe('foldReports', () => {
  it('keeps subscriptions under their names up to the budget and sums the rest as other, with the oldest age', () => {
    const folded = foldReports(
      [report('a', 1, 100), report('b', 2, 300), report('c', 3, 200), report('d', 4, undefined)],
      new LabelBudget(1),
    );
    assert.deepEqual([...folded.keys()], ['a', 'other']);
    const other = folded.get('other')!;
    assert.equal(other.backlog, 9);
    assert.equal(other.leases, 3);
    assert.equal(other.counts.delivered, 9);
    assert.equal(other.oldestUnackedPublishMillis, 200);
  });

  it('gives the place of a subscription no longer reported to the next one', () => {
    const budget = new LabelBudget(1);
    foldReports([report('a', 1, undefined)], budget);
    assert.deepEqual([...foldReports([report('b', 1, undefined)], budget).keys()], ['b']);
  });
});
