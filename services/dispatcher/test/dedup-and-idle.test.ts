import assert from 'node:assert/strict';
import { waitFor } from '@herald/testkit';
import { partitionOfKey } from '@herald/kafka';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

describe('dispatcher deduplication and consumer lifecycle (3-broker Kafka)', function () {
  this.timeout(240_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('dedup');
  });
  after(async () => f?.close());

  it('delivers a repeated idempotency key once, also after the partition moved to another dispatcher', async () => {
    await f.createTopic('payments', 2);
    await f.createSubscription({ name: 'payments-sub', topic: 'payments' });
    const first = new PullStream(f.dispatchers[0]!, { subscription: 'payments-sub' });
    const owner = await f.servedBy('payments-sub');
    const markerKeys = [0, 1].map((partition) => keyOnPartition(partition, 2));
    const keyed = (key: string, n: number) => ({ data: Buffer.from(`${key} try ${n}`), idempotencyKey: key });
    // A publisher retrying: the same keys twice, as separate publishes.
    const original = await f.publish('payments', 20, (i) => keyed(`payment-${i}`, 1));
    const retried = await f.publish('payments', 20, (i) => keyed(`payment-${i}`, 2));
    // A marker behind the repeats on every partition: once all are acked, every repeat was read.
    const markers = await f.publish('payments', 2, (i) => ({
      data: Buffer.from('marker'),
      orderingKey: markerKeys[i]!,
    }));
    await waitFor(() => markers.every((id) => first.acked.has(id)), { description: 'the markers delivered' });
    assert.deepEqual(retried, original, 'a repeated key is answered with the first id');
    assert.equal(original.filter((id) => first.acked.has(id)).length, 20);
    const tries = (stream: PullStream, n: number) =>
      stream.deliveries.filter((d) => Buffer.from(d.message.data).toString().endsWith(`try ${n}`)).length;
    assert.equal(tries(first, 1), 20);
    assert.equal(tries(first, 2), 0, 'repeats were not delivered');

    // Hand the subscription to the other dispatcher (its owner stops): it rebuilds the window from
    // the log before delivering.
    first.close();
    await f.stack.dispatchers[owner]!.stop();
    const second = new PullStream(f.dispatchers[1 - owner]!, { subscription: 'payments-sub' });
    await f.waitForServing('payments-sub', 'served');
    assert.equal(await f.servedBy('payments-sub'), 1 - owner);
    const afterMove = await f.publish('payments', 20, (i) => keyed(`payment-${i}`, 3));
    const fresh = await f.publish('payments', 5, (i) => keyed(`refund-${i}`, 1));
    const laterMarkers = await f.publish('payments', 2, (i) => ({
      data: Buffer.from('marker'),
      orderingKey: markerKeys[i]!,
    }));
    await waitFor(() => [...fresh, ...laterMarkers].every((id) => second.acked.has(id)), {
      description: 'new keys and markers delivered',
    });
    second.close();
    await f.stack.dispatchers[owner]!.start();
    assert.deepEqual(afterMove, original);
    assert.equal(tries(second, 3), 0, 'repeats after the move were not delivered');
  });

  it('stops a subscription’s consumer a grace period after its last stream leaves', async () => {
    await f.createTopic('idle', 1);
    await f.createSubscription({ name: 'idle-sub', topic: 'idle' });
    const stream = new PullStream(f.dispatchers[0]!, { subscription: 'idle-sub' });
    await f.waitForServing('idle-sub', 'served');
    stream.close();
    await f.waitForServing('idle-sub', 'idle');
  });
});

/** A key that Kafka's partitioner puts on `partition` of `partitions`. */
function keyOnPartition(partition: number, partitions: number): string {
  for (let i = 0; ; i++) {
    if (partitionOfKey(Buffer.from(`marker-${i}`), partitions) === partition) return `marker-${i}`;
  }
}
