import assert from 'node:assert/strict';
import { Subscription, Topic, type WatchResponse } from '@herald/api';
import { silentLogger } from '@herald/logging';
import { RegistryWatcher } from '@herald/registry-watch';
import { RegistryIndex } from './registry-index';

const topic = (name: string, revision = '0') => Topic.fromPartial({ name, partitions: 3, revision });
const subscription = (name: string, of: string) => Subscription.fromPartial({ name, topic: of });
const snapshot = (
  revision: string,
  parts: { topics?: Topic[]; subscriptions?: Subscription[] },
  reset = true,
  last = true,
): WatchResponse => ({
  revision,
  kind: {
    $case: 'snapshot',
    value: { reset, last, topics: parts.topics ?? [], subscriptions: parts.subscriptions ?? [], policies: [] },
  },
});
const event = (revision: string, change: NonNullable<WatchResponse['kind'] & { $case: 'event' }>['value']['change']) =>
  ({ revision, kind: { $case: 'event', value: { revision, time: undefined, change } } }) as WatchResponse;
const firstPage = { pageSize: 100, pageToken: '', search: '', scope: '' };
/** An index on a watcher that is never started: each test feeds it the stream's responses itself. */
const indexed = () => {
  const watcher = new RegistryWatcher({ addresses: ['127.0.0.1:1'], logger: silentLogger() });
  return { index: new RegistryIndex(watcher), watcher };
};

describe('console registry index', () => {
  it('becomes ready on the last part of a snapshot, keeping the earlier view until then', () => {
    const { index, watcher } = indexed();
    watcher.apply(snapshot('4', { topics: [topic('a')] }, true, false));
    assert.equal(index.ready, false);
    assert.equal(index.topicCount, 0);
    watcher.apply(snapshot('4', { topics: [topic('b')], subscriptions: [subscription('s', 'a')] }, false, true));
    assert.equal(index.ready, true);
    assert.equal(index.revision, 4n);
    assert.deepEqual(
      index.listTopics(firstPage).items.map((row) => [row.topic.name, row.subscriptions]),
      [
        ['a', 1],
        ['b', 0],
      ],
    );
  });

  it('follows creates, updates and deletes, keeping subscription counts per topic', () => {
    const { index, watcher } = indexed();
    watcher.apply(snapshot('1', { topics: [topic('orders')] }));
    watcher.apply(event('2', { $case: 'subscriptionCreated', value: subscription('audit', 'orders') }));
    watcher.apply(event('3', { $case: 'subscriptionCreated', value: subscription('billing', 'orders') }));
    watcher.apply(event('4', { $case: 'subscriptionUpdated', value: subscription('billing', 'orders') }));
    assert.equal(index.subscriptionsOf('orders'), 2);
    watcher.apply(event('5', { $case: 'subscriptionDeleted', value: 'audit' }));
    watcher.apply(event('6', { $case: 'topicCreated', value: topic('payments') }));
    assert.equal(index.subscriptionsOf('orders'), 1);
    assert.deepEqual(
      index.listTopics(firstPage).items.map((row) => row.topic.name),
      ['orders', 'payments'],
    );
    watcher.apply(event('7', { $case: 'topicDeleted', value: 'orders' }));
    assert.equal(index.hasTopic('orders'), false);
    assert.equal(index.revision, 7n);
  });

  it('keeps the counts per topic right when a snapshot after a reconnect replaces the view', () => {
    const { index, watcher } = indexed();
    watcher.apply(
      snapshot('1', {
        topics: [topic('orders')],
        subscriptions: [subscription('audit', 'orders'), subscription('billing', 'orders')],
      }),
    );
    assert.equal(index.subscriptionsOf('orders'), 2);
    watcher.apply(
      snapshot('5', {
        topics: [topic('orders'), topic('payments')],
        subscriptions: [
          Subscription.fromPartial({ name: 'billing', topic: 'payments', revision: '4' }),
          subscription('ledger', 'payments'),
        ],
      }),
    );
    assert.equal(index.revision, 5n);
    assert.deepEqual(
      index.listTopics(firstPage).items.map((row) => [row.topic.name, row.subscriptions]),
      [
        ['orders', 0],
        ['payments', 2],
      ],
    );
    assert.equal(index.hasSubscription('audit'), false);
  });

  it('lists the subscriptions of one topic, searching their names and topics', () => {
    const { index, watcher } = indexed();
    watcher.apply(
      snapshot('9', {
        topics: [topic('orders'), topic('payments')],
        subscriptions: [
          subscription('eu-audit', 'orders'),
          subscription('us-audit', 'orders'),
          subscription('eu-ledger', 'payments'),
        ],
      }),
    );
    const names = (search: string, scope = '') =>
      index.listSubscriptions({ ...firstPage, search, scope }).items.map((s) => s.name);
    assert.deepEqual(names('', 'orders'), ['eu-audit', 'us-audit']);
    assert.deepEqual(names('eu'), ['eu-audit', 'eu-ledger']);
    assert.deepEqual(names('payments'), ['eu-ledger']);
  });

  it('releases a wait for a revision when the watch reaches it, or at the timeout', async () => {
    const { index, watcher } = indexed();
    watcher.apply(snapshot('1', {}));
    let released = false;
    const waiting = index.waitForRevision('3', 10_000).then(() => (released = true));
    watcher.apply(event('2', { $case: 'topicCreated', value: topic('a') }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(released, false);
    watcher.apply(event('3', { $case: 'topicCreated', value: topic('b') }));
    await waiting;
    const started = Date.now();
    await index.waitForRevision('99', 50);
    assert.ok(Date.now() - started >= 45);
  });
});
