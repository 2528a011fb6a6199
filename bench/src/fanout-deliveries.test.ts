import assert from 'node:assert/strict';
import { FanoutDeliveries, waitFor } from './fanout-deliveries';
import { LatencyHistogram } from './latency-histogram';
import { StampedPayloads } from './stamped-payloads';

describe('FanoutDeliveries', () => {
  const payloads = new StampedPayloads(32);

  it('counts which subscriptions received a probe, each once', () => {
    const deliveries = new FanoutDeliveries(3);
    deliveries.watchProbe(0);
    deliveries.record(0, payloads.make(0, 0n), 1n);
    deliveries.record(2, payloads.make(0, 0n), 1n);
    deliveries.record(2, payloads.make(0, 0n), 2n);
    assert.equal(deliveries.receivedProbe(0), 2);
    assert.equal(deliveries.hasProbe(0, 0), true);
    assert.equal(deliveries.hasProbe(0, 1), false);
    assert.equal(deliveries.duplicates, 1);
    assert.equal(deliveries.receivedProbe(7), 0);
  });

  it('measures every (subscription, message) pair once, with its latency from the stamp', () => {
    const deliveries = new FanoutDeliveries(2);
    const histogram = new LatencyHistogram();
    deliveries.measure(10, 3, histogram);
    for (const subscription of [0, 1]) {
      for (const sequence of [10, 11, 12])
        deliveries.record(subscription, payloads.make(sequence, 1_000_000n), 5_000_000n);
    }
    deliveries.record(1, payloads.make(12, 1_000_000n), 9_000_000n);
    assert.equal(deliveries.measuredDeliveries, 6);
    assert.equal(deliveries.duplicates, 1);
    assert.equal(deliveries.lastMeasuredNanos, 5_000_000n);
    const summary = histogram.summary();
    assert.equal(summary.count, 6);
    assert.ok(Math.abs(summary.p50Millis - 4) < 0.01, `p50 ${summary.p50Millis}`);
  });

  it('leaves out messages outside the measured run, unknown subscriptions and unstamped payloads', () => {
    const deliveries = new FanoutDeliveries(2);
    deliveries.measure(10, 2, undefined);
    deliveries.record(0, payloads.make(9, 0n), 1n);
    deliveries.record(0, payloads.make(12, 0n), 1n);
    deliveries.record(2, payloads.make(10, 0n), 1n);
    deliveries.record(0, Buffer.alloc(3), 1n);
    deliveries.record(0, null, 1n);
    assert.equal(deliveries.measuredDeliveries, 0);
    assert.equal(deliveries.unknown, 5);
    assert.equal(deliveries.total, 5);
  });

  it('tells probes from measured messages when both are tracked', () => {
    const deliveries = new FanoutDeliveries(1);
    deliveries.watchProbe(0);
    deliveries.measure(1, 2, undefined);
    deliveries.record(0, payloads.make(0, 0n), 1n);
    deliveries.record(0, payloads.make(1, 0n), 1n);
    assert.equal(deliveries.receivedProbe(0), 1);
    assert.equal(deliveries.measuredDeliveries, 1);
  });
});

describe('waitFor', () => {
  it('resolves true once the condition holds, false after the timeout', async () => {
    let ready = false;
    setTimeout(() => (ready = true), 30);
    assert.equal(await waitFor(() => ready, 2_000), true);
    assert.equal(await waitFor(() => false, 50), false);
  });
});
