import assert from 'node:assert/strict';
import { millisToDuration } from '@herald/api';
import { waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

describe('dead letters seen by subscribers (3-broker Kafka)', function () {
  this.timeout(240_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('deadletters');
  });
  after(async () => f?.close());

  it('delivers where each dead letter came from as herald-dead-letter-* attributes through StreamingPull', async () => {
    await f.createTopic('orders', 2);
    await f.createTopic('orders-dead', 1);
    await f.createSubscription({
      name: 'orders-sub',
      topic: 'orders',
      retryPolicy: { minimumBackoff: millisToDuration(0), maximumBackoff: millisToDuration(0) },
      deadLetterPolicy: { deadLetterTopic: 'orders-dead', maxDeliveryAttempts: 5 },
    });
    await f.createSubscription({ name: 'orders-dead-sub', topic: 'orders-dead' });
    // Filters see the dead-letter attributes too: a shared dead-letter topic can be split by origin.
    await f.createSubscription({
      name: 'orders-dead-from-elsewhere',
      topic: 'orders-dead',
      filter: 'attributes.herald-dead-letter-subscription = "another-sub"',
    });
    const failing = new PullStream(f.dispatchers[0]!, { subscription: 'orders-sub', decide: () => 'nack' });
    const before = Date.now();
    const published = await f.publish('orders', 3, (i) => ({
      data: Buffer.from(`order ${i}`),
      attributes: { n: String(i), region: 'eu' },
    }));
    const after = Date.now();
    const dead = new PullStream(f.dispatchers[1]!, { subscription: 'orders-dead-sub' });
    const elsewhere = new PullStream(f.dispatchers[0]!, { subscription: 'orders-dead-from-elsewhere' });
    await waitFor(() => dead.acked.size === 3, { timeoutMillis: 60_000, description: 'three dead letters' });
    failing.close();

    for (const { message } of dead.deliveries) {
      const attributes = message.attributes;
      const i = Number(attributes.n);
      assert.equal(message.data.toString(), `order ${i}`);
      assert.equal(attributes.region, 'eu', 'the published attributes travel with the dead letter');
      assert.equal(attributes['herald-dead-letter-subscription'], 'orders-sub');
      assert.equal(attributes['herald-dead-letter-attempts'], '5');
      assert.equal(attributes['herald-dead-letter-message-id'], published[i]);
      const publishTime = Date.parse(attributes['herald-dead-letter-publish-time']!);
      assert.ok(
        publishTime >= before - 1 && publishTime <= after + 1,
        `original publish time ${attributes['herald-dead-letter-publish-time']} within the publish call`,
      );
      assert.notEqual(message.messageId, published[i], 'the dead letter is a message of its own topic');
    }
    // Attempts on the source subscription, seen by the failing stream: five each, then nothing more.
    for (const id of published) {
      const attempts = failing.deliveries
        .filter((d) => d.message.messageId === id)
        .map((d) => d.message.deliveryAttempt);
      assert.deepEqual(attempts, [1, 2, 3, 4, 5]);
    }
    // The filtered subscription's cursor passes all three (it is settled) without delivering any.
    await waitFor(async () => (await f.storedCursor('orders-dead-from-elsewhere')).get(0) === 3n, {
      timeoutMillis: 30_000,
      description: 'the filtered subscription past the three dead letters',
    });
    elsewhere.close();
    dead.close();
    assert.equal(elsewhere.deliveries.length, 0);
  });
});
