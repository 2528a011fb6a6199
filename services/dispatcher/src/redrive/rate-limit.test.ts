import assert from 'node:assert/strict';
import { RateLimit, batchSizeFor } from './rate-limit';

describe('RateLimit', () => {
  it('holds a steady stream of batches to the rate', () => {
    const limit = new RateLimit(100, 0);
    let now = 0;
    let taken = 0;
    // Batches of 10 as fast as allowed, for 100 batches.
    for (let batch = 0; batch < 100; batch++) {
      now += limit.delayFor(10, now);
      taken += 10;
    }
    // 1,000 items at 100 a second: the last batch may leave at 9.9 s at the earliest.
    assert.ok(now >= 9_900 && now <= 10_000, `1,000 items took ${now} ms`);
    assert.equal(taken, 1_000);
  });

  it('lets a batch go at once after a pause, but never more than a second’s worth', () => {
    const limit = new RateLimit(50, 0);
    assert.equal(limit.delayFor(50, 0), 1_000, 'nothing is owed at the start');
    assert.equal(limit.delayFor(50, 60_000), 0, 'a long pause earned a full second');
    assert.equal(limit.delayFor(50, 60_000), 1_000, 'and only one');
  });

  it('waits in proportion to a batch larger than the rate', () => {
    const limit = new RateLimit(10, 0);
    assert.equal(limit.delayFor(30, 0), 3_000);
  });
});

describe('batchSizeFor', () => {
  it('aims at ten batches a second, between 1 and 500 messages', () => {
    assert.equal(batchSizeFor(1), 1);
    assert.equal(batchSizeFor(100), 10);
    assert.equal(batchSizeFor(10_000), 500);
  });
});
