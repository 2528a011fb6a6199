import assert from 'node:assert/strict';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@herald/errors';
import {
  type CreateSubscriptionInput,
  type CreateTopicInput,
  planCreateSubscription,
  type PushRules,
  planCreateTopic,
  planDeleteSubscription,
  planSetPolicy,
  policyResource,
  type PolicyTarget,
  planDeleteTopic,
  planSeek,
  planUpdateSubscription,
  seekRecord,
  subscriptionCreatedRecord,
  topicCreatedRecord,
  type UpdateSubscriptionInput,
} from './commands';
import { type LogRecord, type SubscriptionChanged, subscriptionKey, topicKey } from './registry-events';
import type { Position, Subscription } from './registry-model';
import { RegistryState } from './registry-state';

const topicDefaults = { partitions: 3, retentionMillis: 7 * 24 * 3_600_000 };
const day = 24 * 3_600_000;

/** A registry state fed through the same planners and record builders the service uses. */
class TestRegistry {
  readonly state = new RegistryState();
  private nextOffset = 0;

  /** Applies records at the next offsets; returns the offset of the last one. */
  append(...records: LogRecord[]): string {
    let offset = '';
    for (const record of records) {
      offset = String(this.nextOffset++);
      this.state.apply(record, offset, 1_000_000 + this.nextOffset);
    }
    return offset;
  }

  createTopic(name: string, partitions = 0): string {
    const topic = planCreateTopic(this.state, { name, partitions, retentionMillis: undefined }, topicDefaults);
    return this.append(topicCreatedRecord(topic, 3, 1_000));
  }

  createSubscription(name: string, topic: string, overrides: Partial<CreateSubscriptionInput> = {}): string {
    const planned = planCreateSubscription(this.state, subscriptionInput({ name, topic, ...overrides }));
    const startOffsets = Array.from({ length: planned.topicPartitions }, (_, partition) => ({
      partition,
      offset: '0',
    }));
    return this.append(subscriptionCreatedRecord(planned, startOffsets, 2_000));
  }

  subscription(name: string): Subscription {
    const subscription = this.state.subscription(name);
    assert.ok(subscription, `subscription ${name} exists`);
    return subscription;
  }
}

function topicInput(overrides: Partial<CreateTopicInput> = {}): CreateTopicInput {
  return { name: 'orders', partitions: 0, retentionMillis: undefined, ...overrides };
}

function subscriptionInput(overrides: Partial<CreateSubscriptionInput> = {}): CreateSubscriptionInput {
  return {
    name: 'orders-sub',
    topic: 'orders',
    ackDeadlineSeconds: 0,
    retryPolicy: undefined,
    deadLetterPolicy: undefined,
    enableMessageOrdering: false,
    filter: '',
    start: { kind: 'earliest' },
    ...overrides,
  };
}

function updateInput(overrides: Partial<UpdateSubscriptionInput> = {}): UpdateSubscriptionInput {
  return {
    name: 'orders-sub',
    paths: [],
    ackDeadlineSeconds: 0,
    retryPolicy: undefined,
    deadLetterPolicy: undefined,
    ...overrides,
  };
}

/** The subscription event of a record, asserting it is one. */
function subscriptionEvent(record: LogRecord): SubscriptionChanged {
  assert.ok(record.event?.type === 'subscription', `record ${record.key} is a subscription record`);
  return record.event;
}

function assertInvalidArgument(run: () => unknown, field: string, reason?: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
    assert.equal(error.field, field);
    if (reason) assert.match(error.reason, reason);
    return true;
  });
}

function assertNotFound(run: () => unknown, kind: 'topic' | 'subscription', name: string, field?: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof NotFoundError, `expected NotFoundError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.equal(error.resourceName, name);
    assert.equal(error.field, field);
    return true;
  });
}

function assertAlreadyExists(run: () => unknown, kind: 'topic' | 'subscription', name: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AlreadyExistsError, `expected AlreadyExistsError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.equal(error.resourceName, name);
    return true;
  });
}

describe('planCreateTopic', () => {
  it('applies the defaults for partitions 0 and no retention', () => {
    assert.deepEqual(planCreateTopic(new RegistryState(), topicInput(), topicDefaults), {
      name: 'orders',
      partitions: 3,
      retentionMillis: 7 * day,
    });
  });

  for (const retentionMillis of [NaN, Infinity, -1]) {
    it(`refuses a retention of ${retentionMillis}`, () => {
      assert.throws(
        () => planCreateTopic(new RegistryState(), topicInput({ retentionMillis }), topicDefaults),
        (error: unknown) => error instanceof InvalidArgumentError && error.field === 'topic.retention',
      );
    });
  }

  it('keeps explicit settings', () => {
    const topic = planCreateTopic(
      new RegistryState(),
      topicInput({ partitions: 12, retentionMillis: 3_600_000 }),
      topicDefaults,
    );
    assert.deepEqual(topic, { name: 'orders', partitions: 12, retentionMillis: 3_600_000 });
  });

  const partitionCases: Array<[number, boolean]> = [
    [1, true],
    [1000, true],
    [1001, false],
    [-1, false],
    [2.5, false],
    [Number.NaN, false],
  ];
  for (const [partitions, ok] of partitionCases) {
    it(`${ok ? 'accepts' : 'refuses'} ${partitions} partitions`, () => {
      const plan = () => planCreateTopic(new RegistryState(), topicInput({ partitions }), topicDefaults);
      if (ok) assert.equal(plan().partitions, partitions);
      else assertInvalidArgument(plan, 'topic.partitions', new RegExp(`between 1 and 1000, not ${partitions}`));
    });
  }

  const retentionCases: Array<[string, number, boolean]> = [
    ['1 minute', 60_000, true],
    ['3650 days', 3650 * day, true],
    ['just under 1 minute', 59_999, false],
    ['just over 3650 days', 3650 * day + 1, false],
    ['0', 0, false],
    ['negative', -60_000, false],
  ];
  for (const [label, retentionMillis, ok] of retentionCases) {
    it(`${ok ? 'accepts' : 'refuses'} a retention of ${label}`, () => {
      const plan = () => planCreateTopic(new RegistryState(), topicInput({ retentionMillis }), topicDefaults);
      if (ok) assert.equal(plan().retentionMillis, retentionMillis);
      else assertInvalidArgument(plan, 'topic.retention', /between 1 minute and 3650 days/);
    });
  }

  it('validates the name', () => {
    assertInvalidArgument(
      () => planCreateTopic(new RegistryState(), topicInput({ name: 'herald-internal' }), topicDefaults),
      'topic.name',
      /reserved/,
    );
    assertInvalidArgument(
      () => planCreateTopic(new RegistryState(), topicInput({ name: '' }), topicDefaults),
      'topic.name',
      /required/,
    );
  });

  it('refuses a topic that exists', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    assertAlreadyExists(() => planCreateTopic(registry.state, topicInput(), topicDefaults), 'topic', 'orders');
  });

  it('allows a topic whose name was deleted', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.append(...planDeleteTopic(registry.state, 'orders'));
    assert.equal(planCreateTopic(registry.state, topicInput(), topicDefaults).name, 'orders');
  });

  it('does not change the state', () => {
    const state = new RegistryState();
    planCreateTopic(state, topicInput(), topicDefaults);
    assert.equal(state.topicCount, 0);
    assert.equal(state.revision, '-1');
  });
});

describe('topicCreatedRecord', () => {
  it('makes a record that applies as the topic', () => {
    const record = topicCreatedRecord({ name: 'orders', partitions: 4, retentionMillis: 120_000 }, 2, 5_000);
    assert.deepEqual(record, {
      key: topicKey('orders'),
      event: {
        v: 1,
        type: 'topic',
        change: 'created',
        topic: {
          name: 'orders',
          partitions: 4,
          retentionMillis: 120_000,
          replicationFactor: 2,
          createTimeMillis: 5_000,
        },
      },
    });
    const state = new RegistryState();
    state.apply(record, '9', 0);
    assert.deepEqual(state.topic('orders'), {
      name: 'orders',
      partitions: 4,
      retentionMillis: 120_000,
      replicationFactor: 2,
      createTimeMillis: 5_000,
      revision: '9',
    });
  });
});

describe('planDeleteTopic', () => {
  it('refuses a topic that does not exist', () => {
    assertNotFound(() => planDeleteTopic(new RegistryState(), 'orders'), 'topic', 'orders');
  });

  it('is only a tombstone for a topic without subscriptions', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    assert.deepEqual(planDeleteTopic(registry.state, 'orders'), [{ key: topicKey('orders'), event: undefined }]);
  });

  describe('with subscriptions', () => {
    function setUp() {
      const registry = new TestRegistry();
      registry.createTopic('orders');
      registry.createTopic('payments');
      registry.createSubscription('orders-a', 'orders');
      registry.createSubscription('payments-a', 'payments');
      registry.createSubscription('orders-b', 'orders', { ackDeadlineSeconds: 45 });
      registry.append(seekRecord(registry.subscription('orders-b'), [{ partition: 0, offset: '7' }], 3_000));
      return registry;
    }

    it('writes the tombstone first, then a detached record per subscription of that topic only', () => {
      const registry = setUp();
      const records = planDeleteTopic(registry.state, 'orders');
      assert.deepEqual(records[0], { key: topicKey('orders'), event: undefined });
      assert.deepEqual(
        records
          .slice(1)
          .map((r) => r.key)
          .sort(),
        [subscriptionKey('orders-a'), subscriptionKey('orders-b')],
      );
      for (const record of records.slice(1)) {
        const event = subscriptionEvent(record);
        assert.equal(event.change, 'detached');
        assert.equal(event.subscription.detached, true);
        assert.equal(event.subscription.topic, 'orders');
      }
    });

    it('keeps everything else about each subscription, with concrete revisions', () => {
      const registry = setUp();
      const before = registry.subscription('orders-b');
      const record = planDeleteTopic(registry.state, 'orders').find((r) => r.key === subscriptionKey('orders-b'));
      assert.ok(record);
      const event = subscriptionEvent(record);
      assert.equal(event.subscription.ackDeadlineSeconds, 45);
      assert.equal(event.subscription.createRevision, before.createRevision);
      assert.notEqual(event.subscription.createRevision, 'self');
      assert.deepEqual(event.subscription.lastSeek, before.lastSeek);
      assert.notEqual(event.subscription.lastSeek?.revision, 'self');
      assert.deepEqual(event.subscription.startOffsets, before.startOffsets);
    });

    it('once applied, leaves the subscriptions detached and the other topic untouched', () => {
      const registry = setUp();
      const before = registry.subscription('orders-b');
      registry.append(...planDeleteTopic(registry.state, 'orders'));
      assert.equal(registry.state.topic('orders'), undefined);
      assert.deepEqual(registry.state.subscriptionsOf('orders'), []);
      const after = registry.subscription('orders-b');
      assert.equal(after.detached, true);
      assert.deepEqual({ ...after, detached: false, revision: before.revision }, before);
      assert.equal(registry.subscription('orders-a').detached, true);
      assert.equal(registry.subscription('payments-a').detached, false);
      assert.ok(registry.state.topic('payments'));
    });

    it('does not detach again a subscription detached from an earlier topic of the same name', () => {
      const registry = setUp();
      registry.append(...planDeleteTopic(registry.state, 'orders'));
      registry.createTopic('orders');
      registry.createSubscription('orders-c', 'orders');
      const records = planDeleteTopic(registry.state, 'orders');
      assert.deepEqual(
        records.map((r) => r.key),
        [topicKey('orders'), subscriptionKey('orders-c')],
      );
    });
  });
});

describe('planCreateSubscription', () => {
  function registryWithTopics(...names: string[]): TestRegistry {
    const registry = new TestRegistry();
    for (const name of names) registry.createTopic(name);
    return registry;
  }

  it('applies the defaults', () => {
    const registry = registryWithTopics('orders');
    assert.deepEqual(planCreateSubscription(registry.state, subscriptionInput()), {
      name: 'orders-sub',
      topic: 'orders',
      ackDeadlineSeconds: 10,
      retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 60_000 },
      deadLetterPolicy: undefined,
      enableMessageOrdering: false,
      filter: '',
      pushConfig: undefined,
      enableExactlyOnceDelivery: false,
      start: { kind: 'earliest' },
      topicPartitions: 3,
    });
  });

  it('keeps explicit settings and reports the topic partition count', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders', 7);
    registry.createTopic('orders-dlq');
    const planned = planCreateSubscription(
      registry.state,
      subscriptionInput({
        ackDeadlineSeconds: 120,
        retryPolicy: { minimumBackoffMillis: 500, maximumBackoffMillis: 9_000 },
        deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 20 },
        enableMessageOrdering: true,
        filter: 'attributes.color = "red"',
        start: { kind: 'time', timeMillis: 1_700_000_000_000 },
      }),
    );
    assert.deepEqual(planned, {
      name: 'orders-sub',
      topic: 'orders',
      ackDeadlineSeconds: 120,
      retryPolicy: { minimumBackoffMillis: 500, maximumBackoffMillis: 9_000 },
      deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 20 },
      enableMessageOrdering: true,
      filter: 'attributes.color = "red"',
      pushConfig: undefined,
      enableExactlyOnceDelivery: false,
      start: { kind: 'time', timeMillis: 1_700_000_000_000 },
      topicPartitions: 7,
    });
  });

  it('validates the subscription and topic names', () => {
    const registry = registryWithTopics('orders');
    assertInvalidArgument(
      () => planCreateSubscription(registry.state, subscriptionInput({ name: '9lives' })),
      'subscription.name',
      /start with a letter/,
    );
    assertInvalidArgument(
      () => planCreateSubscription(registry.state, subscriptionInput({ topic: 'or ders' })),
      'subscription.topic',
      /position 3/,
    );
  });

  describe('ack deadline', () => {
    const cases: Array<[number, number | undefined]> = [
      [0, 10],
      [10, 10],
      [11, 11],
      [600, 600],
      [9, undefined],
      [601, undefined],
      [-10, undefined],
      [10.5, undefined],
    ];
    for (const [input, expected] of cases) {
      it(`${input} s ${expected === undefined ? 'is refused' : `gives ${expected} s`}`, () => {
        const registry = registryWithTopics('orders');
        const plan = () => planCreateSubscription(registry.state, subscriptionInput({ ackDeadlineSeconds: input }));
        if (expected !== undefined) assert.equal(plan().ackDeadlineSeconds, expected);
        else assertInvalidArgument(plan, 'subscription.ack_deadline_seconds', /between 10 and 600 s/);
      });
    }
  });

  describe('retry policy', () => {
    const accepted: Array<[string, CreateSubscriptionInput['retryPolicy'], [number, number]]> = [
      ['absent', undefined, [1_000, 60_000]],
      ['empty', { minimumBackoffMillis: undefined, maximumBackoffMillis: undefined }, [1_000, 60_000]],
      ['both zero', { minimumBackoffMillis: 0, maximumBackoffMillis: 0 }, [0, 0]],
      ['both 600 s', { minimumBackoffMillis: 600_000, maximumBackoffMillis: 600_000 }, [600_000, 600_000]],
      ['only minimum', { minimumBackoffMillis: 5_000, maximumBackoffMillis: undefined }, [5_000, 60_000]],
      [
        'only a minimum above the default maximum',
        { minimumBackoffMillis: 120_000, maximumBackoffMillis: undefined },
        [120_000, 120_000],
      ],
      ['only maximum', { minimumBackoffMillis: undefined, maximumBackoffMillis: 30_000 }, [1_000, 30_000]],
      [
        'only a maximum below the default minimum',
        { minimumBackoffMillis: undefined, maximumBackoffMillis: 500 },
        [500, 500],
      ],
      ['equal', { minimumBackoffMillis: 2_000, maximumBackoffMillis: 2_000 }, [2_000, 2_000]],
    ];
    for (const [label, retryPolicy, [minimumBackoffMillis, maximumBackoffMillis]] of accepted) {
      it(`accepts ${label}`, () => {
        const registry = registryWithTopics('orders');
        const planned = planCreateSubscription(registry.state, subscriptionInput({ retryPolicy }));
        assert.deepEqual(planned.retryPolicy, { minimumBackoffMillis, maximumBackoffMillis });
      });
    }

    const refused: Array<[string, NonNullable<CreateSubscriptionInput['retryPolicy']>, string]> = [
      [
        'a negative minimum',
        { minimumBackoffMillis: -1, maximumBackoffMillis: 1_000 },
        'subscription.retry_policy.minimum_backoff',
      ],
      [
        'a minimum over 600 s',
        { minimumBackoffMillis: 600_001, maximumBackoffMillis: undefined },
        'subscription.retry_policy.minimum_backoff',
      ],
      [
        'a negative maximum',
        { minimumBackoffMillis: 0, maximumBackoffMillis: -1 },
        'subscription.retry_policy.maximum_backoff',
      ],
      [
        'a maximum over 600 s',
        { minimumBackoffMillis: undefined, maximumBackoffMillis: 600_001 },
        'subscription.retry_policy.maximum_backoff',
      ],
      [
        'a NaN maximum',
        { minimumBackoffMillis: 0, maximumBackoffMillis: Number.NaN },
        'subscription.retry_policy.maximum_backoff',
      ],
      [
        'an infinite minimum',
        { minimumBackoffMillis: Number.POSITIVE_INFINITY, maximumBackoffMillis: undefined },
        'subscription.retry_policy.minimum_backoff',
      ],
      [
        'a minimum above the maximum',
        { minimumBackoffMillis: 2_000, maximumBackoffMillis: 1_999 },
        'subscription.retry_policy',
      ],
    ];
    for (const [label, retryPolicy, field] of refused) {
      it(`refuses ${label}`, () => {
        const registry = registryWithTopics('orders');
        assertInvalidArgument(() => planCreateSubscription(registry.state, subscriptionInput({ retryPolicy })), field);
      });
    }

    it('states the bound in seconds', () => {
      const registry = registryWithTopics('orders');
      assertInvalidArgument(
        () =>
          planCreateSubscription(
            registry.state,
            subscriptionInput({ retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 601_000 } }),
          ),
        'subscription.retry_policy.maximum_backoff',
        /between 0 and 600 seconds, not 601 s/,
      );
    });
  });

  describe('dead-letter policy', () => {
    const attempts: Array<[number, number | undefined]> = [
      [0, 5],
      [5, 5],
      [100, 100],
      [4, undefined],
      [101, undefined],
      [-5, undefined],
      [7.5, undefined],
    ];
    for (const [maxDeliveryAttempts, expected] of attempts) {
      it(`${maxDeliveryAttempts} delivery attempts ${expected === undefined ? 'is refused' : `gives ${expected}`}`, () => {
        const registry = registryWithTopics('orders', 'orders-dlq');
        const plan = () =>
          planCreateSubscription(
            registry.state,
            subscriptionInput({ deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts } }),
          );
        if (expected !== undefined) {
          assert.deepEqual(plan().deadLetterPolicy, { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: expected });
        } else {
          assertInvalidArgument(plan, 'subscription.dead_letter_policy.max_delivery_attempts', /between 5 and 100/);
        }
      });
    }

    it('requires the dead-letter topic to exist, naming the field', () => {
      const registry = registryWithTopics('orders');
      assertNotFound(
        () =>
          planCreateSubscription(
            registry.state,
            subscriptionInput({ deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 0 } }),
          ),
        'topic',
        'orders-dlq',
        'subscription.dead_letter_policy.dead_letter_topic',
      );
    });

    it('validates the dead-letter topic name', () => {
      const registry = registryWithTopics('orders');
      assertInvalidArgument(
        () =>
          planCreateSubscription(
            registry.state,
            subscriptionInput({ deadLetterPolicy: { deadLetterTopic: 'dl', maxDeliveryAttempts: 0 } }),
          ),
        'subscription.dead_letter_policy.dead_letter_topic',
        /3 to 200 characters/,
      );
    });
  });

  describe('filter', () => {
    it('keeps a valid filter as written', () => {
      const registry = registryWithTopics('orders');
      const filter = 'attributes:color AND NOT attributes.size = "small"';
      assert.equal(planCreateSubscription(registry.state, subscriptionInput({ filter })).filter, filter);
    });

    const bad = ['attributes.color =', 'color = "red"', '(attributes:a', `attributes:${'k'.repeat(300)}`];
    for (const filter of bad) {
      it(`refuses ${JSON.stringify(filter.length > 40 ? `${filter.slice(0, 40)}...` : filter)} on subscription.filter`, () => {
        const registry = registryWithTopics('orders');
        assertInvalidArgument(
          () => planCreateSubscription(registry.state, subscriptionInput({ filter })),
          'subscription.filter',
          /./,
        );
      });
    }
  });

  describe('start', () => {
    const positions: Array<[Position, boolean]> = [
      [{ kind: 'earliest' }, true],
      [{ kind: 'latest' }, true],
      [{ kind: 'time', timeMillis: 0 }, true],
      [{ kind: 'time', timeMillis: -1 }, false],
      [{ kind: 'time', timeMillis: Number.NaN }, false],
      // Year -271821 and year 275760: the ends of JavaScript's Date, which a Timestamp decodes to.
      [{ kind: 'time', timeMillis: -8.64e15 }, false],
      [{ kind: 'time', timeMillis: 8.64e15 }, false],
      [{ kind: 'time', timeMillis: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }, true],
      [{ kind: 'time', timeMillis: Date.UTC(10000, 0, 1) }, false],
    ];
    for (const [start, ok] of positions) {
      it(`${ok ? 'accepts' : 'refuses'} ${JSON.stringify(start)}`, () => {
        const registry = registryWithTopics('orders');
        const plan = () => planCreateSubscription(registry.state, subscriptionInput({ start }));
        if (ok) assert.deepEqual(plan().start, start);
        else
          assertInvalidArgument(plan, 'subscription.start_time', /must be between 1970-01-01T00:00:00.000Z and 9999/);
      });
    }
  });

  it('refuses an unknown topic, naming the field', () => {
    const registry = registryWithTopics('payments');
    assertNotFound(
      () => planCreateSubscription(registry.state, subscriptionInput()),
      'topic',
      'orders',
      'subscription.topic',
    );
  });

  it('refuses a subscription that exists', () => {
    const registry = registryWithTopics('orders', 'payments');
    registry.createSubscription('orders-sub', 'orders');
    assertAlreadyExists(
      () => planCreateSubscription(registry.state, subscriptionInput({ topic: 'payments' })),
      'subscription',
      'orders-sub',
    );
  });

  it('refuses a name still held by a detached subscription', () => {
    const registry = registryWithTopics('orders');
    registry.createSubscription('orders-sub', 'orders');
    registry.append(...planDeleteTopic(registry.state, 'orders'));
    registry.createTopic('orders');
    assertAlreadyExists(
      () => planCreateSubscription(registry.state, subscriptionInput()),
      'subscription',
      'orders-sub',
    );
  });

  it('allows a name whose subscription was deleted', () => {
    const registry = registryWithTopics('orders');
    registry.createSubscription('orders-sub', 'orders');
    registry.append(...planDeleteSubscription(registry.state, 'orders-sub'));
    assert.equal(planCreateSubscription(registry.state, subscriptionInput()).name, 'orders-sub');
  });
});

describe('subscriptionCreatedRecord', () => {
  it('writes "self" for the create revision and resolves to its own offset when applied', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders', 2);
    const planned = planCreateSubscription(registry.state, subscriptionInput());
    const startOffsets = [
      { partition: 0, offset: '5' },
      { partition: 1, offset: '8' },
    ];
    const record = subscriptionCreatedRecord(planned, startOffsets, 4_000);
    assert.equal(record.key, subscriptionKey('orders-sub'));
    const event = subscriptionEvent(record);
    assert.equal(event.change, 'created');
    assert.equal(event.subscription.createRevision, 'self');
    assert.equal(event.subscription.lastSeek, null);
    assert.equal(event.subscription.deadLetterPolicy, null);
    assert.equal(event.subscription.detached, false);
    assert.equal(event.subscription.createTimeMillis, 4_000);
    assert.deepEqual(event.subscription.startOffsets, startOffsets);
    assert.equal('start' in event.subscription, false);
    assert.equal('topicPartitions' in event.subscription, false);

    const offset = registry.append(record);
    assert.deepEqual(registry.subscription('orders-sub'), {
      name: 'orders-sub',
      topic: 'orders',
      ackDeadlineSeconds: 10,
      retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 60_000 },
      deadLetterPolicy: undefined,
      pushConfig: undefined,
      enableExactlyOnceDelivery: false,
      enableMessageOrdering: false,
      filter: '',
      startOffsets,
      lastSeek: undefined,
      detached: false,
      createTimeMillis: 4_000,
      createRevision: offset,
      revision: offset,
    });
  });
});

describe('planUpdateSubscription', () => {
  function setUp(): TestRegistry {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.createTopic('orders-dlq');
    registry.createSubscription('orders-sub', 'orders', {
      ackDeadlineSeconds: 30,
      retryPolicy: { minimumBackoffMillis: 2_000, maximumBackoffMillis: 20_000 },
      deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 9 },
      filter: 'attributes:color',
      enableMessageOrdering: true,
    });
    return registry;
  }

  it('refuses an empty mask', () => {
    assertInvalidArgument(() => planUpdateSubscription(setUp().state, updateInput()), 'update_mask', /at least one/);
  });

  const notUpdatable = ['filter', 'topic', 'name', 'enable_message_ordering', 'ackDeadlineSeconds', ''];
  for (const path of notUpdatable) {
    it(`refuses the path ${JSON.stringify(path)}, naming it`, () => {
      const registry = setUp();
      assertInvalidArgument(
        () => planUpdateSubscription(registry.state, updateInput({ paths: ['ack_deadline_seconds', path] })),
        'update_mask',
        new RegExp(
          `"${path}" cannot be updated; updatable fields are ack_deadline_seconds, retry_policy, dead_letter_policy`,
        ),
      );
    });
  }

  it('validates the name', () => {
    assertInvalidArgument(
      () => planUpdateSubscription(setUp().state, updateInput({ name: 'x', paths: ['ack_deadline_seconds'] })),
      'subscription.name',
    );
  });

  it('refuses an unknown subscription', () => {
    assertNotFound(
      () => planUpdateSubscription(setUp().state, updateInput({ name: 'other-sub', paths: ['ack_deadline_seconds'] })),
      'subscription',
      'other-sub',
    );
  });

  it('changes only the fields in the mask, ignoring values outside it', () => {
    const registry = setUp();
    const before = registry.subscription('orders-sub');
    const record = planUpdateSubscription(
      registry.state,
      updateInput({
        paths: ['ack_deadline_seconds'],
        ackDeadlineSeconds: 90,
        // Invalid, but not in the mask, so neither checked nor applied.
        retryPolicy: { minimumBackoffMillis: -1, maximumBackoffMillis: -1 },
        deadLetterPolicy: { deadLetterTopic: 'missing', maxDeliveryAttempts: 1 },
      }),
    );
    assert.equal(record.key, subscriptionKey('orders-sub'));
    const event = subscriptionEvent(record);
    assert.equal(event.change, 'updated');
    registry.append(record);
    const after = registry.subscription('orders-sub');
    assert.deepEqual(after, { ...before, ackDeadlineSeconds: 90, revision: after.revision });
    assert.notEqual(after.revision, before.revision);
  });

  const updates: Array<{ label: string; input: Partial<UpdateSubscriptionInput>; expect: Partial<Subscription> }> = [
    {
      label: 'ack deadline 0 resets to 10 s',
      input: { paths: ['ack_deadline_seconds'], ackDeadlineSeconds: 0 },
      expect: { ackDeadlineSeconds: 10 },
    },
    {
      label: 'retry policy',
      input: { paths: ['retry_policy'], retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 1_000 } },
      expect: { retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 1_000 } },
    },
    {
      label: 'retry policy cleared to the defaults',
      input: { paths: ['retry_policy'], retryPolicy: undefined },
      expect: { retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 60_000 } },
    },
    {
      label: 'dead-letter policy',
      input: {
        paths: ['dead_letter_policy'],
        deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 0 },
      },
      expect: { deadLetterPolicy: { deadLetterTopic: 'orders-dlq', maxDeliveryAttempts: 5 } },
    },
    {
      label: 'dead-letter policy removed',
      input: { paths: ['dead_letter_policy'], deadLetterPolicy: undefined },
      expect: { deadLetterPolicy: undefined },
    },
    {
      label: 'several fields at once',
      input: {
        paths: ['retry_policy', 'ack_deadline_seconds', 'dead_letter_policy'],
        ackDeadlineSeconds: 600,
        retryPolicy: { minimumBackoffMillis: 100, maximumBackoffMillis: undefined },
        deadLetterPolicy: undefined,
      },
      expect: {
        ackDeadlineSeconds: 600,
        retryPolicy: { minimumBackoffMillis: 100, maximumBackoffMillis: 60_000 },
        deadLetterPolicy: undefined,
      },
    },
  ];
  for (const { label, input, expect } of updates) {
    it(`updates ${label}`, () => {
      const registry = setUp();
      const before = registry.subscription('orders-sub');
      registry.append(planUpdateSubscription(registry.state, updateInput(input)));
      const after = registry.subscription('orders-sub');
      assert.deepEqual(after, { ...before, ...expect, revision: after.revision });
    });
  }

  it('validates the new values like create does', () => {
    const registry = setUp();
    assertInvalidArgument(
      () =>
        planUpdateSubscription(registry.state, updateInput({ paths: ['ack_deadline_seconds'], ackDeadlineSeconds: 5 })),
      'subscription.ack_deadline_seconds',
    );
    assertInvalidArgument(
      () =>
        planUpdateSubscription(
          registry.state,
          updateInput({
            paths: ['retry_policy'],
            retryPolicy: { minimumBackoffMillis: 5_000, maximumBackoffMillis: 1_000 },
          }),
        ),
      'subscription.retry_policy',
    );
    assertNotFound(
      () =>
        planUpdateSubscription(
          registry.state,
          updateInput({
            paths: ['dead_letter_policy'],
            deadLetterPolicy: { deadLetterTopic: 'gone', maxDeliveryAttempts: 5 },
          }),
        ),
      'topic',
      'gone',
      'subscription.dead_letter_policy.dead_letter_topic',
    );
  });

  it('keeps the create revision and the last seek, concrete', () => {
    const registry = setUp();
    registry.append(seekRecord(registry.subscription('orders-sub'), [{ partition: 0, offset: '3' }], 8_000));
    const before = registry.subscription('orders-sub');
    const record = planUpdateSubscription(
      registry.state,
      updateInput({ paths: ['ack_deadline_seconds'], ackDeadlineSeconds: 20 }),
    );
    const event = subscriptionEvent(record);
    assert.equal(event.subscription.createRevision, before.createRevision);
    assert.deepEqual(event.subscription.lastSeek, before.lastSeek);
    registry.append(record);
    assert.equal(registry.subscription('orders-sub').createRevision, before.createRevision);
    assert.deepEqual(registry.subscription('orders-sub').lastSeek, before.lastSeek);
  });
});

describe('planDeleteSubscription', () => {
  it('is a tombstone of the subscription key', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.createSubscription('orders-sub', 'orders');
    const records = planDeleteSubscription(registry.state, 'orders-sub');
    assert.deepEqual(records, [{ key: subscriptionKey('orders-sub'), event: undefined }]);
    registry.append(...records);
    assert.equal(registry.state.subscription('orders-sub'), undefined);
    assert.ok(registry.state.topic('orders'));
  });

  it('deletes a detached subscription', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.createSubscription('orders-sub', 'orders');
    registry.append(...planDeleteTopic(registry.state, 'orders'));
    registry.append(...planDeleteSubscription(registry.state, 'orders-sub'));
    assert.equal(registry.state.subscription('orders-sub'), undefined);
  });

  it('refuses an unknown subscription', () => {
    assertNotFound(() => planDeleteSubscription(new RegistryState(), 'orders-sub'), 'subscription', 'orders-sub');
  });

  it('validates the name', () => {
    assertInvalidArgument(() => planDeleteSubscription(new RegistryState(), 'a b'), 'name');
  });
});

describe('planSetPolicy', () => {
  const bindings = [{ role: 'viewer', members: ['jwt:bob'] }];

  it('sets a policy on Herald, a topic and a subscription, each under its own key', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.createSubscription('orders-sub', 'orders');
    const targets: PolicyTarget[] = [
      { kind: 'herald' },
      { kind: 'topic', name: 'orders' },
      { kind: 'subscription', name: 'orders-sub' },
    ];
    for (const target of targets) {
      const offset = registry.append(planSetPolicy(registry.state, target, bindings));
      assert.deepEqual(registry.state.policy(policyResource(target)), {
        resource: policyResource(target),
        bindings,
        revision: offset,
      });
    }
    assert.equal(registry.state.policyCount, 3);
    assert.deepEqual(
      registry.state.all().policies.map((p) => p.resource),
      ['herald', 'topics/orders', 'subscriptions/orders-sub'],
    );
  });

  it('refuses a topic or subscription that does not exist', () => {
    const registry = new TestRegistry();
    assertNotFound(
      () => planSetPolicy(registry.state, { kind: 'topic', name: 'ghost' }, bindings),
      'topic',
      'ghost',
      'resource',
    );
    assertNotFound(
      () => planSetPolicy(registry.state, { kind: 'subscription', name: 'ghost' }, bindings),
      'subscription',
      'ghost',
      'resource',
    );
  });

  it('drops a topic’s policy with the topic, and a subscription’s with the subscription, not a detached one’s', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.createSubscription('orders-sub', 'orders');
    registry.createSubscription('other-sub', 'orders');
    registry.append(planSetPolicy(registry.state, { kind: 'topic', name: 'orders' }, bindings));
    registry.append(planSetPolicy(registry.state, { kind: 'subscription', name: 'orders-sub' }, bindings));
    registry.append(planSetPolicy(registry.state, { kind: 'subscription', name: 'other-sub' }, bindings));
    registry.append(...planDeleteTopic(registry.state, 'orders'));
    assert.equal(registry.state.policy('topics/orders'), undefined);
    assert.ok(registry.state.policy('subscriptions/orders-sub'), 'a detached subscription keeps its policy');
    registry.append(...planDeleteSubscription(registry.state, 'orders-sub'));
    assert.equal(registry.state.policy('subscriptions/orders-sub'), undefined);
    assert.ok(registry.state.policy('subscriptions/other-sub'));
    // A topic created again under the same name starts without the old policy.
    registry.createTopic('orders');
    assert.equal(registry.state.policy('topics/orders'), undefined);
  });
});

describe('planSeek', () => {
  function setUp(): TestRegistry {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.createSubscription('orders-sub', 'orders');
    return registry;
  }

  const targets: Position[] = [{ kind: 'earliest' }, { kind: 'latest' }, { kind: 'time', timeMillis: 0 }];
  for (const target of targets) {
    it(`returns the subscription for ${JSON.stringify(target)}`, () => {
      const registry = setUp();
      assert.deepEqual(planSeek(registry.state, 'orders-sub', target), registry.subscription('orders-sub'));
    });
  }

  it('requires a target', () => {
    assertInvalidArgument(() => planSeek(setUp().state, 'orders-sub', undefined), 'target');
  });

  it('refuses a negative or NaN time', () => {
    assertInvalidArgument(() => planSeek(setUp().state, 'orders-sub', { kind: 'time', timeMillis: -1 }), 'time');
    assertInvalidArgument(
      () => planSeek(setUp().state, 'orders-sub', { kind: 'time', timeMillis: Number.NaN }),
      'time',
    );
  });

  it('refuses a time past the end of year 9999 (year 275760 was accepted)', () => {
    assertInvalidArgument(
      () => planSeek(setUp().state, 'orders-sub', { kind: 'time', timeMillis: 8.64e15 }),
      'time',
      /must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, not \+275760/,
    );
  });

  it('validates the name', () => {
    assertInvalidArgument(() => planSeek(setUp().state, '-x-', { kind: 'earliest' }), 'subscription');
  });

  it('refuses an unknown subscription', () => {
    assertNotFound(() => planSeek(setUp().state, 'other-sub', { kind: 'earliest' }), 'subscription', 'other-sub');
  });

  it('refuses a detached subscription with FAILED_PRECONDITION', () => {
    const registry = setUp();
    registry.append(...planDeleteTopic(registry.state, 'orders'));
    assert.throws(
      () => planSeek(registry.state, 'orders-sub', { kind: 'earliest' }),
      (error: unknown) =>
        error instanceof FailedPreconditionError &&
        error.code === 'FAILED_PRECONDITION' &&
        /"orders-sub" is detached/.test(error.message),
    );
  });
});

describe('seekRecord', () => {
  it('records the seek with revision "self", which resolves to its own offset', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders', 2);
    registry.createSubscription('orders-sub', 'orders');
    const before = registry.subscription('orders-sub');
    const offsets = [
      { partition: 0, offset: '11' },
      { partition: 1, offset: '12' },
    ];
    const record = seekRecord(before, offsets, 6_000);
    assert.equal(record.key, subscriptionKey('orders-sub'));
    const event = subscriptionEvent(record);
    assert.equal(event.change, 'seeked');
    assert.deepEqual(event.subscription.lastSeek, { revision: 'self', offsets, timeMillis: 6_000 });
    assert.equal(event.subscription.createRevision, before.createRevision);

    const offset = registry.append(record);
    const after = registry.subscription('orders-sub');
    assert.deepEqual(after.lastSeek, { revision: offset, offsets, timeMillis: 6_000 });
    assert.deepEqual(after, { ...before, lastSeek: after.lastSeek, revision: offset });
  });

  it('replaces an earlier seek', () => {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    registry.createSubscription('orders-sub', 'orders');
    registry.append(seekRecord(registry.subscription('orders-sub'), [{ partition: 0, offset: '1' }], 1));
    const second = registry.append(seekRecord(registry.subscription('orders-sub'), [{ partition: 0, offset: '2' }], 2));
    assert.deepEqual(registry.subscription('orders-sub').lastSeek, {
      revision: second,
      offsets: [{ partition: 0, offset: '2' }],
      timeMillis: 2,
    });
  });
});

describe('push configuration', () => {
  const open: PushRules = { allowInsecure: true, allowPrivate: true };
  function setUp(): TestRegistry {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    return registry;
  }
  const http = (url: string, audience = '') => ({ kind: 'http' as const, url, mode: 'binary' as const, audience });

  it('stores an https endpoint with the default concurrency ceiling, and reads it back from the record', () => {
    const registry = setUp();
    const planned = planCreateSubscription(
      registry.state,
      subscriptionInput({ pushConfig: { endpoint: http('https://hooks.example.com/in'), maxOutstanding: 0 } }),
    );
    const record = subscriptionCreatedRecord(planned, [], 1);
    const expected = { endpoint: http('https://hooks.example.com/in'), maxOutstanding: 100 };
    assert.deepEqual(subscriptionEvent(record).subscription.pushConfig, expected);
    registry.append(record);
    assert.deepEqual(registry.subscription('orders-sub').pushConfig, expected);
  });

  it('refuses http, plaintext gRPC and literal private addresses unless the rules allow them', () => {
    const cases: Array<[CreateSubscriptionInput['pushConfig'], string, RegExp]> = [
      [{ endpoint: http('http://hooks.example.com/'), maxOutstanding: 0 }, 'http.endpoint', /https:\/\//],
      [{ endpoint: http('https://127.0.0.1:8443/'), maxOutstanding: 0 }, 'http.endpoint', /loopback, private/],
      [{ endpoint: http('https://[::1]/'), maxOutstanding: 0 }, 'http.endpoint', /loopback, private/],
      [{ endpoint: http('https://169.254.169.254/'), maxOutstanding: 0 }, 'http.endpoint', /link-local/],
      [{ endpoint: http('https://10.0.0.8/'), maxOutstanding: 0 }, 'http.endpoint', /private/],
      [{ endpoint: http('https://localhost/'), maxOutstanding: 0 }, 'http.endpoint', /loopback/],
      [
        { endpoint: { kind: 'grpc', target: 'grpc://push.example.com:50051' }, maxOutstanding: 0 },
        'grpc.target',
        /plaintext/,
      ],
      [{ endpoint: { kind: 'grpc', target: '192.168.1.2:443' }, maxOutstanding: 0 }, 'grpc.target', /private/],
      [{ endpoint: undefined, maxOutstanding: 0 }, '', /one of http or grpc/],
      [{ endpoint: http('https://hooks.example.com/'), maxOutstanding: 1001 }, 'max_outstanding', /between 1 and 1000/],
      [{ endpoint: http('https://hooks.example.com/', 'a'.repeat(2049)), maxOutstanding: 0 }, 'http.audience', /2048/],
    ];
    for (const [pushConfig, field, reason] of cases) {
      assertInvalidArgument(
        () => planCreateSubscription(setUp().state, subscriptionInput({ pushConfig })),
        `subscription.push_config${field ? `.${field}` : ''}`,
        reason,
      );
    }
    const allowed = planCreateSubscription(
      setUp().state,
      subscriptionInput({ pushConfig: { endpoint: http('http://127.0.0.1:41150/'), maxOutstanding: 4 } }),
      open,
    );
    assert.deepEqual(allowed.pushConfig, { endpoint: http('http://127.0.0.1:41150/'), maxOutstanding: 4 });
  });

  it('switches pull to push and back with the push_config path', () => {
    const registry = setUp();
    registry.createSubscription('orders-sub', 'orders');
    const pushConfig = { endpoint: { kind: 'grpc' as const, target: 'grpc://127.0.0.1:41151' }, maxOutstanding: 8 };
    registry.append(planUpdateSubscription(registry.state, updateInput({ paths: ['push_config'], pushConfig }), open));
    assert.deepEqual(registry.subscription('orders-sub').pushConfig, pushConfig);
    // Other paths leave it alone.
    registry.append(
      planUpdateSubscription(registry.state, updateInput({ paths: ['ack_deadline_seconds'], ackDeadlineSeconds: 30 })),
    );
    assert.deepEqual(registry.subscription('orders-sub').pushConfig, pushConfig);
    registry.append(planUpdateSubscription(registry.state, updateInput({ paths: ['push_config'] })));
    assert.equal(registry.subscription('orders-sub').pushConfig, undefined);
    assertInvalidArgument(
      () => planUpdateSubscription(registry.state, updateInput({ paths: ['push_config'], pushConfig })),
      'subscription.push_config.grpc.target',
      /plaintext/,
    );
  });
});

describe('exactly-once delivery', () => {
  function setUp(): TestRegistry {
    const registry = new TestRegistry();
    registry.createTopic('orders');
    return registry;
  }

  it('is off unless asked, stored only when on, and read back from the record', () => {
    const registry = setUp();
    registry.createSubscription('plain-sub', 'orders');
    assert.equal(registry.subscription('plain-sub').enableExactlyOnceDelivery, false);
    const planned = planCreateSubscription(
      registry.state,
      subscriptionInput({ name: 'once-sub', enableExactlyOnceDelivery: true }),
    );
    const record = subscriptionCreatedRecord(planned, [], 1);
    assert.equal(subscriptionEvent(record).subscription.exactlyOnce, true);
    registry.append(record);
    assert.equal(registry.subscription('once-sub').enableExactlyOnceDelivery, true);
    // A record written before the field existed reads as off.
    const plain = subscriptionCreatedRecord(planCreateSubscription(registry.state, subscriptionInput()), [], 1);
    assert.equal('exactlyOnce' in subscriptionEvent(plain).subscription, false);
  });

  it('is switched on and off by the enable_exactly_once_delivery path, and left alone by others', () => {
    const registry = setUp();
    registry.createSubscription('orders-sub', 'orders');
    const paths = ['enable_exactly_once_delivery'];
    registry.append(planUpdateSubscription(registry.state, updateInput({ paths, enableExactlyOnceDelivery: true })));
    assert.equal(registry.subscription('orders-sub').enableExactlyOnceDelivery, true);
    registry.append(
      planUpdateSubscription(registry.state, updateInput({ paths: ['ack_deadline_seconds'], ackDeadlineSeconds: 30 })),
    );
    assert.equal(registry.subscription('orders-sub').enableExactlyOnceDelivery, true);
    registry.append(planUpdateSubscription(registry.state, updateInput({ paths })));
    assert.equal(registry.subscription('orders-sub').enableExactlyOnceDelivery, false);
  });

  it('refuses a push subscription, at creation and by update, naming the field', () => {
    const registry = setUp();
    const open: PushRules = { allowInsecure: true, allowPrivate: true };
    const pushConfig = { endpoint: { kind: 'grpc' as const, target: 'grpc://127.0.0.1:41151' }, maxOutstanding: 8 };
    assertInvalidArgument(
      () =>
        planCreateSubscription(
          registry.state,
          subscriptionInput({ pushConfig, enableExactlyOnceDelivery: true }),
          open,
        ),
      'subscription.enable_exactly_once_delivery',
      /pull subscriptions only/,
    );
    registry.createSubscription('orders-sub', 'orders', { enableExactlyOnceDelivery: true });
    assertInvalidArgument(
      () => planUpdateSubscription(registry.state, updateInput({ paths: ['push_config'], pushConfig }), open),
      'subscription.enable_exactly_once_delivery',
      /pull subscriptions only/,
    );
  });
});
