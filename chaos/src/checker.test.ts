import assert from 'node:assert/strict';
import { check } from './checker';
import { History, type PublishRecord } from './history';
import type { AuditRecord, KafkaAudit } from './kafka-audit';

const topic = 'orders';

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

  check(options: Parameters<typeof check>[2] = {}) {
    const audit: KafkaAudit = { topics: [topic], records: this.offset, byId: this.kafka };
    return check(this.history, audit, { slowThresholdMillis: 2_000, ...options });
  }

  private record(id: string, messageId: string): AuditRecord {
    return { topic, partition: 0, offset: this.offset++, key: null, chaosId: id, messageId };
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
});
