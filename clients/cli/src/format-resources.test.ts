import assert from 'node:assert/strict';
import { SubscriptionStats } from '@herald/api';
import { pushConfigProto } from '@herald/client';
import {
  durationJson,
  formatDuration,
  formatTime,
  subscriptionDetails,
  subscriptionJson,
  subscriptionsTable,
  topicDetails,
  topicJson,
  topicsTable,
} from './format-resources';
import { subscription, topic } from './testing/fake-cli';

describe('formatting topics and subscriptions', () => {
  it('writes durations in their largest exact units', () => {
    assert.equal(formatDuration(604_800_000), '7d');
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(1_500), '1s500ms');
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(undefined), '');
  });

  it('writes times as ISO 8601 without milliseconds', () => {
    assert.equal(formatTime(new Date('2026-05-01T10:00:00.123Z')), '2026-05-01T10:00:00Z');
    assert.equal(formatTime(undefined), '');
  });

  it('lists topics in a table: a header, then a row each', () => {
    const lines = topicsTable([topic('orders', 6), topic('payments')]).split('\n');
    assert.match(lines[1]!, /NAME +│ PARTITIONS │ REPLICAS │ RETENTION │ CREATED/);
    assert.match(lines[3]!, /│ orders +│ 6 +│ 3 +│ 7d +│ 2026-05-01T10:00:00Z │/);
    assert.match(lines[4]!, /│ payments │ 3 /);
    assert.equal(lines.length, 6);
  });

  it('shows one topic field by field', () => {
    const text = topicDetails(topic('orders'));
    for (const expected of [/name +│ orders/, /retention +│ 7d/, /replication factor │ 3/, /revision +│ 7/]) {
      assert.match(text, expected);
    }
  });

  it("writes JSON in the proto's JSON mapping with every field, as grpcurl -emit-defaults does", () => {
    assert.deepEqual(topicJson(topic('orders')), {
      name: 'orders',
      partitions: 3,
      retention: '604800s',
      replicationFactor: 3,
      createTime: '2026-05-01T10:00:00.000Z',
      revision: '7',
    });
    assert.deepEqual(subscriptionJson(subscription('s', 'orders')), {
      name: 's',
      topic: 'orders',
      ackDeadlineSeconds: 10,
      retryPolicy: { minimumBackoff: '1s', maximumBackoff: '60s' },
      deadLetterPolicy: null,
      enableMessageOrdering: false,
      enableExactlyOnceDelivery: false,
      filter: '',
      pushConfig: null,
      startOffsets: [
        { partition: 0, offset: '0' },
        { partition: 1, offset: '4' },
      ],
      lastSeek: null,
      detached: false,
      createTime: '2026-05-01T10:00:00.000Z',
      revision: '8',
      createRevision: '0',
    });
  });

  it('writes durations as the mapping does', () => {
    assert.equal(durationJson({ seconds: '90', nanos: 0 }), '90s');
    assert.equal(durationJson({ seconds: '1', nanos: 500_000_000 }), '1.500s');
    assert.equal(durationJson({ seconds: '0', nanos: 1 }), '0.000000001s');
  });

  it('shows subscriptions with their policies', () => {
    const s = subscription('orders-audit', 'orders');
    s.deadLetterPolicy = { deadLetterTopic: 'orders-dead', maxDeliveryAttempts: 0 };
    s.filter = 'attributes.region = "eu"';
    assert.match(
      subscriptionsTable([s]),
      /orders-audit │ orders │ 10s +│ no +│ no +│ attributes.region = "eu" │ orders-dead after 5 attempts │ active/,
    );
    const details = subscriptionDetails(s);
    assert.match(details, /retry backoff +│ 1s to 1m/);
    assert.match(details, /start offsets \(partition:offset\) │ 0:0 1:4/);
    assert.match(details, /last seek +│ none/);
    assert.match(details, /delivery +│ pull/);
  });

  it('shows how a push subscription is pushed, and how its requests go', () => {
    const s = subscription('orders-hook', 'orders');
    s.pushConfig = pushConfigProto({
      endpoint: 'https://hooks.example.com/in',
      mode: 'structured',
      maxOutstanding: 20,
    });
    const stats = SubscriptionStats.fromPartial({
      subscription: 'orders-hook',
      push: { state: 'refused', concurrency: 1, maxOutstanding: 20, refused: '2', lastError: 'resolves to 10.0.0.1' },
    });
    const details = subscriptionDetails(s, stats);
    assert.match(
      details,
      /delivery +│ push to https:\/\/hooks.example.com\/in \(CloudEvents, structured\), at most 20 in flight/,
    );
    assert.match(details, /push +│ refused, 1 of 20 in flight allowed, 0 in flight/);
    assert.match(details, /last push error +│ resolves to 10.0.0.1/);
    assert.deepEqual(subscriptionJson(s).pushConfig, {
      http: { endpoint: 'https://hooks.example.com/in', mode: 'structured', audience: '' },
      grpc: null,
      maxOutstanding: 20,
    });
  });
});
