import assert from 'node:assert/strict';
import { durationToMillis, millisToDuration } from '@herald/api';
import { readKafkaTopic, testKafka, waitFor } from '@herald/testkit';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

/** A small deterministic generator, so that a failing run can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('dispatcher redelivery, dead letters and ordering (3-broker Kafka)', function () {
  this.timeout(240_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('redeliver');
  });
  after(async () => f?.close());

  it('redelivers an unacknowledged message after each deadline with backoff, then dead-letters it', async () => {
    await f.createTopic('unacked', 2);
    await f.createTopic('unacked-dead', 1);
    const subscription = await f.createSubscription({
      name: 'unacked-sub',
      topic: 'unacked',
      ackDeadlineSeconds: 10,
      retryPolicy: { minimumBackoff: millisToDuration(1_000), maximumBackoff: millisToDuration(4_000) },
      deadLetterPolicy: { deadLetterTopic: 'unacked-dead', maxDeliveryAttempts: 5 },
    });
    assert.equal(durationToMillis(subscription.retryPolicy?.minimumBackoff), 1_000);
    const stream = new PullStream(f.dispatchers[0]!, { subscription: 'unacked-sub', decide: () => 'hold' });
    const published = await f.publish('unacked', 2, (i) => ({
      data: Buffer.from(`never acked ${i}`),
      attributes: { n: String(i) },
    }));
    const dead = await readKafkaTopic(testKafka().brokers, `${f.prefix}unacked-dead`, 2, 120_000);
    stream.close();
    for (const id of published) {
      const deliveries = stream.deliveries.filter((d) => d.message.messageId === id);
      assert.deepEqual(
        deliveries.map((d) => d.message.deliveryAttempt),
        [1, 2, 3, 4, 5],
        `delivery attempts of ${id}`,
      );
      for (let attempt = 1; attempt < 5; attempt++) {
        const gap = deliveries[attempt]!.atMillis - deliveries[attempt - 1]!.atMillis;
        const backoff = Math.min(4_000, 1_000 * 2 ** (attempt - 1));
        // Deadline plus backoff at least; the dispatcher's timer ticks every 50 ms.
        assert.ok(gap >= 10_000 + backoff - 100, `attempt ${attempt + 1} came ${gap} ms after the previous`);
      }
    }
    assert.equal(dead.length, 2);
    for (const record of dead) {
      const headers = Object.fromEntries(Object.entries(record.message.headers!).map(([k, v]) => [k, v!.toString()]));
      assert.equal(headers['herald-dead-letter-subscription'], 'unacked-sub');
      assert.equal(headers['herald-dead-letter-attempts'], '5');
      assert.ok(published.includes(headers['herald-dead-letter-message-id']!));
      assert.match(record.message.value!.toString(), /^never acked \d$/);
      assert.ok(headers.n === '0' || headers.n === '1', 'attributes travel with the dead letter');
    }
    // Dead-lettered counts as settled: a new stream gets nothing more.
    const after = new PullStream(f.dispatchers[1]!, { subscription: 'unacked-sub' });
    const more = await f.publish('unacked', 1);
    await waitFor(() => after.messageIds.has(more[0]!), { timeoutMillis: 30_000 });
    after.close();
    assert.deepEqual([...after.messageIds], more, 'only the new message; the dead-lettered ones moved on');
  });

  it('keeps per-key order at every delivery with random nacks, and dead-letters a poison key alone', async () => {
    await f.createTopic('ordered', 4);
    await f.createTopic('ordered-dead', 1);
    await f.createSubscription({
      name: 'ordered-sub',
      topic: 'ordered',
      enableMessageOrdering: true,
      retryPolicy: { minimumBackoff: millisToDuration(0), maximumBackoff: millisToDuration(0) },
      deadLetterPolicy: { deadLetterTopic: 'ordered-dead', maxDeliveryAttempts: 5 },
    });
    const keys = Array.from({ length: 50 }, (_, k) => (k === 7 ? 'poison' : `key-${k}`));
    const perKey = 200;
    const random = seededRandom(42);
    // Healthy messages are nacked at random, but not from their third attempt on: five nacks in a row
    // (1 in 100,000 per message, so about one run in ten over 9,800 messages) would rightly
    // dead-letter a healthy message, and the test would wait for its ack forever.
    const decide = (message: { orderingKey: string; deliveryAttempt: number }) =>
      message.orderingKey === 'poison' ? 'nack' : message.deliveryAttempt < 3 && random() < 0.1 ? 'nack' : 'ack';
    const streams = f.dispatchers.map((d) => new PullStream(d, { subscription: 'ordered-sub', decide }));
    // Order is about nacks here; a rebalance while the second consumer joins would restart keys from their commit.
    await f.waitForServing('ordered-sub', 'served');
    await f.publish(
      'ordered',
      keys.length * perKey,
      (i) => ({ data: Buffer.from(String(Math.floor(i / keys.length))), orderingKey: keys[i % keys.length]! }),
      500,
    );
    const healthyDone = () =>
      keys
        .filter((k) => k !== 'poison')
        .every((k) => {
          const acked = streams.flatMap((s) =>
            s.deliveries.filter((d) => d.message.orderingKey === k && s.acked.has(d.message.messageId)),
          );
          return new Set(acked.map((d) => d.message.messageId)).size === perKey;
        });
    await waitFor(healthyDone, { timeoutMillis: 180_000, description: 'all 49 healthy keys acknowledged' });
    const dead = await readKafkaTopic(testKafka().brokers, `${f.prefix}ordered-dead`, perKey, 120_000);
    streams.forEach((s) => s.close());

    // Per key, across both streams in time order: a message is either the previous one again
    // (a redelivery) or the next one, and the next only after the previous was acknowledged.
    const all = streams.flatMap((s) => s.deliveries);
    all.sort((a, b) => a.arrival - b.arrival);
    let violations = 0;
    for (const key of keys) {
      let previous: (typeof all)[number] | undefined;
      for (const delivery of all.filter((d) => d.message.orderingKey === key)) {
        const sequence = Number(delivery.message.data.toString());
        const current = previous ? Number(previous.message.data.toString()) : -1;
        const settled = !previous || previous.decision === 'ack' || previous.message.deliveryAttempt === 5;
        const redelivery = sequence === current && !settled;
        const next = sequence === current + 1 && settled;
        if (!redelivery && !next) {
          violations++;
          console.log(
            `      order violation on ${key}: ${current} (${previous?.decision}, attempt ${previous?.message.deliveryAttempt}) then ${sequence}`,
          );
        }
        previous = delivery;
      }
    }
    const deliveries = all.length;
    console.log(
      `      ${deliveries} deliveries of ${keys.length * perKey} messages; ${dead.length} dead letters; order violations ${violations}`,
    );
    assert.equal(violations, 0);
    assert.equal(dead.length, perKey, 'every poison message dead-lettered');
    assert.ok(dead.every((r) => r.message.headers!['herald-ordering-key']!.toString() === 'poison'));
    const deadSequence = dead.map((r) => Number(r.message.value!.toString()));
    assert.deepEqual(
      deadSequence,
      [...deadSequence].sort((a, b) => a - b),
      'poison messages dead-lettered in order',
    );
  });
});
