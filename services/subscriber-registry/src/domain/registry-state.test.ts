import assert from 'node:assert/strict';
import {
  type LogRecord,
  policyKey,
  recordVersion,
  type SubscriptionChange,
  type SubscriptionChanged,
  subscriptionKey,
  type TopicCreated,
  topicKey,
} from './registry-events';
import { type RegistryChange, RegistryState } from './registry-state';

type TopicFields = TopicCreated['topic'];
type SubscriptionFields = SubscriptionChanged['subscription'];

/** A topic record as the registry writes it, with overridable fields. */
function topicRecord(name: string, fields: Partial<TopicFields> = {}): LogRecord {
  return {
    key: topicKey(name),
    event: {
      v: recordVersion,
      type: 'topic',
      change: 'created',
      topic: {
        name,
        partitions: 3,
        retentionMillis: 86_400_000,
        replicationFactor: 3,
        createTimeMillis: 1_000,
        ...fields,
      },
    },
  };
}

/** A subscription record as the registry writes it, with overridable fields. */
function subscriptionRecord(
  name: string,
  topic: string,
  change: SubscriptionChange = 'created',
  fields: Partial<SubscriptionFields> = {},
): LogRecord {
  return {
    key: subscriptionKey(name),
    event: {
      v: recordVersion,
      type: 'subscription',
      change,
      subscription: {
        name,
        topic,
        ackDeadlineSeconds: 10,
        retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 60_000 },
        deadLetterPolicy: null,
        enableMessageOrdering: false,
        filter: '',
        startOffsets: [{ partition: 0, offset: '0' }],
        lastSeek: null,
        detached: false,
        createTimeMillis: 2_000,
        createRevision: 'self',
        ...fields,
      },
    },
  };
}

const tombstone = (key: string): LogRecord => ({ key, event: undefined });

/** Applies records at offsets 0, 1, 2, ... */
function replay(records: LogRecord[]): RegistryState {
  const state = new RegistryState();
  records.forEach((record, offset) => state.apply(record, String(offset), 10_000 + offset));
  return state;
}

const names = (items: Array<{ name: string }>) => items.map((item) => item.name);

describe('RegistryState', () => {
  describe('revision', () => {
    it('is -1 before any record', () => {
      const state = new RegistryState();
      assert.equal(state.revision, '-1');
      assert.equal(state.topicCount, 0);
      assert.equal(state.subscriptionCount, 0);
    });

    it('is the offset of the last record applied', () => {
      const state = new RegistryState();
      state.apply(topicRecord('orders'), '41', 0);
      assert.equal(state.revision, '41');
      state.apply(topicRecord('payments'), '42', 0);
      assert.equal(state.revision, '42');
    });

    it('advances past records that change nothing', () => {
      const state = new RegistryState();
      state.apply(topicRecord('orders'), '5', 0);
      assert.equal(state.apply(tombstone(topicKey('missing')), '6', 0), undefined);
      assert.equal(state.revision, '6');
      assert.equal(state.apply(tombstone('queue/orders'), '7', 0), undefined);
      assert.equal(state.revision, '7');
    });
  });

  describe('apply', () => {
    it('creates a topic whose revision is the record offset', () => {
      const state = new RegistryState();
      const applied = state.apply(
        topicRecord('orders', { partitions: 6, retentionMillis: 3_600_000, replicationFactor: 1 }),
        '12',
        99,
      );
      const expected = {
        name: 'orders',
        partitions: 6,
        retentionMillis: 3_600_000,
        replicationFactor: 1,
        createTimeMillis: 1_000,
        revision: '12',
      };
      assert.deepEqual(state.topic('orders'), expected);
      assert.deepEqual(applied, { revision: '12', timeMillis: 99, change: { kind: 'topic-created', topic: expected } });
      assert.equal(state.topicCount, 1);
    });

    it('maps a subscription record to the domain shape', () => {
      const state = new RegistryState();
      state.apply(
        subscriptionRecord('orders-sub', 'orders', 'created', {
          ackDeadlineSeconds: 30,
          retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 5_000 },
          deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 7 },
          enableMessageOrdering: true,
          filter: 'attributes:color',
          startOffsets: [
            { partition: 0, offset: '10' },
            { partition: 1, offset: '20' },
          ],
          createTimeMillis: 1234,
        }),
        '3',
        0,
      );
      assert.deepEqual(state.subscription('orders-sub'), {
        name: 'orders-sub',
        topic: 'orders',
        ackDeadlineSeconds: 30,
        retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 5_000 },
        deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 7 },
        pushConfig: undefined,
        enableExactlyOnceDelivery: false,
        enableMessageOrdering: true,
        filter: 'attributes:color',
        startOffsets: [
          { partition: 0, offset: '10' },
          { partition: 1, offset: '20' },
        ],
        lastSeek: undefined,
        detached: false,
        createTimeMillis: 1234,
        createRevision: '3',
        revision: '3',
      });
      assert.equal(state.subscriptionCount, 1);
    });

    it('turns null dead-letter policy and last seek into undefined', () => {
      const state = new RegistryState();
      state.apply(subscriptionRecord('orders-sub', 'orders'), '0', 0);
      const subscription = state.subscription('orders-sub');
      assert.equal(subscription?.deadLetterPolicy, undefined);
      assert.equal(subscription?.lastSeek, undefined);
    });

    const changeKinds: Array<[SubscriptionChange, RegistryChange['kind']]> = [
      ['created', 'subscription-created'],
      ['updated', 'subscription-updated'],
      ['seeked', 'subscription-updated'],
      ['detached', 'subscription-updated'],
    ];
    for (const [change, kind] of changeKinds) {
      it(`reports a "${change}" subscription record as ${kind}`, () => {
        const state = new RegistryState();
        const applied = state.apply(subscriptionRecord('orders-sub', 'orders', change), '8', 77);
        assert.equal(applied?.change.kind, kind);
        assert.equal(applied?.revision, '8');
        assert.equal(applied?.timeMillis, 77);
        assert.ok(applied?.change.kind === kind && 'subscription' in applied.change);
        assert.deepEqual(applied.change.subscription, state.subscription('orders-sub'));
      });
    }

    describe('"self" revisions', () => {
      it('resolves createRevision "self" to the record offset', () => {
        const state = new RegistryState();
        state.apply(subscriptionRecord('orders-sub', 'orders', 'created', { createRevision: 'self' }), '17', 0);
        assert.equal(state.subscription('orders-sub')?.createRevision, '17');
      });

      it('keeps a concrete createRevision', () => {
        const state = new RegistryState();
        state.apply(subscriptionRecord('orders-sub', 'orders', 'updated', { createRevision: '4' }), '17', 0);
        assert.equal(state.subscription('orders-sub')?.createRevision, '4');
        assert.equal(state.subscription('orders-sub')?.revision, '17');
      });

      it('resolves lastSeek.revision "self" to the record offset and keeps the rest of the seek', () => {
        const state = new RegistryState();
        const offsets = [{ partition: 0, offset: '55' }];
        state.apply(
          subscriptionRecord('orders-sub', 'orders', 'seeked', {
            createRevision: '2',
            lastSeek: { revision: 'self', offsets, timeMillis: 5_000 },
          }),
          '30',
          0,
        );
        assert.deepEqual(state.subscription('orders-sub')?.lastSeek, { revision: '30', offsets, timeMillis: 5_000 });
        assert.equal(state.subscription('orders-sub')?.createRevision, '2');
      });

      it('keeps a concrete lastSeek.revision', () => {
        const state = new RegistryState();
        state.apply(
          subscriptionRecord('orders-sub', 'orders', 'updated', {
            createRevision: '2',
            lastSeek: { revision: '30', offsets: [], timeMillis: 5_000 },
          }),
          '31',
          0,
        );
        assert.equal(state.subscription('orders-sub')?.lastSeek?.revision, '30');
      });
    });

    describe('last writer wins', () => {
      it('replaces a topic with its later record', () => {
        const state = replay([topicRecord('orders', { partitions: 3 }), topicRecord('orders', { partitions: 8 })]);
        assert.equal(state.topic('orders')?.partitions, 8);
        assert.equal(state.topic('orders')?.revision, '1');
        assert.equal(state.topicCount, 1);
      });

      it('replaces a subscription whole with its later record', () => {
        const state = replay([
          subscriptionRecord('orders-sub', 'orders', 'created', {
            filter: 'attributes:a',
            deadLetterPolicy: { deadLetterTopic: 'dlq', maxDeliveryAttempts: 5 },
          }),
          subscriptionRecord('orders-sub', 'orders', 'updated', { createRevision: '0', ackDeadlineSeconds: 60 }),
        ]);
        const subscription = state.subscription('orders-sub');
        assert.equal(subscription?.ackDeadlineSeconds, 60);
        assert.equal(subscription?.filter, '');
        assert.equal(subscription?.deadLetterPolicy, undefined);
        assert.equal(subscription?.revision, '1');
        assert.equal(state.subscriptionCount, 1);
      });

      it('does not enforce first-create-wins: a second "created" record replaces the first', () => {
        const state = replay([
          subscriptionRecord('orders-sub', 'orders'),
          subscriptionRecord('orders-sub', 'payments'),
        ]);
        assert.equal(state.subscription('orders-sub')?.topic, 'payments');
        assert.equal(state.subscription('orders-sub')?.createRevision, '1');
      });
    });

    describe('tombstones', () => {
      it('delete a topic', () => {
        const state = new RegistryState();
        state.apply(topicRecord('orders'), '0', 0);
        const applied = state.apply(tombstone(topicKey('orders')), '1', 50);
        assert.deepEqual(applied, { revision: '1', timeMillis: 50, change: { kind: 'topic-deleted', name: 'orders' } });
        assert.equal(state.topic('orders'), undefined);
        assert.equal(state.topicCount, 0);
      });

      it('delete a subscription', () => {
        const state = new RegistryState();
        state.apply(subscriptionRecord('orders-sub', 'orders'), '0', 0);
        const applied = state.apply(tombstone(subscriptionKey('orders-sub')), '1', 50);
        assert.deepEqual(applied, {
          revision: '1',
          timeMillis: 50,
          change: { kind: 'subscription-deleted', name: 'orders-sub' },
        });
        assert.equal(state.subscription('orders-sub'), undefined);
        assert.equal(state.subscriptionCount, 0);
      });

      it('change nothing for a key that is absent', () => {
        const state = replay([topicRecord('orders'), subscriptionRecord('orders-sub', 'orders')]);
        assert.equal(state.apply(tombstone(topicKey('payments')), '2', 0), undefined);
        assert.equal(state.apply(tombstone(subscriptionKey('payments-sub')), '3', 0), undefined);
        assert.equal(state.topicCount, 1);
        assert.equal(state.subscriptionCount, 1);
      });

      it('of a topic key leave a subscription of the same name alone', () => {
        const state = replay([topicRecord('orders'), subscriptionRecord('orders', 'orders')]);
        state.apply(tombstone(topicKey('orders')), '2', 0);
        assert.equal(state.topic('orders'), undefined);
        assert.equal(state.subscription('orders')?.name, 'orders');
      });

      it('of a topic leave its subscriptions in place (detaching them is a separate record)', () => {
        const state = replay([topicRecord('orders'), subscriptionRecord('orders-sub', 'orders')]);
        state.apply(tombstone(topicKey('orders')), '2', 0);
        assert.equal(state.subscription('orders-sub')?.detached, false);
      });

      it('let a deleted name be created again with a new createRevision', () => {
        const state = replay([
          subscriptionRecord('orders-sub', 'orders'),
          tombstone(subscriptionKey('orders-sub')),
          subscriptionRecord('orders-sub', 'orders'),
        ]);
        assert.equal(state.subscription('orders-sub')?.createRevision, '2');
      });
    });

    it('ignores a record whose key names no known entity', () => {
      const state = new RegistryState();
      assert.equal(state.apply({ key: 'queue/orders', event: topicRecord('orders').event }, '0', 0), undefined);
      assert.equal(state.topicCount, 0);
      assert.equal(state.revision, '0');
    });

    it('returns undefined for names it does not hold', () => {
      const state = replay([topicRecord('orders'), subscriptionRecord('orders-sub', 'orders')]);
      assert.equal(state.topic('payments'), undefined);
      assert.equal(state.subscription('payments-sub'), undefined);
      assert.equal(state.topic('orders-sub'), undefined);
      assert.equal(state.subscription('orders'), undefined);
    });
  });

  describe('policies', () => {
    const policyRecord = (resource: string, members: string[]): LogRecord => ({
      key: policyKey(resource),
      event: { v: recordVersion, type: 'policy', change: 'set', resource, bindings: [{ role: 'viewer', members }] },
    });

    it('keeps the last policy per resource with its offset, and drops it on a tombstone', () => {
      const state = new RegistryState();
      assert.equal(state.apply(policyRecord('topics/orders', ['jwt:a']), '0', 1)?.change.kind, 'policy-set');
      state.apply(policyRecord('herald', ['jwt:ops']), '1', 1);
      state.apply(policyRecord('topics/orders', ['jwt:b']), '2', 1);
      assert.deepEqual(state.policy('topics/orders'), {
        resource: 'topics/orders',
        bindings: [{ role: 'viewer', members: ['jwt:b'] }],
        revision: '2',
      });
      assert.equal(state.policyCount, 2);
      assert.deepEqual(state.apply(tombstone(policyKey('topics/orders')), '3', 1)?.change, {
        kind: 'policy-dropped',
        resource: 'topics/orders',
      });
      assert.equal(state.policy('topics/orders'), undefined);
      assert.equal(state.apply(tombstone(policyKey('topics/orders')), '4', 1), undefined, 'already gone');
      assert.deepEqual(
        state.all().policies.map((p) => p.resource),
        ['herald'],
      );
    });

    it('replays a compacted log to the same policies as the whole one', () => {
      const whole = [
        policyRecord('topics/orders', ['jwt:a']),
        policyRecord('subscriptions/audit', ['jwt:b']),
        policyRecord('topics/orders', ['jwt:c']),
        tombstone(policyKey('subscriptions/audit')),
      ];
      // What compaction may keep: the last record of each key.
      const compacted = [whole[2]!, whole[3]!];
      const fromWhole = replay(whole)
        .all()
        .policies.map((p) => [p.resource, p.bindings]);
      const fromCompacted = replay(compacted)
        .all()
        .policies.map((p) => [p.resource, p.bindings]);
      assert.deepEqual(fromCompacted, fromWhole);
    });

    it('lists only what a filter lets through, paging over it', () => {
      const state = replay(['alpha', 'bravo', 'charlie', 'delta'].map((name) => topicRecord(name)));
      const shown = (topic: { name: string }) => topic.name !== 'bravo';
      assert.deepEqual(names(state.listTopics('', 2, shown)), ['alpha', 'charlie']);
      assert.deepEqual(names(state.listTopics('charlie', 2, shown)), ['delta']);
      assert.deepEqual(names(state.listTopics('', 10, () => false)), []);
    });
  });

  describe('listTopics', () => {
    const state = replay(['delta', 'alpha', 'echo', 'charlie', 'bravo'].map((name) => topicRecord(name)));

    it('lists in name order whatever the log order', () => {
      assert.deepEqual(names(state.listTopics('', 100)), ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    });

    const cases: Array<{ afterName: string; limit: number; expected: string[] }> = [
      { afterName: '', limit: 2, expected: ['alpha', 'bravo'] },
      { afterName: 'alpha', limit: 2, expected: ['bravo', 'charlie'] },
      { afterName: 'bravo', limit: 100, expected: ['charlie', 'delta', 'echo'] },
      { afterName: 'b', limit: 1, expected: ['bravo'] },
      { afterName: 'bravo0', limit: 1, expected: ['charlie'] },
      { afterName: 'delta', limit: 5, expected: ['echo'] },
      { afterName: 'echo', limit: 5, expected: [] },
      { afterName: 'zulu', limit: 5, expected: [] },
      { afterName: '', limit: 0, expected: [] },
    ];
    for (const { afterName, limit, expected } of cases) {
      it(`after "${afterName}", limit ${limit}: ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(names(state.listTopics(afterName, limit)), expected);
      });
    }

    it('pages through every topic exactly once', () => {
      const seen: string[] = [];
      let after = '';
      // Bounded, so that a paging bug fails the test rather than hanging it.
      for (let pages = 0; pages < 10; pages++) {
        const page = state.listTopics(after, 2);
        if (page.length === 0) break;
        seen.push(...names(page));
        after = page[page.length - 1]!.name;
      }
      assert.deepEqual(seen, ['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    });

    it('sorts by code unit, so upper case comes before lower case', () => {
      const mixed = replay([topicRecord('beta'), topicRecord('Zeta'), topicRecord('alpha'), topicRecord('Alpha')]);
      assert.deepEqual(names(mixed.listTopics('', 10)), ['Alpha', 'Zeta', 'alpha', 'beta']);
    });

    it('reflects topics created and deleted after an earlier listing', () => {
      const live = replay([topicRecord('bravo'), topicRecord('delta')]);
      assert.deepEqual(names(live.listTopics('', 10)), ['bravo', 'delta']);
      live.apply(topicRecord('charlie'), '2', 0);
      assert.deepEqual(names(live.listTopics('', 10)), ['bravo', 'charlie', 'delta']);
      live.apply(tombstone(topicKey('bravo')), '3', 0);
      assert.deepEqual(names(live.listTopics('', 10)), ['charlie', 'delta']);
      live.apply(topicRecord('alpha'), '4', 0);
      assert.deepEqual(names(live.listTopics('', 10)), ['alpha', 'charlie', 'delta']);
    });

    it('returns the latest version of a re-written topic', () => {
      const live = replay([topicRecord('orders', { partitions: 1 })]);
      live.listTopics('', 10);
      live.apply(topicRecord('orders', { partitions: 2 }), '1', 0);
      assert.deepEqual(
        live.listTopics('', 10).map((t) => t.partitions),
        [2],
      );
    });
  });

  describe('listSubscriptions', () => {
    const state = replay([
      subscriptionRecord('s-e', 'orders'),
      subscriptionRecord('s-a', 'orders'),
      subscriptionRecord('s-d', 'payments'),
      subscriptionRecord('s-b', 'payments'),
      subscriptionRecord('s-c', 'orders'),
      subscriptionRecord('s-f', 'payments'),
    ]);

    const cases: Array<{ afterName: string; limit: number; topic?: string; expected: string[] }> = [
      { afterName: '', limit: 100, expected: ['s-a', 's-b', 's-c', 's-d', 's-e', 's-f'] },
      { afterName: '', limit: 3, expected: ['s-a', 's-b', 's-c'] },
      { afterName: 's-c', limit: 2, expected: ['s-d', 's-e'] },
      { afterName: 's-f', limit: 2, expected: [] },
      { afterName: '', limit: 0, expected: [] },
      { afterName: '', limit: 100, topic: 'orders', expected: ['s-a', 's-c', 's-e'] },
      { afterName: '', limit: 100, topic: 'payments', expected: ['s-b', 's-d', 's-f'] },
      // The limit counts only subscriptions of the topic, not those skipped over.
      { afterName: '', limit: 2, topic: 'orders', expected: ['s-a', 's-c'] },
      { afterName: 's-a', limit: 1, topic: 'orders', expected: ['s-c'] },
      { afterName: 's-b', limit: 5, topic: 'orders', expected: ['s-c', 's-e'] },
      { afterName: 's-c', limit: 1, topic: 'payments', expected: ['s-d'] },
      { afterName: 's-e', limit: 5, topic: 'orders', expected: [] },
      { afterName: '', limit: 5, topic: 'unknown', expected: [] },
    ];
    for (const { afterName, limit, topic, expected } of cases) {
      it(`after "${afterName}", limit ${limit}, topic ${topic ?? '(any)'}: ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(names(state.listSubscriptions(afterName, limit, topic)), expected);
      });
    }

    it('pages through one topic exactly once', () => {
      const seen: string[] = [];
      let after = '';
      for (let pages = 0; pages < 10; pages++) {
        const page = state.listSubscriptions(after, 1, 'payments');
        if (page.length === 0) break;
        seen.push(...names(page));
        after = page[page.length - 1]!.name;
      }
      assert.deepEqual(seen, ['s-b', 's-d', 's-f']);
    });

    it('reflects subscriptions created and deleted after an earlier listing', () => {
      const live = replay([subscriptionRecord('s-b', 'orders'), subscriptionRecord('s-d', 'orders')]);
      assert.deepEqual(names(live.listSubscriptions('', 10)), ['s-b', 's-d']);
      live.apply(subscriptionRecord('s-c', 'orders'), '2', 0);
      assert.deepEqual(names(live.listSubscriptions('', 10)), ['s-b', 's-c', 's-d']);
      live.apply(tombstone(subscriptionKey('s-b')), '3', 0);
      assert.deepEqual(names(live.listSubscriptions('', 10)), ['s-c', 's-d']);
    });

    it('filters on the latest topic of a re-written subscription', () => {
      const live = replay([subscriptionRecord('s-a', 'orders')]);
      assert.deepEqual(names(live.listSubscriptions('', 10, 'orders')), ['s-a']);
      live.apply(subscriptionRecord('s-a', 'payments', 'updated', { createRevision: '0' }), '1', 0);
      assert.deepEqual(names(live.listSubscriptions('', 10, 'orders')), []);
      assert.deepEqual(names(live.listSubscriptions('', 10, 'payments')), ['s-a']);
    });
  });

  describe('subscriptionsOf', () => {
    it('returns the attached subscriptions of one topic only', () => {
      const state = replay([
        subscriptionRecord('s-a', 'orders'),
        subscriptionRecord('s-b', 'payments'),
        subscriptionRecord('s-c', 'orders', 'detached', { detached: true, createRevision: '0' }),
        subscriptionRecord('s-d', 'orders'),
      ]);
      assert.deepEqual(names(state.subscriptionsOf('orders')).sort(), ['s-a', 's-d']);
      assert.deepEqual(names(state.subscriptionsOf('payments')), ['s-b']);
      assert.deepEqual(state.subscriptionsOf('unknown'), []);
    });

    it('drops a subscription once a later record detaches it', () => {
      const state = replay([subscriptionRecord('s-a', 'orders')]);
      state.apply(subscriptionRecord('s-a', 'orders', 'detached', { detached: true, createRevision: '0' }), '1', 0);
      assert.deepEqual(state.subscriptionsOf('orders'), []);
      assert.equal(state.subscription('s-a')?.detached, true);
    });
  });

  describe('all', () => {
    it('returns every topic and subscription', () => {
      const state = replay([
        topicRecord('orders'),
        topicRecord('payments'),
        subscriptionRecord('s-a', 'orders'),
        subscriptionRecord('s-b', 'payments', 'detached', { detached: true, createRevision: '0' }),
        tombstone(topicKey('payments')),
      ]);
      const all = state.all();
      assert.deepEqual(names(all.topics), ['orders']);
      assert.deepEqual(names(all.subscriptions).sort(), ['s-a', 's-b']);
      assert.deepEqual(all.topics[0], state.topic('orders'));
    });
  });

  describe('compaction', () => {
    // A log as the registry writes it: each record whole, concrete revisions
    // carried forward once known, "self" only where the record's own offset belongs.
    const fullLog: LogRecord[] = [
      /* 0 */ topicRecord('orders', { partitions: 3 }),
      /* 1 */ topicRecord('payments'),
      /* 2 */ subscriptionRecord('s-a', 'orders'),
      /* 3 */ subscriptionRecord('s-b', 'orders'),
      /* 4 */ subscriptionRecord('s-a', 'orders', 'updated', { createRevision: '2', ackDeadlineSeconds: 30 }),
      /* 5 */ subscriptionRecord('s-a', 'orders', 'seeked', {
        createRevision: '2',
        ackDeadlineSeconds: 30,
        lastSeek: { revision: 'self', offsets: [{ partition: 0, offset: '9' }], timeMillis: 3_000 },
      }),
      /* 6 */ topicRecord('scratch'),
      /* 7 */ subscriptionRecord('s-c', 'scratch'),
      /* 8 */ tombstone(topicKey('scratch')),
      /* 9 */ subscriptionRecord('s-c', 'scratch', 'detached', { createRevision: '7', detached: true }),
      /* 10 */ tombstone(subscriptionKey('s-b')),
      /* 11 */ subscriptionRecord('s-b', 'payments'),
      /* 12 */ topicRecord('orders', { partitions: 6 }),
      /* 13 */ subscriptionRecord('s-a', 'orders', 'updated', {
        createRevision: '2',
        ackDeadlineSeconds: 60,
        lastSeek: { revision: '5', offsets: [{ partition: 0, offset: '9' }], timeMillis: 3_000 },
      }),
      /* 14 */ subscriptionRecord('s-d', 'payments'),
      /* 15 */ tombstone(subscriptionKey('s-d')),
      /* 16 */ tombstone(topicKey('never-existed')),
    ];

    /** What compaction keeps: the last record of each key, at its original offset. */
    function compact(log: LogRecord[]): Array<{ record: LogRecord; offset: string }> {
      const lastIndexOfKey = new Map<string, number>();
      log.forEach((record, index) => lastIndexOfKey.set(record.key, index));
      return log
        .map((record, index) => ({ record, offset: String(index) }))
        .filter(({ record, offset }) => lastIndexOfKey.get(record.key) === Number(offset));
    }

    function snapshot(state: RegistryState) {
      return {
        revision: state.revision,
        topicCount: state.topicCount,
        subscriptionCount: state.subscriptionCount,
        topics: state.listTopics('', 1000),
        subscriptions: state.listSubscriptions('', 1000),
        ordersAttached: names(state.subscriptionsOf('orders')).sort(),
        paymentsAttached: names(state.subscriptionsOf('payments')).sort(),
      };
    }

    it('drops records in the fixture, so the comparison means something', () => {
      assert.ok(compact(fullLog).length < fullLog.length);
    });

    it('gives the same state as replaying the whole log', () => {
      const full = replay(fullLog);
      const compacted = new RegistryState();
      for (const { record, offset } of compact(fullLog)) compacted.apply(record, offset, 0);
      assert.deepEqual(snapshot(compacted), snapshot(full));
    });

    it('gives the state the log describes', () => {
      const state = replay(fullLog);
      assert.equal(state.revision, '16');
      assert.deepEqual(names(state.listTopics('', 100)), ['orders', 'payments']);
      assert.equal(state.topic('orders')?.partitions, 6);
      assert.equal(state.topic('orders')?.revision, '12');
      assert.deepEqual(names(state.listSubscriptions('', 100)), ['s-a', 's-b', 's-c']);
      const a = state.subscription('s-a');
      assert.equal(a?.ackDeadlineSeconds, 60);
      assert.equal(a?.createRevision, '2');
      assert.equal(a?.revision, '13');
      assert.deepEqual(a?.lastSeek, { revision: '5', offsets: [{ partition: 0, offset: '9' }], timeMillis: 3_000 });
      assert.equal(state.subscription('s-b')?.topic, 'payments');
      assert.equal(state.subscription('s-b')?.createRevision, '11');
      assert.equal(state.subscription('s-c')?.detached, true);
      assert.equal(state.subscription('s-c')?.createRevision, '7');
      assert.equal(state.subscription('s-d'), undefined);
    });
  });
});
