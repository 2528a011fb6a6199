import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { Position, SubscriberRegistryServiceClient, Subscription, Topic } from '@herald/api';
import { checkHealth, ServiceProcess } from '@herald/devstack';
import { freePort, heraldHome } from '@herald/local-kafka';
import { rpc, rpcStatus, testKafka, uniqueName } from '@herald/testkit';

type Outcome = { code: number; codeName: string; details: string };

/** One bad (or borderline) request, the status it must get, and what its details must say. */
interface Row {
  title: string;
  call: (registry: SubscriberRegistryServiceClient) => Promise<Outcome>;
  code: number;
  details: RegExp;
}

const seconds = (value: number) => ({ seconds: String(value), nanos: 0 });
const day = 24 * 3600;

const createTopic = (topic: Partial<Topic> | undefined) => (r: SubscriberRegistryServiceClient) =>
  rpcStatus(r, r.createTopic, { topic: topic && Topic.fromPartial(topic) });
const createSubscription = (subscription: Partial<Subscription>) => (r: SubscriberRegistryServiceClient) =>
  rpcStatus(r, r.createSubscription, { subscription: Subscription.fromPartial(subscription) });
const updateSubscription =
  (subscription: Partial<Subscription>, updateMask: string[] | undefined) => (r: SubscriberRegistryServiceClient) =>
    rpcStatus(r, r.updateSubscription, { subscription: Subscription.fromPartial(subscription), updateMask });

const setPolicy = (resource: string, bindings: Array<{ role: string; members: string[] }>, etag = '') => ({
  resource,
  policy: { bindings, etag },
});

/** Fixtures the rows refer to, created before the table runs. */
const topic = 'orders';
const deadLetters = 'orders-dead';
const subscription = 'orders-sub';
const detached = 'orphan-sub';
/** The one row that must succeed: a topic with partitions 0 gets the default count. */
const defaultPartitions = 'default-partitions';

const rows: Row[] = [
  // Names, on every rpc that takes one.
  {
    title: 'CreateTopic without a topic',
    call: createTopic(undefined),
    code: status.INVALID_ARGUMENT,
    details: /^topic: is required/,
  },
  {
    title: 'CreateTopic, empty name',
    call: createTopic({ name: '' }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.name: is required/,
  },
  {
    title: 'CreateTopic, name too short',
    call: createTopic({ name: 'ab' }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.name: must be 3 to 200 characters long, not 2/,
  },
  {
    title: 'CreateTopic, name too long',
    call: createTopic({ name: `a${'b'.repeat(200)}` }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.name: must be 3 to 200 characters long, not 201/,
  },
  {
    title: 'CreateTopic, bad character',
    call: createTopic({ name: 'bad/name' }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.name: may contain only .*found "\/" at position 4/,
  },
  {
    title: 'CreateTopic, starts with a digit',
    call: createTopic({ name: '9lives' }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.name: must start with a letter, not "9"/,
  },
  {
    title: 'CreateTopic, reserved "herald" prefix',
    call: createTopic({ name: 'herald-internal' }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.name: .*reserved/,
  },
  {
    title: 'CreateTopic, reserved prefix in another case',
    call: createTopic({ name: 'HeraldAudit' }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.name: .*reserved/,
  },
  {
    title: 'CreateSubscription, empty name',
    call: createSubscription({ name: '', topic }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.name: is required/,
  },
  {
    title: 'CreateSubscription, name too short',
    call: createSubscription({ name: 'ab', topic }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.name: must be 3 to 200/,
  },
  {
    title: 'CreateSubscription, name too long',
    call: createSubscription({ name: 's'.repeat(201), topic }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.name: must be 3 to 200 characters long, not 201/,
  },
  {
    title: 'CreateSubscription, bad character',
    call: createSubscription({ name: 'orders sub', topic }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.name: may contain only .*found " " at position 7/,
  },
  {
    title: 'CreateSubscription, starts with a digit',
    call: createSubscription({ name: '1st-sub', topic }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.name: must start with a letter/,
  },
  {
    title: 'CreateSubscription, reserved "herald" prefix',
    call: createSubscription({ name: 'herald.sub', topic }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.name: .*reserved/,
  },
  {
    title: 'CreateSubscription, bad topic name',
    call: createSubscription({ name: 'fine-name', topic: '_orders' }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.topic: must start with a letter/,
  },
  {
    title: 'GetTopic, name too short',
    call: (r) => rpcStatus(r, r.getTopic, { name: 'ab' }),
    code: status.INVALID_ARGUMENT,
    details: /^name: must be 3 to 200/,
  },
  {
    title: 'GetTopic, missing topic',
    call: (r) => rpcStatus(r, r.getTopic, { name: 'no-such-topic' }),
    code: status.NOT_FOUND,
    details: /topic "no-such-topic" not found/,
  },
  {
    title: 'DeleteSubscription, bad name',
    call: (r) => rpcStatus(r, r.deleteSubscription, { name: 'x*y*z' }),
    code: status.INVALID_ARGUMENT,
    details: /^name: may contain only .*found "\*" at position 2/,
  },
  {
    title: 'DeleteSubscription, missing subscription',
    call: (r) => rpcStatus(r, r.deleteSubscription, { name: 'no-such-sub' }),
    code: status.NOT_FOUND,
    details: /subscription "no-such-sub" not found/,
  },

  // Topic settings.
  {
    title: 'CreateTopic, partitions 0 means the default',
    call: createTopic({ name: defaultPartitions, partitions: 0 }),
    code: status.OK,
    details: /^$/,
  },
  {
    title: 'CreateTopic, partitions 1001',
    call: createTopic({ name: 'too-wide', partitions: 1001 }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.partitions: must be between 1 and 1000, not 1001/,
  },
  {
    title: 'CreateTopic, negative partitions',
    call: createTopic({ name: 'negative', partitions: -1 }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.partitions: /,
  },
  {
    title: 'CreateTopic, retention under a minute',
    call: createTopic({ name: 'short-lived', retention: seconds(59) }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.retention: must be between 1 minute and 3650 days/,
  },
  {
    title: 'CreateTopic, retention over 3650 days',
    call: createTopic({ name: 'long-lived', retention: seconds(3651 * day) }),
    code: status.INVALID_ARGUMENT,
    details: /^topic\.retention: /,
  },
  {
    title: 'CreateTopic, duplicate',
    call: createTopic({ name: topic }),
    code: status.ALREADY_EXISTS,
    details: /topic "orders" already exists/,
  },

  // Subscription settings.
  {
    title: 'CreateSubscription, ack deadline 9 s',
    call: createSubscription({ name: 'ack-9', topic, ackDeadlineSeconds: 9 }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.ack_deadline_seconds: must be between 10 and 600 s, not 9 s/,
  },
  {
    title: 'CreateSubscription, ack deadline 601 s',
    call: createSubscription({ name: 'ack-601', topic, ackDeadlineSeconds: 601 }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.ack_deadline_seconds: must be between 10 and 600 s, not 601 s/,
  },
  {
    title: 'CreateSubscription, minimum backoff above maximum backoff',
    call: createSubscription({
      name: 'retry-inverted',
      topic,
      retryPolicy: { minimumBackoff: seconds(30), maximumBackoff: seconds(10) },
    }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.retry_policy: minimum_backoff must not exceed maximum_backoff/,
  },
  {
    title: 'CreateSubscription, maximum backoff over 600 s',
    call: createSubscription({
      name: 'retry-long',
      topic,
      retryPolicy: { minimumBackoff: seconds(1), maximumBackoff: seconds(601) },
    }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.retry_policy\.maximum_backoff: must be between 0 and 600 seconds, not 601 s/,
  },
  {
    title: 'CreateSubscription, minimum backoff alone over 600 s',
    call: createSubscription({ name: 'retry-min-long', topic, retryPolicy: { minimumBackoff: seconds(601) } }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.retry_policy\.minimum_backoff: must be between 0 and 600 seconds/,
  },
  {
    title: 'CreateSubscription, 4 delivery attempts',
    call: createSubscription({
      name: 'dlq-4',
      topic,
      deadLetterPolicy: { deadLetterTopic: deadLetters, maxDeliveryAttempts: 4 },
    }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.dead_letter_policy\.max_delivery_attempts: must be between 5 and 100, not 4/,
  },
  {
    title: 'CreateSubscription, 101 delivery attempts',
    call: createSubscription({
      name: 'dlq-101',
      topic,
      deadLetterPolicy: { deadLetterTopic: deadLetters, maxDeliveryAttempts: 101 },
    }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.dead_letter_policy\.max_delivery_attempts: must be between 5 and 100, not 101/,
  },
  {
    title: 'CreateSubscription, dead-letter topic missing',
    call: createSubscription({
      name: 'dlq-missing',
      topic,
      deadLetterPolicy: { deadLetterTopic: 'no-such-dlq', maxDeliveryAttempts: 5 },
    }),
    code: status.NOT_FOUND,
    details: /^subscription\.dead_letter_policy\.dead_letter_topic: topic "no-such-dlq" not found/,
  },
  {
    title: 'CreateSubscription, dead-letter topic with a bad name',
    call: createSubscription({
      name: 'dlq-bad-name',
      topic,
      deadLetterPolicy: { deadLetterTopic: 'x', maxDeliveryAttempts: 5 },
    }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.dead_letter_policy\.dead_letter_topic: must be 3 to 200/,
  },
  {
    title: 'CreateSubscription, bad filter',
    call: createSubscription({ name: 'bad-filter', topic, filter: 'attributes.kind == "a"' }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.filter: .* at column 18/,
  },
  {
    title: 'CreateSubscription, filter over 256 characters',
    call: createSubscription({ name: 'long-filter', topic, filter: `attributes.k = "${'v'.repeat(250)}"` }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.filter: .*256/,
  },
  {
    title: 'CreateSubscription, unknown topic',
    call: createSubscription({ name: 'lost-sub', topic: 'no-such-topic' }),
    code: status.NOT_FOUND,
    details: /^subscription\.topic: topic "no-such-topic" not found/,
  },
  {
    title: 'CreateSubscription, duplicate',
    call: createSubscription({ name: subscription, topic }),
    code: status.ALREADY_EXISTS,
    details: /subscription "orders-sub" already exists/,
  },

  // UpdateSubscription.
  {
    title: 'UpdateSubscription without an update mask',
    call: updateSubscription({ name: subscription, ackDeadlineSeconds: 30 }, undefined),
    code: status.INVALID_ARGUMENT,
    details: /^update_mask: is required/,
  },
  {
    title: 'UpdateSubscription with an empty update mask',
    call: updateSubscription({ name: subscription, ackDeadlineSeconds: 30 }, []),
    code: status.INVALID_ARGUMENT,
    details: /^update_mask: must name at least one field/,
  },
  {
    title: 'UpdateSubscription of a field fixed at creation',
    call: updateSubscription({ name: subscription, filter: 'attributes:kind' }, ['filter']),
    code: status.INVALID_ARGUMENT,
    details: /^update_mask: "filter" cannot be updated/,
  },
  {
    title: 'UpdateSubscription with one updatable and one fixed path',
    call: updateSubscription({ name: subscription, ackDeadlineSeconds: 30, topic: deadLetters }, [
      'ack_deadline_seconds',
      'topic',
    ]),
    code: status.INVALID_ARGUMENT,
    details: /^update_mask: "topic" cannot be updated/,
  },
  {
    title: 'UpdateSubscription to an ack deadline of 601 s',
    call: updateSubscription({ name: subscription, ackDeadlineSeconds: 601 }, ['ack_deadline_seconds']),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.ack_deadline_seconds: /,
  },
  {
    title: 'UpdateSubscription of a missing subscription',
    call: updateSubscription({ name: 'no-such-sub', ackDeadlineSeconds: 30 }, ['ack_deadline_seconds']),
    code: status.NOT_FOUND,
    details: /subscription "no-such-sub" not found/,
  },

  // Seek.
  {
    title: 'Seek without a target',
    call: (r) => rpcStatus(r, r.seek, { subscription, target: undefined }),
    code: status.INVALID_ARGUMENT,
    details: /^target: one of position or time is required/,
  },
  {
    title: 'Seek to POSITION_UNSPECIFIED',
    call: (r) =>
      rpcStatus(r, r.seek, { subscription, target: { $case: 'position', value: Position.POSITION_UNSPECIFIED } }),
    code: status.INVALID_ARGUMENT,
    details: /^target: /,
  },
  {
    title: 'Seek to an unknown position',
    call: (r) => rpcStatus(r, r.seek, { subscription, target: { $case: 'position', value: 7 as Position } }),
    code: status.INVALID_ARGUMENT,
    details: /^position: unknown position 7/,
  },
  {
    title: 'Seek to year 275760',
    call: (r) => rpcStatus(r, r.seek, { subscription, target: { $case: 'time', value: new Date(8.64e15) } }),
    code: status.INVALID_ARGUMENT,
    details: /^time: must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z, not \+275760-09-13/,
  },
  {
    title: 'Seek to year -271821',
    call: (r) => rpcStatus(r, r.seek, { subscription, target: { $case: 'time', value: new Date(-8.64e15) } }),
    code: status.INVALID_ARGUMENT,
    details: /^time: must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z/,
  },
  {
    title: 'CreateSubscription starting in year 275760',
    call: createSubscription({ name: 'far-future', topic, start: { $case: 'startTime', value: new Date(8.64e15) } }),
    code: status.INVALID_ARGUMENT,
    details: /^subscription\.start_time: must be between 1970-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z/,
  },
  {
    title: 'Seek of a detached subscription',
    call: (r) =>
      rpcStatus(r, r.seek, {
        subscription: detached,
        target: { $case: 'position', value: Position.POSITION_EARLIEST },
      }),
    code: status.FAILED_PRECONDITION,
    details: /subscription "orphan-sub" is detached/,
  },
  {
    title: 'Seek of a missing subscription',
    call: (r) =>
      rpcStatus(r, r.seek, {
        subscription: 'no-such-sub',
        target: { $case: 'position', value: Position.POSITION_LATEST },
      }),
    code: status.NOT_FOUND,
    details: /subscription "no-such-sub" not found/,
  },
  {
    title: 'GetSubscription of a missing subscription',
    call: (r) => rpcStatus(r, r.getSubscription, { name: 'no-such-sub' }),
    code: status.NOT_FOUND,
    details: /subscription "no-such-sub" not found/,
  },

  // Lists.
  {
    title: 'ListTopics, page_size 1001',
    call: (r) => rpcStatus(r, r.listTopics, { pageSize: 1001, pageToken: '' }),
    code: status.INVALID_ARGUMENT,
    details: /^page_size: must be between 1 and 1000, not 1001/,
  },
  {
    title: 'ListTopics, negative page_size',
    call: (r) => rpcStatus(r, r.listTopics, { pageSize: -5, pageToken: '' }),
    code: status.INVALID_ARGUMENT,
    details: /^page_size: /,
  },
  {
    title: 'ListSubscriptions, page_size 1001',
    call: (r) => rpcStatus(r, r.listSubscriptions, { pageSize: 1001, pageToken: '', topic: '' }),
    code: status.INVALID_ARGUMENT,
    details: /^page_size: must be between 1 and 1000, not 1001/,
  },
  {
    title: 'ListTopics, forged page token',
    // A well-formed token for {"list":"topics","after":"z"} with a made-up checksum.
    call: (r) =>
      rpcStatus(r, r.listTopics, { pageSize: 2, pageToken: 'eyJsaXN0IjoidG9waWNzIiwiYWZ0ZXIiOiJ6In0.AAAAAAAAAAAA' }),
    code: status.INVALID_ARGUMENT,
    details: /^page_token: is not a token this API issued/,
  },
  {
    title: 'ListSubscriptions, garbage page token',
    call: (r) => rpcStatus(r, r.listSubscriptions, { pageSize: 2, pageToken: 'not-a-token', topic: '' }),
    code: status.INVALID_ARGUMENT,
    details: /^page_token: is not a token this API issued/,
  },
  {
    title: 'ListSubscriptions with a token of ListTopics',
    call: async (r) => {
      const { nextPageToken } = await rpc(r, r.listTopics, { pageSize: 1, pageToken: '' });
      assert.notEqual(nextPageToken, '', 'ListTopics gave a next page token');
      return rpcStatus(r, r.listSubscriptions, { pageSize: 1, pageToken: nextPageToken, topic: '' });
    },
    code: status.INVALID_ARGUMENT,
    details: /^page_token: belongs to a different list request/,
  },
  {
    title: 'ListSubscriptions, bad topic name',
    call: (r) => rpcStatus(r, r.listSubscriptions, { pageSize: 0, pageToken: '', topic: '7seas' }),
    code: status.INVALID_ARGUMENT,
    details: /^topic: must start with a letter/,
  },
  // IAM policies.
  ...(
    [
      ['SetIamPolicy without a policy', { resource: 'herald' }, /^policy: is required/],
      ['SetIamPolicy, bare name', setPolicy('orders', []), /^resource: must be herald, topics\/<name>/],
      ['SetIamPolicy, unknown collection', setPolicy('queues/orders', []), /^resource: must be herald/],
      ['SetIamPolicy, empty name', setPolicy('topics/', []), /^resource: must be herald/],
      ['SetIamPolicy, bad topic name', setPolicy('topics/7seas', []), /^resource: must start with a letter/],
      ['SetIamPolicy, unknown role', setPolicy('herald', [{ role: 'owner', members: ['jwt:a'] }]), /role.*not a role/],
      [
        'SetIamPolicy, member that names no principal',
        setPolicy('herald', [{ role: 'viewer', members: ['alice'] }]),
        /members\[0\]: must be jwt:<subject>/,
      ],
      [
        'SetIamPolicy, member of 513 characters',
        setPolicy('herald', [{ role: 'viewer', members: [`jwt:${'a'.repeat(509)}`] }]),
        /members\[0\]: must be 1 to 512 characters/,
      ],
      [
        'SetIamPolicy, 1,001 members',
        setPolicy('herald', [{ role: 'viewer', members: Array.from({ length: 1001 }, (_, i) => `jwt:u${i}`) }]),
        /^policy\.bindings: name 1001 members; the limit is 1000/,
      ],
      ['GetIamPolicy, bare name', { resource: 'orders' }, /^resource: must be herald/, 'get'],
      ['TestIamPermissions, bad name', { resource: 'topic/orders', permissions: [] }, /^resource: must be/, 'test'],
      [
        'TestIamPermissions, 101 permissions',
        { resource: 'herald', permissions: Array.from({ length: 101 }, () => 'topics.get') },
        /^permissions: names 101; the limit is 100/,
        'test',
      ],
    ] as Array<[string, Record<string, unknown>, RegExp, ('get' | 'test')?]>
  ).map(([title, request, details, rpcName]): Row => ({
    title,
    call: (r) =>
      rpcName === 'get'
        ? rpcStatus(r, r.getIamPolicy, request as { resource: string })
        : rpcName === 'test'
          ? rpcStatus(r, r.testIamPermissions, request as { resource: string; permissions: string[] })
          : rpcStatus(r, r.setIamPolicy, request as { resource: string }),
    code: status.INVALID_ARGUMENT,
    details,
  })),
  {
    title: 'SetIamPolicy on a subscription that does not exist',
    call: (r) => rpcStatus(r, r.setIamPolicy, setPolicy('subscriptions/nope-sub', [])),
    code: status.NOT_FOUND,
    details: /^resource: subscription "nope-sub" not found/,
  },
  {
    title: 'SetIamPolicy with a made-up etag',
    call: (r) => rpcStatus(r, r.setIamPolicy, setPolicy(`topics/${topic}`, [], 'not-an-etag')),
    code: status.ABORTED,
    details: /changed since it was read/,
  },
];

describe('subscriber-registry: bad input (one instance, 3-broker Kafka)', function () {
  this.timeout(120_000);
  const prefix = `${uniqueName('badin')}.`;
  let registryProcess: ServiceProcess;
  let registry: SubscriberRegistryServiceClient;

  before(async () => {
    registryProcess = await ServiceProcess.start({
      service: 'subscriber-registry',
      port: await freePort(),
      logFile: path.join(heraldHome, 'test', 'logs', `${prefix}registry.log`),
      env: {
        KAFKA_BROKERS: testKafka().brokers.join(','),
        HERALD_TOPIC_PREFIX: prefix,
        HERALD_INSTANCE_ID: 'registry-bad-input',
      },
    });
    registry = new SubscriberRegistryServiceClient(registryProcess.address, credentials.createInsecure());
    for (const name of [topic, deadLetters, 'doomed']) {
      await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name, partitions: 1 }) });
    }
    await rpc(registry, registry.createSubscription, {
      subscription: Subscription.fromPartial({ name: subscription, topic, ackDeadlineSeconds: 20 }),
    });
    await rpc(registry, registry.createSubscription, {
      subscription: Subscription.fromPartial({ name: detached, topic: 'doomed' }),
    });
    await rpc(registry, registry.deleteTopic, { name: 'doomed' });
  });

  after(async () => {
    registry?.close();
    await registryProcess?.stop();
  });

  for (const row of rows) {
    it(`${row.title}: ${status[row.code]}`, async () => {
      const outcome = await row.call(registry);
      assert.equal(outcome.codeName, status[row.code], `${row.title}: ${outcome.details}`);
      assert.match(outcome.details, row.details, row.title);
    });
  }

  it('still serves after every bad request, and wrote nothing for any of them', async () => {
    assert.ok(registryProcess.running, 'the registry process is still running');
    assert.equal(await checkHealth(registryProcess.address), 'SERVING');

    const { topics, nextPageToken } = await rpc(registry, registry.listTopics, { pageSize: 1000, pageToken: '' });
    assert.equal(nextPageToken, '');
    assert.deepEqual(
      topics.map((t) => t.name),
      [defaultPartitions, topic, deadLetters].sort(),
      'only the topics created on purpose exist',
    );
    assert.equal(topics.find((t) => t.name === defaultPartitions)?.partitions, 3, 'partitions 0 means the default, 3');
    const { subscriptions } = await rpc(registry, registry.listSubscriptions, {
      pageSize: 1000,
      pageToken: '',
      topic: '',
    });
    assert.deepEqual(subscriptions.map((s) => s.name).sort(), [detached, subscription].sort());
    const unchanged = subscriptions.find((s) => s.name === subscription)!;
    assert.equal(unchanged.ackDeadlineSeconds, 20, 'refused updates changed nothing');
    assert.equal(unchanged.filter, '');
    assert.equal(unchanged.topic, topic);

    // And good requests still work, writes included.
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'after-the-storm', partitions: 2 }) });
    const { subscription: created } = await rpc(registry, registry.createSubscription, {
      subscription: Subscription.fromPartial({
        name: 'after-the-storm-sub',
        topic: 'after-the-storm',
        ackDeadlineSeconds: 600,
        filter: 'attributes.kind = "a"',
        deadLetterPolicy: { deadLetterTopic: deadLetters, maxDeliveryAttempts: 100 },
        retryPolicy: { minimumBackoff: seconds(600), maximumBackoff: seconds(600) },
      }),
    });
    assert.equal(created?.ackDeadlineSeconds, 600);
    assert.equal(created?.startOffsets.length, 2);
    const { subscription: updated } = await rpc(registry, registry.updateSubscription, {
      subscription: Subscription.fromPartial({ name: subscription, ackDeadlineSeconds: 10 }),
      updateMask: ['ack_deadline_seconds'],
    });
    assert.equal(updated?.ackDeadlineSeconds, 10);
    const { subscription: seeked } = await rpc(registry, registry.seek, {
      subscription,
      target: { $case: 'time', value: new Date() },
    });
    assert.ok(seeked?.lastSeek, 'the seek was recorded');
    const { policy } = await rpc(registry, registry.getIamPolicy, { resource: `topics/${topic}` });
    assert.deepEqual(policy?.bindings, [], 'no refused SetIamPolicy wrote a policy');
    const { policy: set } = await rpc(registry, registry.setIamPolicy, {
      resource: `topics/${topic}`,
      policy: { bindings: [{ role: 'viewer', members: ['jwt:b', 'jwt:a', 'jwt:a'] }], etag: policy!.etag },
    });
    assert.deepEqual(set?.bindings, [{ role: 'viewer', members: ['jwt:a', 'jwt:b'] }]);
  });
});
