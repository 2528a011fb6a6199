import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { Position, SubscriberRegistryServiceClient, Subscription, Topic, type WatchResponse } from '@herald/api';
import { ServiceProcess } from '@herald/devstack';
import { freePort, heraldHome } from '@herald/local-kafka';
import { rpc, rpcStatus, testKafka, uniqueName, waitFor } from '@herald/testkit';

/** Two registry instances on one log, as separate processes. */
async function startRegistry(prefix: string, index: number, port?: number): Promise<ServiceProcess> {
  return ServiceProcess.start({
    service: 'subscriber-registry',
    port: port ?? (await freePort()),
    logFile: path.join(heraldHome, 'test', 'logs', `${prefix}registry-${index}.log`),
    env: {
      KAFKA_BROKERS: testKafka().brokers.join(','),
      HERALD_TOPIC_PREFIX: prefix,
      HERALD_INSTANCE_ID: `registry-${index}`,
    },
  });
}

function client(process: ServiceProcess): SubscriberRegistryServiceClient {
  return new SubscriberRegistryServiceClient(process.address, credentials.createInsecure());
}

async function everything(
  registry: SubscriberRegistryServiceClient,
): Promise<{ topics: Topic[]; subscriptions: Subscription[] }> {
  const topics: Topic[] = [];
  const subscriptions: Subscription[] = [];
  let token = '';
  do {
    const page = await rpc(registry, registry.listTopics, { pageSize: 7, pageToken: token });
    topics.push(...page.topics);
    token = page.nextPageToken;
  } while (token);
  do {
    const page = await rpc(registry, registry.listSubscriptions, { pageSize: 5, pageToken: token, topic: '' });
    subscriptions.push(...page.subscriptions);
    token = page.nextPageToken;
  } while (token);
  return { topics, subscriptions };
}

describe('subscriber-registry (two instances, 3-broker Kafka)', function () {
  this.timeout(120_000);
  const prefix = `${uniqueName('reg')}.`;
  let first: ServiceProcess;
  let second: ServiceProcess;
  let a: SubscriberRegistryServiceClient;
  let b: SubscriberRegistryServiceClient;

  before(async () => {
    [first, second] = await Promise.all([startRegistry(prefix, 1), startRegistry(prefix, 2)]);
    a = client(first);
    b = client(second);
  });

  after(async () => {
    a?.close();
    b?.close();
    await Promise.all([first?.stop(), second?.stop()]);
  });

  it('creates a topic, its Kafka topic and a subscription, readable from the other instance at once', async () => {
    const { topic } = await rpc(a, a.createTopic, {
      topic: { name: 'orders', partitions: 4, replicationFactor: 0, revision: '0' },
    });
    assert.equal(topic?.partitions, 4);
    assert.equal(topic?.replicationFactor, 3);
    const { subscription } = await rpc(b, b.createSubscription, {
      subscription: Subscription.fromPartial({
        name: 'orders-audit',
        topic: 'orders',
        ackDeadlineSeconds: 30,
        filter: 'attributes:kind',
      }),
    });
    assert.equal(subscription?.startOffsets.length, 4);
    assert.equal(subscription?.ackDeadlineSeconds, 30);
    // The write returned through b; a has it too once a has read the log that far.
    await waitFor(async () => (await rpcStatus(a, a.getSubscription, { name: 'orders-audit' })).code === 0);
  });

  it('lets exactly one of two concurrent creates of a name win, across instances', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `race-${i}`);
    const outcomes = await Promise.all(
      names.flatMap((name) => [
        rpcStatus(a, a.createTopic, { topic: Topic.fromPartial({ name, partitions: 1 }) }),
        rpcStatus(b, b.createTopic, { topic: Topic.fromPartial({ name, partitions: 2 }) }),
      ]),
    );
    for (let i = 0; i < names.length; i++) {
      const pair = [outcomes[2 * i]!.code, outcomes[2 * i + 1]!.code].sort();
      assert.deepEqual(
        pair,
        [status.OK, status.ALREADY_EXISTS],
        `${names[i]}: ${JSON.stringify(outcomes.slice(2 * i, 2 * i + 2))}`,
      );
    }
    const subscriptionRace = await Promise.all([
      rpcStatus(a, a.createSubscription, {
        subscription: Subscription.fromPartial({ name: 'race-sub', topic: 'orders' }),
      }),
      rpcStatus(b, b.createSubscription, {
        subscription: Subscription.fromPartial({ name: 'race-sub', topic: 'orders' }),
      }),
    ]);
    assert.deepEqual(subscriptionRace.map((o) => o.code).sort(), [status.OK, status.ALREADY_EXISTS]);
  });

  it("validates each write against the other instance's last one, when writes alternate between instances", async () => {
    // A writer that skipped catching up (it held the log) must find out from its fenced commit, not write twice.
    const create = (client: typeof a, name: string) =>
      rpcStatus(client, client.createTopic, { topic: Topic.fromPartial({ name, partitions: 1 }) });
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
      codes.push((await create(first, `alternate-${i}`)).code, (await create(second, `alternate-${i}`)).code);
    }
    assert.deepEqual(codes, Array(4).fill([status.OK, status.ALREADY_EXISTS]).flat());
  });

  it('updates, seeks and detaches subscriptions as events every watcher sees with their revisions', async () => {
    const watch = b.watch({ afterRevision: '0' });
    const responses: WatchResponse[] = [];
    watch.on('data', (response: WatchResponse) => responses.push(response));
    watch.on('error', () => undefined);
    await waitFor(() => responses.some((r) => r.kind?.$case === 'snapshot' && r.kind.value.last));
    await rpc(a, a.createTopic, { topic: Topic.fromPartial({ name: 'short-lived' }) });
    await rpc(a, a.createSubscription, {
      subscription: Subscription.fromPartial({ name: 'short-sub', topic: 'short-lived' }),
    });
    const { subscription: updated } = await rpc(a, a.updateSubscription, {
      subscription: Subscription.fromPartial({ name: 'short-sub', ackDeadlineSeconds: 60 }),
      updateMask: ['ack_deadline_seconds'],
    });
    assert.equal(updated?.ackDeadlineSeconds, 60);
    const { subscription: seeked } = await rpc(a, a.seek, {
      subscription: 'short-sub',
      target: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    assert.ok(seeked?.lastSeek && BigInt(seeked.lastSeek.revision) > 0n);
    await rpc(a, a.deleteTopic, { name: 'short-lived' });
    const { subscription: detached } = await rpc(a, a.getSubscription, { name: 'short-sub' });
    assert.equal(detached?.detached, true);
    const eventsOf = () =>
      responses
        .filter((r) => r.kind?.$case === 'event')
        .map((r) => r.kind!.value as { revision: string; change?: { $case: string } });
    await waitFor(() => eventsOf().length >= 6, { description: 'six watch events' });
    watch.cancel();
    const events = eventsOf();
    assert.deepEqual(
      events.map((e) => e.change?.$case),
      [
        'topicCreated',
        'subscriptionCreated',
        'subscriptionUpdated',
        'subscriptionUpdated',
        'topicDeleted',
        'subscriptionUpdated',
      ],
    );
    const revisions = events.map((e) => BigInt(e.revision));
    assert.ok(
      revisions.every((r, i) => i === 0 || r > revisions[i - 1]!),
      'revisions strictly increase',
    );

    // Resuming after a revision sends only what came later, no snapshot.
    const resumeAfter = events[events.length - 3]!.revision;
    const resumed: WatchResponse[] = [];
    const again = a.watch({ afterRevision: resumeAfter });
    again.on('data', (response: WatchResponse) => resumed.push(response));
    again.on('error', () => undefined);
    await waitFor(() => resumed.length >= 2);
    again.cancel();
    assert.ok(resumed.every((r) => r.kind?.$case === 'event'));
    assert.ok(resumed.every((r) => BigInt(r.revision) > BigInt(resumeAfter)));
  });

  it('pages with page_size and page_token, and refuses a forged token', async () => {
    const listed = await everything(a);
    assert.ok(listed.topics.length >= 11);
    const names = listed.topics.map((t) => t.name);
    assert.deepEqual(names, [...names].sort());
    const forged = await rpcStatus(a, a.listTopics, {
      pageSize: 2,
      pageToken: 'eyJsaXN0IjoidG9waWNzIiwiYWZ0ZXIiOiJ6In0.AAAAAAAAAAAA',
    });
    assert.equal(forged.code, status.INVALID_ARGUMENT);
    assert.match(forged.details, /page_token/);
  });

  it('rebuilds the same state by replay after kill -9 and restart', async () => {
    const before = await everything(a);
    second.kill();
    await second.waitExit(10_000);
    // Writes continue through the surviving instance while the other is down.
    await rpc(a, a.createTopic, { topic: Topic.fromPartial({ name: 'while-down' }) });
    await second.start();
    b.close();
    b = client(second);
    const [fromA, fromB] = await Promise.all([everything(a), everything(b)]);
    assert.deepEqual(fromB, fromA);
    assert.equal(fromB.topics.length, before.topics.length + 1);
  });
});
