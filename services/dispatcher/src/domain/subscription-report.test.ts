import assert from 'node:assert/strict';
import { noCounts } from './delivery-engine';
import { addCounts, backlogOf } from './subscription-report';

describe('backlogOf', () => {
  it('counts what lies past each commit point, less what was settled out of order', () => {
    const { backlog, oldestPublishMillis } = backlogOf([
      { end: 100, commitPoint: 90, settledAhead: 3, oldestPublishMillis: 5_000 },
      { end: 50, commitPoint: 20, settledAhead: 0, oldestPublishMillis: 4_000 },
    ]);
    assert.equal(backlog, 7 + 30);
    assert.equal(oldestPublishMillis, 4_000);
  });

  it('takes the oldest only from partitions with a backlog, and has none when all is settled', () => {
    assert.deepEqual(
      backlogOf([
        { end: 10, commitPoint: 10, settledAhead: 0, oldestPublishMillis: 1 },
        { end: 10, commitPoint: 4, settledAhead: 0, oldestPublishMillis: 9 },
      ]),
      { backlog: 6, oldestPublishMillis: 9 },
    );
    assert.deepEqual(backlogOf([{ end: 10, commitPoint: 10, settledAhead: 0, oldestPublishMillis: undefined }]), {
      backlog: 0,
      oldestPublishMillis: undefined,
    });
  });

  it('never goes below zero when the end read is older than the position', () => {
    assert.equal(backlogOf([{ end: 5, commitPoint: 8, settledAhead: 0, oldestPublishMillis: undefined }]).backlog, 0);
  });
});

describe('addCounts', () => {
  it('adds every counter', () => {
    const total = addCounts(noCounts(), { ...noCounts(), delivered: 3, acked: 2 });
    addCounts(total, { ...noCounts(), delivered: 1, expired: 1 });
    assert.deepEqual(total, { ...noCounts(), delivered: 4, acked: 2, expired: 1 });
  });
});
