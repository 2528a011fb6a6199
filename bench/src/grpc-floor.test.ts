import assert from 'node:assert/strict';
import { FanoutDeliveries, waitFor } from './fanout-deliveries';
import { GrpcFloor } from './grpc-floor';
import { LatencyHistogram } from './latency-histogram';
import { StreamFleet } from './stream-fleet';

describe('GrpcFloor', function () {
  this.timeout(20_000);

  it('writes each message it is told to send to every attached stream, stamped with the given time', async () => {
    const floor = await GrpcFloor.start(1024);
    const streams = 5;
    const deliveries = new FanoutDeliveries(streams);
    const fleet = StreamFleet.create({
      subscriptions: Array.from({ length: streams }, (_, i) => `s${i}`),
      endpoints: [floor.address],
      streamsPerChannel: 2,
      onMessage: (subscription, message) => deliveries.record(subscription, message.data, process.hrtime.bigint()),
    });
    try {
      fleet.openNext(streams);
      assert.ok(await waitFor(() => floor.attached === streams, 10_000), `${floor.attached} attached`);
      const histogram = new LatencyHistogram();
      deliveries.measure(1, 2, histogram);
      const sentAt = process.hrtime.bigint() - 5_000_000n;
      floor.deliver(1, sentAt);
      floor.deliver(2, sentAt);
      assert.ok(await waitFor(() => deliveries.measuredDeliveries === 2 * streams, 10_000));
      assert.equal(deliveries.duplicates, 0);
      // Stamped 5 ms in the past: every latency counts from that stamp, not from the write.
      assert.ok(histogram.summary().p50Millis >= 5, `${histogram.summary().p50Millis} ms`);
    } finally {
      fleet.close();
      await floor.stop();
    }
    assert.equal(floor.running, false);
  });
});
