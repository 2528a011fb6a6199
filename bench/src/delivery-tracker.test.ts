import assert from 'node:assert/strict';
import { DeliveryTracker } from './delivery-tracker';
import { LatencyHistogram } from './latency-histogram';
import { StampedPayloads, readStamp, stampBytes } from './stamped-payloads';

describe('StampedPayloads', () => {
  it('stamps the send time and sequence number at the start of a payload of the asked size', () => {
    const payloads = new StampedPayloads(100);
    const payload = payloads.make(70_000, 123_456_789_012n);
    assert.equal(payload.length, 100);
    assert.deepEqual(readStamp(payload), { sequence: 70_000, sentAtNanos: 123_456_789_012n });
  });

  it('refuses sizes without room for the stamp, and reads nothing from a short payload', () => {
    assert.throws(() => new StampedPayloads(stampBytes - 1));
    assert.equal(readStamp(Buffer.alloc(stampBytes - 1)), undefined);
    assert.equal(readStamp(null), undefined);
  });
});

describe('DeliveryTracker', () => {
  const payloads = new StampedPayloads(16);

  it('counts each sequence number once and measures only from the measured one on', () => {
    const tracker = new DeliveryTracker(4);
    tracker.record(payloads.make(0, 0n), 5_000_000n);
    const histogram = new LatencyHistogram();
    tracker.measure(1, histogram);
    tracker.record(payloads.make(1, 1_000_000n), 3_000_000n);
    tracker.record(payloads.make(1, 1_000_000n), 9_000_000n);
    tracker.record(payloads.make(2, 2_000_000n), 6_000_000n);
    assert.equal(tracker.delivered, 3);
    assert.equal(tracker.measuredDelivered, 2);
    assert.equal(tracker.duplicates, 1);
    assert.equal(tracker.firstMeasuredNanos, 3_000_000n);
    assert.equal(tracker.lastMeasuredNanos, 6_000_000n);
    const summary = histogram.summary();
    assert.equal(summary.count, 2);
    assert.ok(Math.abs(summary.maxMillis - 4) < 0.01, `max ${summary.maxMillis} ms`);
  });

  it('grows past the expected count, and counts payloads without a stamp apart', () => {
    const tracker = new DeliveryTracker(1);
    tracker.record(payloads.make(5_000, 0n));
    tracker.record(Buffer.from('short'));
    assert.equal(tracker.delivered, 1);
    assert.equal(tracker.unknown, 1);
  });

  it('waits for deliveries, and gives up after the timeout', async () => {
    const tracker = new DeliveryTracker(2);
    setTimeout(() => tracker.record(payloads.make(0, 0n)), 10);
    assert.equal(await tracker.waitForDelivered(1, 1_000), true);
    assert.equal(await tracker.waitForDelivered(2, 50), false);
  });
});
