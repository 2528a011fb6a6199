import assert from 'node:assert/strict';
import { SubscriberRegistryServiceService, WatchResponse } from '@herald/api';
import type { Subscription, Topic } from '../domain/registry-model';
import { snapshotParts, withSharedWatchEncoding } from './watch-stream';

describe('withSharedWatchEncoding', () => {
  const service = withSharedWatchEncoding(SubscriberRegistryServiceService);
  const response = (revision: string): WatchResponse => ({
    revision,
    kind: { $case: 'snapshot', value: { reset: true, topics: [], subscriptions: [], last: true, policies: [] } },
  });

  it('encodes a response shared by many watchers once, and as the generated code does', () => {
    const shared = response('42');
    const first = service.watch.responseSerialize(shared);
    assert.equal(service.watch.responseSerialize(shared), first, 'the same bytes, not encoded again');
    assert.deepEqual(first, SubscriberRegistryServiceService.watch.responseSerialize(shared));
    assert.deepEqual(
      WatchResponse.decode(first),
      WatchResponse.decode(Buffer.from(WatchResponse.encode(shared).finish())),
    );
  });

  it('encodes distinct responses apart', () => {
    const one = service.watch.responseSerialize(response('1'));
    const two = service.watch.responseSerialize(response('2'));
    assert.notDeepEqual(one, two);
  });

  it('leaves the other methods alone', () => {
    assert.equal(service.createTopic, SubscriberRegistryServiceService.createTopic);
  });
});

describe('snapshotParts', () => {
  const topic = (i: number): Topic => ({
    name: `t${i}`,
    partitions: 1,
    retentionMillis: 60_000,
    replicationFactor: 1,
    createTimeMillis: 0,
    revision: '1',
  });
  const subscription = (i: number): Subscription => ({
    name: `s${i}`,
    topic: 't0',
    ackDeadlineSeconds: 10,
    retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 0 },
    deadLetterPolicy: undefined,
    enableMessageOrdering: false,
    enableExactlyOnceDelivery: false,
    filter: '',
    pushConfig: undefined,
    startOffsets: [],
    lastSeek: undefined,
    detached: false,
    createTimeMillis: 0,
    createRevision: '1',
    revision: '1',
  });

  it('splits topics, subscriptions and policies into parts of at most 500, each sent once', () => {
    const topics = Array.from({ length: 600 }, (_, i) => topic(i));
    const subscriptions = Array.from({ length: 300 }, (_, i) => subscription(i));
    const policies = Array.from({ length: 250 }, (_, i) => ({
      resource: `topics/t${i}`,
      policy: { bindings: [{ role: 'viewer', members: ['jwt:a'] }], etag: 'e' },
    }));
    const parts = snapshotParts('7', topics, subscriptions, policies).map((r) => {
      assert.equal(r.kind?.$case, 'snapshot');
      return r.kind.value;
    });
    assert.equal(parts.length, 3);
    assert.deepEqual(
      parts.map((p) => [p.reset, p.last]),
      [
        [true, false],
        [false, false],
        [false, true],
      ],
    );
    for (const p of parts) assert.ok(p.topics.length + p.subscriptions.length + p.policies.length <= 500);
    assert.equal(parts.flatMap((p) => p.topics).length, 600);
    assert.equal(new Set(parts.flatMap((p) => p.subscriptions.map((s) => s.name))).size, 300);
    assert.deepEqual(
      parts.flatMap((p) => p.policies.map((x) => x.resource)),
      policies.map((x) => x.resource),
    );
  });

  it('sends an empty registry as one part, first and last', () => {
    const [only, ...rest] = snapshotParts('-1', [], [], []);
    assert.deepEqual(rest, []);
    assert.ok(only?.kind?.$case === 'snapshot' && only.kind.value.reset && only.kind.value.last);
  });
});
