import assert from 'node:assert/strict';
import { check } from './checker';
import { FanoutHistory, History, type PublishRecord } from './history';
import type { AuditRecord, KafkaAudit } from './kafka-audit';
import { undelivered } from './scenario';

const topic = 'orders';
const fanoutTopic = 'orders-fanout';

/** A small world: what the load clients saw (`history`) and what Kafka holds (`kafka`). */
class World {
  readonly history = new History('unit');
  private readonly kafka = new Map<string, AuditRecord[]>();
  private offset = 0;

  subscription(name: string, createdAt = 0, ordered = false): this {
    this.history.subscriptionCreated({ name, topic, ordered, createdAt, receiveSentFrom: createdAt });
    return this;
  }

  /** A publish sent at `sentAt`, with its outcome; written to Kafka unless `inKafka` is false. */
  publish(seq: number, sentAt: number, outcome: PublishRecord['outcome'] = 'acked', inKafka = true, key = ''): string {
    const id = `p:${seq}`;
    this.history.sent({ id, publisher: 'p', seq, topic, orderingKey: key, via: 'sdk', sentAt });
    if (outcome === 'acked') this.history.acked(id, `m${seq}`);
    if (outcome === 'failed') this.history.failed(id, 'UNAVAILABLE');
    if (inKafka) this.kafka.set(id, [this.record(id, `m${seq}`)]);
    return id;
  }

  /** A delivery, acked 1 ms later unless `ackedAt` says when, or null for never. */
  deliver(subscription: string, id: string, at: number, ackedAt: number | null = at + 1): this {
    this.history.delivered({
      subscription,
      id,
      subscriber: 's1',
      messageId: `m${id.split(':')[1]}`,
      orderingKey: '',
      deliveryAttempt: 1,
      at,
      ackedAt: ackedAt ?? undefined,
    });
    return this;
  }

  /** The fan-out set: subscriptions `fan-0`... created at `createdAt`. */
  fanout(subscriptions: number, createdAt = 0): FanoutHistory {
    const fanout = (this.history.fanout = new FanoutHistory(fanoutTopic));
    for (let i = 0; i < subscriptions; i++) {
      fanout.addSubscription({ name: `fan-${i}`, createdAt, firstDispatcher: i % 2 });
    }
    return fanout;
  }

  /** A publish to the fan-out topic (chaos id `f:<seq>`). */
  fanoutPublish(seq: number, sentAt: number, outcome: PublishRecord['outcome'] = 'acked', inKafka = true): string {
    const id = `f:${seq}`;
    this.history.sent({ id, publisher: 'f', seq, topic: fanoutTopic, orderingKey: '', via: 'stream', sentAt });
    if (outcome === 'acked') this.history.acked(id, `fm${seq}`);
    if (outcome === 'failed') this.history.failed(id, 'UNAVAILABLE');
    if (inKafka) this.kafka.set(id, [this.record(id, `fm${seq}`, fanoutTopic)]);
    return id;
  }

  check(options: Parameters<typeof check>[2] = {}) {
    const audit: KafkaAudit = { topics: [topic, fanoutTopic], records: this.offset, byId: this.kafka };
    return check(this.history, audit, { slowThresholdMillis: 2_000, ...options });
  }

  private record(id: string, messageId: string, kafkaTopic = topic): AuditRecord {
    return { topic: kafkaTopic, partition: 0, offset: this.offset++, key: null, chaosId: id, messageId };
  }
}

describe('chaos checker', () => {
  it('passes a run where every acknowledged message reached every subscription once', () => {
    const world = new World().subscription('plain');
    for (let seq = 0; seq < 5; seq++) world.deliver('plain', world.publish(seq, 100 + seq), 200 + seq);
    const verdict = world.check();
    assert.equal(verdict.ok, true, verdict.failures.join('; '));
    assert.deepEqual([verdict.acknowledged, verdict.delivered, verdict.lost, verdict.duplicates], [5, 5, 0, 0]);
  });

  it('reports an acknowledged message that Kafka does not hold as lost', () => {
    const world = new World().subscription('plain');
    world.deliver('plain', world.publish(0, 100), 200);
    world.publish(1, 101, 'acked', false);
    const verdict = world.check();
    assert.equal(verdict.ok, false);
    assert.equal(verdict.lost, 1);
    assert.deepEqual(verdict.notInKafkaIds, ['p:1']);
    assert.deepEqual(verdict.lostByVia, { sdk: 1 });
  });

  it('reports a message in Kafka that one subscription never received as lost on that subscription', () => {
    const world = new World().subscription('a').subscription('b');
    const id = world.publish(0, 100);
    world.deliver('a', id, 200);
    const verdict = world.check();
    assert.equal(verdict.lost, 1);
    assert.deepEqual(
      verdict.subscriptions.map((s) => [s.name, s.lost]),
      [
        ['a', 0],
        ['b', 1],
      ],
    );
  });

  it('expects nothing sent before a subscription was created, and everything after a seek to earliest', () => {
    const world = new World().subscription('late', 500);
    world.publish(0, 100);
    world.deliver('late', world.publish(1, 600), 700);
    assert.equal(world.check().lost, 0);
    world.history.subscriptions.get('late')!.receiveSentFrom = 0;
    assert.equal(world.check().lost, 1);
  });

  it('does not count a failed publish that was delivered all the same as lost, but as uncertain', () => {
    const world = new World().subscription('plain');
    world.deliver('plain', world.publish(0, 100, 'failed'), 200);
    world.publish(1, 101, 'failed', false);
    const verdict = world.check();
    assert.equal(verdict.ok, true);
    assert.equal(verdict.uncertainDelivered, 1);
    assert.equal(verdict.failed, 2);
  });

  it('counts deliveries beyond the first as duplicates, apart those after an ack, and a seek replay as neither', () => {
    const world = new World().subscription('plain');
    const id = world.publish(0, 100);
    world.deliver('plain', id, 200, null).deliver('plain', id, 300, 310).deliver('plain', id, 400);
    let verdict = world.check();
    assert.equal(verdict.duplicates, 2);
    assert.equal(verdict.subscriptions[0]!.duplicatesAfterAck, 1);
    assert.equal(verdict.ok, true, 'duplicates alone do not fail a scenario');
    assert.equal(world.check({ enforceDuplicateBound: true }).ok, false, 'unless bounded, with nothing in flight');
    world.history.subscriptions.get('plain')!.seeks = [{ startedAt: 350, at: 360, replaysSentFrom: 0 }];
    verdict = world.check();
    assert.equal(verdict.duplicates, 1);
    assert.equal(verdict.subscriptions[0]!.replays, 1);
  });

  it('fails an ordered subscription whose key was delivered out of Kafka order', () => {
    const world = new World().subscription('ordered', 0, true);
    const first = world.publish(0, 100, 'acked', true, 'k');
    const second = world.publish(1, 101, 'acked', true, 'k');
    world.deliver('ordered', second, 200).deliver('ordered', first, 300);
    const verdict = world.check();
    assert.equal(verdict.reorderedKeys, 1);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.subscriptions[0]!.reorderExamples, ['k: p:1 first delivered before p:0']);
  });

  it('fails an ordered key whose next message went out before the previous one was acked', () => {
    const world = new World().subscription('ordered', 0, true);
    const first = world.publish(0, 100, 'acked', true, 'k');
    const second = world.publish(1, 101, 'acked', true, 'k');
    world.deliver('ordered', first, 200, 400).deliver('ordered', second, 300);
    assert.equal(world.check().reorderedKeys, 1);
    const inOrder = new World().subscription('ordered', 0, true);
    const a = inOrder.publish(0, 100, 'acked', true, 'k');
    const b = inOrder.publish(1, 101, 'acked', true, 'k');
    inOrder.deliver('ordered', a, 200, 250).deliver('ordered', b, 300);
    assert.equal(inOrder.check().ok, true);
  });

  it('fails when a message reaches a subscriber under another message id than its publisher gave', () => {
    // A publish written twice (a resend the broker could not deduplicate): the publisher answered with the
    // second copy's id, and the dispatcher delivered the first copy.
    const world = new World().subscription('plain');
    world.deliver('plain', world.publish(0, 100), 200);
    world.history.deliveries[0]!.messageId = 'm-of-an-earlier-copy';
    const verdict = world.check();
    assert.equal(verdict.messageIdMismatches, 1);
    assert.equal(verdict.lost, 0);
    assert.equal(verdict.ok, false);
    assert.deepEqual(verdict.failures, [
      '1 acknowledged message(s) first delivered under another message id than the publisher gave',
    ]);
  });

  it('fails on a delivery that no publisher sent', () => {
    const world = new World().subscription('plain');
    world.deliver('plain', 'nobody:1', 200);
    const verdict = world.check();
    assert.equal(verdict.phantoms, 1);
    assert.equal(verdict.ok, false);
  });

  describe('an exactly-once subscription', () => {
    /** A delivery whose ack was answered `result` at `answeredAt` (or never, when `answeredAt` is null). */
    function onceDelivery(world: World, id: string, at: number, result: string, answeredAt: number | null) {
      world.deliver('once', id, at, at + 1);
      const delivery = world.history.deliveries.at(-1)!;
      if (answeredAt !== null) {
        delivery.ackResult = result;
        delivery.answeredAt = answeredAt;
      }
    }
    const onceWorld = () => {
      const world = new World();
      world.history.subscriptionCreated({
        name: 'once',
        topic,
        ordered: false,
        createdAt: 0,
        receiveSentFrom: 0,
        exactlyOnce: true,
      });
      return world;
    };

    it('passes when nothing comes after a confirmation, and counts earlier duplicates and failed acks apart', () => {
      const world = onceWorld();
      const a = world.publish(0, 100);
      const b = world.publish(1, 101);
      // a: the first lease expired before its ack, which failed; the second delivery's ack was confirmed.
      onceDelivery(world, a, 200, 'expired', 215);
      onceDelivery(world, a, 300, 'confirmed', 320);
      // b: confirmed at once.
      onceDelivery(world, b, 210, 'confirmed', 230);
      const verdict = world.check();
      assert.equal(verdict.ok, true, verdict.failures.join('; '));
      assert.deepEqual(verdict.subscriptions[0]!.exactlyOnce, {
        confirmed: 2,
        deliveriesAfterConfirm: 0,
        afterConfirmExamples: [],
        duplicatesBeforeConfirm: 1,
        neverConfirmed: 0,
        ackFailures: { expired: 1 },
      });
      assert.equal(verdict.duplicates, 1);
    });

    it('fails on a delivery received after an ack of the message was confirmed', () => {
      const world = onceWorld();
      const a = world.publish(0, 100);
      onceDelivery(world, a, 200, 'confirmed', 220);
      onceDelivery(world, a, 5_000, 'confirmed', 5_020);
      const verdict = world.check();
      assert.equal(verdict.ok, false);
      assert.equal(verdict.subscriptions[0]!.exactlyOnce!.deliveriesAfterConfirm, 1);
      assert.match(
        verdict.failures.join('; '),
        /once: 1 deliveries after a confirmed ack, e\.g\. p:0 \(s1, attempt 1\) 4780 ms/,
      );
    });

    it('does not count a delivery that a seek begun after the confirmation replayed', () => {
      const world = onceWorld();
      const a = world.publish(0, 100);
      onceDelivery(world, a, 200, 'confirmed', 220);
      onceDelivery(world, a, 5_000, 'confirmed', 5_020);
      world.history.subscriptions.get('once')!.seeks = [{ startedAt: 4_000, at: 4_010, replaysSentFrom: 0 }];
      const verdict = world.check();
      assert.equal(verdict.ok, true, verdict.failures.join('; '));
      assert.equal(verdict.subscriptions[0]!.exactlyOnce!.deliveriesAfterConfirm, 0);
    });

    it('counts messages never confirmed and acks never answered, without failing on them', () => {
      const world = onceWorld();
      const a = world.publish(0, 100);
      const b = world.publish(1, 101);
      onceDelivery(world, a, 200, 'unavailable', 230);
      onceDelivery(world, b, 210, 'confirmed', null);
      const verdict = world.check();
      assert.equal(verdict.ok, true, verdict.failures.join('; '));
      const once = verdict.subscriptions[0]!.exactlyOnce!;
      assert.equal(once.neverConfirmed, 2);
      assert.deepEqual(once.ackFailures, { unavailable: 1, unanswered: 1 });
    });

    it('still counts a message never delivered as lost', () => {
      const world = onceWorld();
      world.publish(0, 100);
      const verdict = world.check();
      assert.equal(verdict.lost, 1);
      assert.equal(verdict.ok, false);
    });
  });

  describe('the fan-out set', () => {
    it('passes when every subscription got every acknowledged message, and counts duplicates per subscription apart', () => {
      const world = new World().subscription('plain');
      const fanout = world.fanout(3);
      for (let seq = 0; seq < 4; seq++) {
        const id = world.fanoutPublish(seq, 100 + seq);
        for (let s = 0; s < 3; s++) fanout.received(s, id, 200 + seq + s);
      }
      fanout.received(1, 'f:0', 400);
      fanout.received(2, 'f:0', 401);
      fanout.received(2, 'f:1', 402);
      const verdict = world.check();
      assert.equal(verdict.ok, true, verdict.failures.join('; '));
      const f = verdict.fanout!;
      assert.deepEqual(
        [f.subscriptions, f.acknowledged, f.expected, f.deliveries, f.lost, f.duplicates, f.maxDuplicates],
        [3, 4, 12, 15, 0, 3, 2],
      );
      assert.equal(f.maxDuplicatesSubscription, 'fan-2');
      assert.equal(f.subscriptionsWithDuplicates, 2);
      assert.equal(verdict.duplicates, 0, "the fan-out set's duplicates are not the steady subscriptions'");
      assert.deepEqual(f.firstDispatchers, [2, 1]);
      // Sent at 100 + seq, the last subscription's first copy at 202 + seq.
      assert.deepEqual(f.fanoutMillis, { p50: 102, p99: 102, max: 102, messages: 4 });
    });

    it('reports an acknowledged message one subscription never received as lost, and fails', () => {
      const world = new World().subscription('plain');
      const fanout = world.fanout(3);
      for (let seq = 0; seq < 3; seq++) {
        const id = world.fanoutPublish(seq, 100 + seq);
        for (let s = 0; s < 3; s++) if (!(s === 1 && seq === 2)) fanout.received(s, id, 200 + seq);
      }
      assert.equal(undelivered(world.history), 1, 'the drain waits for it');
      const verdict = world.check();
      assert.equal(verdict.ok, false);
      const f = verdict.fanout!;
      assert.deepEqual([f.lost, f.lostPairs, f.subscriptionsWithLoss, f.notInKafka], [1, 1, 1, 0]);
      assert.deepEqual(f.lostExamples, ['fan-1: f:2']);
      assert.deepEqual(f.lostByVia, { stream: 1 });
      assert.equal(verdict.lost, 1, 'a fan-out loss is a loss of the scenario');
      assert.deepEqual(verdict.failures, [
        '1 acknowledged message(s) lost, e.g. f:2',
        'fan-out: 1 acknowledged message(s) never reached 1 of 3 subscriptions (1 deliveries missing), e.g. fan-1: f:2',
      ]);
      assert.equal(f.fanoutMillis.messages, 2, 'times only of messages every subscription got');
    });

    it('reports a message that reached no subscription, because Kafka lost it, on every subscription', () => {
      const world = new World();
      const fanout = world.fanout(2);
      fanout.received(0, world.fanoutPublish(0, 100), 200);
      fanout.received(1, 'f:0', 200);
      world.fanoutPublish(1, 101, 'acked', false);
      const f = world.check().fanout!;
      assert.deepEqual([f.lost, f.lostPairs, f.subscriptionsWithLoss, f.notInKafka], [1, 2, 2, 1]);
    });

    it('expects nothing sent before a subscription existed, and no failed publish', () => {
      const world = new World();
      const fanout = world.fanout(2, 500);
      world.fanoutPublish(0, 100);
      world.fanoutPublish(1, 600, 'failed');
      const delivered = world.fanoutPublish(2, 601, 'failed');
      const id = world.fanoutPublish(3, 602);
      for (const s of [0, 1]) {
        fanout.received(s, id, 700);
        fanout.received(s, delivered, 700);
      }
      const verdict = world.check();
      assert.equal(verdict.ok, true, verdict.failures.join('; '));
      assert.deepEqual([verdict.fanout!.expected, verdict.fanout!.uncertainDelivered], [2, 1]);
      assert.equal(undelivered(world.history), 0);
    });

    it('fails on a delivery of a message never sent to the fan-out topic', () => {
      const world = new World().subscription('plain');
      const fanout = world.fanout(1);
      world.deliver('plain', world.publish(0, 100), 200);
      fanout.received(0, 'p:0', 210);
      const verdict = world.check();
      assert.equal(verdict.fanout!.phantoms, 1);
      assert.equal(verdict.ok, false);
    });

    it('keeps its receipts compact in the history file: one count per message and subscription', () => {
      const history = new History('unit');
      const fanout = (history.fanout = new FanoutHistory(fanoutTopic));
      fanout.addSubscription({ name: 'fan-0', createdAt: 0, firstDispatcher: 0 });
      for (let seq = 0; seq < 3000; seq++) {
        history.sent({
          id: `f:${seq}`,
          publisher: 'f',
          seq,
          topic: fanoutTopic,
          orderingKey: '',
          via: 'sdk',
          sentAt: 1,
        });
        for (let copy = 0; copy < seq % 3; copy++) fanout.received(0, `f:${seq}`, 2);
      }
      for (let copy = 0; copy < 300; copy++) fanout.received(0, 'f:1', 3);
      const json = fanout.toJSON() as { ids: string[]; subscriptions: Array<{ counts: string }> };
      const counts = Buffer.from(json.subscriptions[0]!.counts, 'base64');
      assert.equal(counts.length, 3000);
      assert.deepEqual([...counts.subarray(0, 6)], [0, 255, 2, 0, 1, 2], 'counts saturate at 255');
      assert.equal(json.ids[2999], 'f:2999');
    });
  });
});
