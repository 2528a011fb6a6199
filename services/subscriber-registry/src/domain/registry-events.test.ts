import assert from 'node:assert/strict';
import {
  decodeEvent,
  encodeEvent,
  parseKey,
  policyKey,
  type RegistryEvent,
  recordVersion,
  subscriptionKey,
  topicKey,
  UnreadableRecordError,
} from './registry-events';

describe('registry keys', () => {
  it('prefix the name with its type', () => {
    assert.equal(topicKey('orders'), 'topic/orders');
    assert.equal(subscriptionKey('orders-sub'), 'subscription/orders-sub');
  });

  const cases: Array<[string, ReturnType<typeof parseKey>]> = [
    ['topic/orders', { type: 'topic', name: 'orders' }],
    ['subscription/orders-sub', { type: 'subscription', name: 'orders-sub' }],
    ['topic/a/b', { type: 'topic', name: 'a/b' }],
    ['iam/herald', { type: 'iam', name: 'herald' }],
    ['iam/topics/orders', { type: 'iam', name: 'topics/orders' }],
    ['topic/', { type: 'topic', name: '' }],
    ['queue/orders', undefined],
    ['Topic/orders', undefined],
    ['/orders', undefined],
    ['', undefined],
    ['topic', undefined],
    ['topicX', undefined],
    ['subscriptionZ', undefined],
  ];
  for (const [key, expected] of cases) {
    it(`parse ${JSON.stringify(key)}`, () => {
      assert.deepEqual(parseKey(key), expected);
    });
  }

  it('parse back what they build', () => {
    assert.deepEqual(parseKey(topicKey('orders.v2')), { type: 'topic', name: 'orders.v2' });
    assert.deepEqual(parseKey(subscriptionKey('s_1')), { type: 'subscription', name: 's_1' });
    assert.deepEqual(parseKey(policyKey('subscriptions/s_1')), { type: 'iam', name: 'subscriptions/s_1' });
  });
});

describe('encodeEvent / decodeEvent', () => {
  const events: RegistryEvent[] = [
    {
      v: recordVersion,
      type: 'topic',
      change: 'created',
      topic: { name: 'orders', partitions: 3, retentionMillis: 60_000, replicationFactor: 3, createTimeMillis: 1 },
    },
    {
      v: recordVersion,
      type: 'subscription',
      change: 'seeked',
      subscription: {
        name: 'orders-sub',
        topic: 'orders',
        ackDeadlineSeconds: 10,
        retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 60_000 },
        deadLetterPolicy: null,
        enableMessageOrdering: true,
        filter: 'attributes.ünï = "😀"',
        startOffsets: [{ partition: 0, offset: '9007199254740993' }],
        lastSeek: { revision: 'self', offsets: [], timeMillis: 5 },
        detached: false,
        createTimeMillis: 2,
        createRevision: '4',
      },
    },
    {
      v: recordVersion,
      type: 'subscription',
      change: 'updated',
      subscription: {
        name: 'orders-hook',
        topic: 'orders',
        ackDeadlineSeconds: 10,
        retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 60_000 },
        deadLetterPolicy: null,
        pushConfig: {
          endpoint: { kind: 'http', url: 'https://hooks.example.com/in', mode: 'structured', audience: '' },
          maxOutstanding: 100,
        },
        enableMessageOrdering: false,
        filter: '',
        startOffsets: [],
        lastSeek: null,
        detached: false,
        createTimeMillis: 2,
        createRevision: '5',
      },
    },
    {
      v: recordVersion,
      type: 'policy',
      change: 'set',
      resource: 'topics/orders',
      bindings: [{ role: 'publisher', members: ['jwt:checkout', 'mtls:spiffe://herald/billing'] }],
    },
  ];
  for (const event of events) {
    it(`round-trips a ${event.type} record`, () => {
      assert.deepEqual(decodeEvent(encodeEvent(event)), event);
    });
  }

  const unreadable: Array<[string, string, RegExp]> = [
    ['corrupt bytes', '\u0000\u00ff{garbage', /^not JSON/],
    ['a later format version', JSON.stringify({ ...events[0], v: 2 }), /^format version 2; this build reads 1$/],
    ['a record without a version', JSON.stringify({ type: 'topic' }), /^format version undefined/],
    ['an unknown record type', JSON.stringify({ v: 1, type: 'queue' }), /^unknown record type "queue"$/],
    [
      'a topic record without its topic',
      JSON.stringify({ v: 1, type: 'topic', change: 'created' }),
      /^topic is not an object$/,
    ],
    [
      'a subscription record with a broken field',
      JSON.stringify({
        ...events[1],
        subscription: { ...(events[1] as { subscription: object }).subscription, startOffsets: 'x' },
      }),
      /^subscription.startOffsets is not a list$/,
    ],
    [
      'a push configuration of an unknown kind',
      JSON.stringify({
        ...events[2],
        subscription: {
          ...(events[2] as { subscription: object }).subscription,
          pushConfig: { endpoint: { kind: 'smtp' }, maxOutstanding: 1 },
        },
      }),
      /^subscription.pushConfig.endpoint.kind is "smtp"$/,
    ],
    ['a JSON value that is not an object', '42', /^record is not an object$/],
    [
      'a policy record whose members are not names',
      JSON.stringify({ ...events[3], bindings: [{ role: 'viewer', members: [7] }] }),
      /^bindings\[0\]\.members\[0\] is not a string$/,
    ],
    [
      'a policy record without a resource',
      JSON.stringify({ v: 1, type: 'policy', change: 'set', bindings: [] }),
      /^resource is not a string$/,
    ],
    [
      'an unknown policy change',
      JSON.stringify({ ...events[3], change: 'merged' }),
      /^unknown policy change "merged"$/,
    ],
  ];
  for (const [title, value, reason] of unreadable) {
    it(`refuses ${title} with UnreadableRecordError`, () => {
      assert.throws(
        () => decodeEvent(Buffer.from(value)),
        (error: unknown) => error instanceof UnreadableRecordError && reason.test(error.message),
      );
    });
  }

  it('reads a subscription record without pushConfig (written before push) as a pull subscription', () => {
    const { pushConfig: _dropped, ...older } = (events[2] as { subscription: Record<string, unknown> }).subscription;
    const decoded = decodeEvent(Buffer.from(JSON.stringify({ ...events[2], subscription: older })));
    assert.equal(decoded?.type === 'subscription' && decoded.subscription.pushConfig, undefined);
  });

  it('reads a null or empty value as a tombstone', () => {
    assert.equal(decodeEvent(null), undefined);
    assert.equal(decodeEvent(Buffer.alloc(0)), undefined);
  });
});
