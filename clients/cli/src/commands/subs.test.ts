import assert from 'node:assert/strict';
import { SubscriptionStats } from '@herald/api';
import { FakeClients, runCli, subscription } from '../testing/fake-cli';

describe('herald subs', () => {
  it('create passes every option to the SDK', async () => {
    const clients = new FakeClients({ createSubscription: async () => subscription('audit', 'orders') });
    const result = await runCli(
      [
        'subs',
        'create',
        'audit',
        '--topic',
        'orders',
        '--ack-deadline',
        '30',
        '--min-backoff',
        '500ms',
        '--dead-letter-topic',
        'orders-dead',
        '--max-delivery-attempts',
        '7',
        '--ordering',
        '--exactly-once',
        '--filter',
        'attributes.region = "eu"',
        '--start',
        '2026-05-01T10:00:00Z',
      ],
      clients,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(clients.calls, [
      [
        'createSubscription',
        {
          name: 'audit',
          topic: 'orders',
          ackDeadlineSeconds: 30,
          retryPolicy: { minimumBackoffMillis: 500, maximumBackoffMillis: 60_000 },
          deadLetterPolicy: { deadLetterTopic: 'orders-dead', maxDeliveryAttempts: 7 },
          enableMessageOrdering: true,
          enableExactlyOnceDelivery: true,
          filter: 'attributes.region = "eu"',
          startAt: new Date('2026-05-01T10:00:00Z'),
          push: undefined,
        },
      ],
    ]);
  });

  it('create makes a push subscription with --push-endpoint or --push-grpc', async () => {
    const clients = new FakeClients({ createSubscription: async () => subscription('hook', 'orders') });
    const http = await runCli(
      [
        'subs',
        'create',
        'hook',
        '-t',
        'orders',
        '--push-endpoint',
        'https://hooks.example.com/in',
        '--push-mode',
        'structured',
        '--push-audience',
        'my-service',
        '--push-max-outstanding',
        '20',
      ],
      clients,
    );
    assert.equal(http.code, 0, http.stderr);
    assert.deepEqual((clients.calls[0]![1] as { push: unknown }).push, {
      endpoint: 'https://hooks.example.com/in',
      mode: 'structured',
      audience: 'my-service',
      maxOutstanding: 20,
    });
    const grpc = await runCli(
      ['subs', 'create', 'hook2', '-t', 'orders', '--push-grpc', 'push.example.com:443'],
      clients,
    );
    assert.equal(grpc.code, 0, grpc.stderr);
    assert.deepEqual((clients.calls[1]![1] as { push: unknown }).push, { grpcTarget: 'push.example.com:443' });
  });

  const refused: Array<[string[], RegExp]> = [
    [['--push-endpoint', 'https://a.example', '--push-grpc', 'b:1'], /one of --push-endpoint and --push-grpc/],
    [['--push-mode', 'structured'], /--push-mode and --push-audience need --push-endpoint/],
    [['--push-endpoint', 'https://a.example', '--push-mode', 'json'], /--push-mode is binary or structured/],
    [['--push-max-outstanding', '5'], /--push-max-outstanding needs --push-endpoint or --push-grpc/],
  ];
  for (const [args, message] of refused) {
    it(`create refuses ${args.join(' ')}`, async () => {
      const result = await runCli(['subs', 'create', 'a', '-t', 'o', ...args], new FakeClients());
      assert.equal(result.code, 2);
      assert.match(result.stderr, message);
    });
  }

  it('update switches to push, and back to pull with --pull', async () => {
    const clients = new FakeClients({ updateSubscription: async () => subscription('audit', 'orders') });
    const push = await runCli(['subs', 'update', 'audit', '--push-grpc', 'grpc://10.1.2.3:50051'], clients);
    assert.equal(push.code, 0, push.stderr);
    assert.deepEqual(clients.calls[0], [
      'updateSubscription',
      'audit',
      { deadLetterPolicy: undefined, push: { grpcTarget: 'grpc://10.1.2.3:50051' } },
    ]);
    const pull = await runCli(['subs', 'update', 'audit', '--pull'], clients);
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(clients.calls[1], ['updateSubscription', 'audit', { deadLetterPolicy: undefined, push: null }]);
    const both = await runCli(['subs', 'update', 'audit', '--pull', '--push-endpoint', 'https://a.example'], clients);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /--pull switches push off/);
  });

  it('update switches exactly-once delivery on with --exactly-once and off with --no-exactly-once', async () => {
    const clients = new FakeClients({ updateSubscription: async () => subscription('audit', 'orders') });
    const on = await runCli(['subs', 'update', 'audit', '--exactly-once'], clients);
    assert.equal(on.code, 0, on.stderr);
    assert.deepEqual(clients.calls[0], [
      'updateSubscription',
      'audit',
      { deadLetterPolicy: undefined, enableExactlyOnceDelivery: true },
    ]);
    const off = await runCli(['subs', 'update', 'audit', '--no-exactly-once'], clients);
    assert.equal(off.code, 0, off.stderr);
    assert.deepEqual(clients.calls[1], [
      'updateSubscription',
      'audit',
      { deadLetterPolicy: undefined, enableExactlyOnceDelivery: false },
    ]);
  });

  it('create needs --topic, and starts at latest by default', async () => {
    const missing = await runCli(['subs', 'create', 'audit'], new FakeClients());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /required option '-t, --topic <topic>' not specified/);
    const clients = new FakeClients({ createSubscription: async () => subscription('audit', 'orders') });
    await runCli(['subscriptions', 'create', 'audit', '-t', 'orders'], clients);
    assert.equal((clients.calls[0]![1] as { startAt: unknown }).startAt, 'latest');
  });

  it('create refuses --max-delivery-attempts without a dead-letter topic', async () => {
    const result = await runCli(['subs', 'create', 'a', '-t', 'o', '--max-delivery-attempts', '5'], new FakeClients());
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--max-delivery-attempts needs --dead-letter-topic/);
  });

  it('update with one backoff bound keeps the other from the subscription', async () => {
    const current = subscription('audit', 'orders');
    current.retryPolicy = { minimumBackoff: { seconds: '2', nanos: 0 }, maximumBackoff: { seconds: '30', nanos: 0 } };
    const clients = new FakeClients({
      getSubscription: async () => current,
      updateSubscription: async () => current,
    });
    const result = await runCli(['subs', 'update', 'audit', '--max-backoff', '2m', '--ack-deadline', '60'], clients);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(clients.calls[1], [
      'updateSubscription',
      'audit',
      {
        ackDeadlineSeconds: 60,
        deadLetterPolicy: undefined,
        retryPolicy: { minimumBackoffMillis: 2_000, maximumBackoffMillis: 120_000 },
      },
    ]);
  });

  it('update with nothing to change is a usage error', async () => {
    const clients = new FakeClients();
    const result = await runCli(['subs', 'update', 'audit'], clients);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /nothing to change/);
  });

  it('list filters by topic', async () => {
    const clients = new FakeClients({
      listSubscriptions: async function* () {
        yield subscription('audit', 'orders');
      },
    });
    const result = await runCli(['subs', 'list', '--topic', 'orders'], clients);
    assert.deepEqual(clients.calls, [
      ['listSubscriptions', 'orders'],
      ['subscriptionStats', ['audit']],
    ]);
    assert.match(result.stdout, /│ audit │ orders │ 10s/);
  });

  it("shows each subscription's backlog and oldest unacknowledged age from the dispatchers", async () => {
    const clients = new FakeClients({
      getSubscription: async () => subscription('audit', 'orders'),
      listSubscriptions: async function* () {
        yield subscription('audit', 'orders');
        yield subscription('billing', 'orders');
      },
    });
    clients.stats = new Map([
      [
        'audit',
        SubscriptionStats.fromPartial({
          subscription: 'audit',
          numUndeliveredMessages: '42',
          oldestUnackedMessageAge: { seconds: '200', nanos: 400_000_000 },
          numAckPending: '7',
          openStreams: 2,
          servedBy: '10.0.0.5:50053',
          counts: { delivered: '50', acknowledged: '43' },
        }),
      ],
    ]);
    const list = await runCli(['subs', 'list'], clients);
    assert.match(list.stdout, /│ audit +│ orders │ .* │ 42 +│ 3m20s +│/);
    assert.match(list.stdout, /│ billing +│ orders │ .* │ \? +│ \? +│/, 'not reported: not served at the moment');
    const get = await runCli(['subs', 'get', 'audit'], clients);
    assert.match(get.stdout, /backlog \(not acknowledged\) +│ 42/);
    assert.match(get.stdout, /oldest unacknowledged +│ 3m20s/);
    assert.match(get.stdout, /awaiting ack +│ 7/);
    assert.match(get.stdout, /served by +│ 10.0.0.5:50053/);
    const json = (await runCli(['subs', 'get', 'audit', '--json'], clients)).json() as Array<{ stats: unknown }>;
    assert.deepEqual((json[0]!.stats as Record<string, unknown>).oldestUnackedMessageAge, '200.400s');
    assert.equal((json[0]!.stats as Record<string, unknown>).numUndeliveredMessages, '42');
  });

  it('still shows the settings when no dispatcher answers, saying why the backlog is missing', async () => {
    const clients = new FakeClients({ getSubscription: async () => subscription('audit', 'orders') });
    clients.stats = Object.assign(new Error('connect failed'), { details: 'No connection established' });
    const get = await runCli(['subs', 'get', 'audit'], clients);
    assert.equal(get.code, 0);
    assert.match(get.stdout, /backlog +│ unknown \(no dispatcher answered: No connection established\)/);
    const json = (await runCli(['subs', 'get', 'audit', '--json'], clients)).json() as Array<{ stats: unknown }>;
    assert.equal(json[0]!.stats, null);
  });

  it('seek takes earliest, latest or a time', async () => {
    const clients = new FakeClients({ seek: async () => subscription('audit', 'orders') });
    const earliest = await runCli(['subs', 'seek', 'audit', 'earliest'], clients);
    assert.equal(earliest.stdout, 'Moved subscription "audit" to earliest.\n');
    await runCli(['subs', 'seek', 'audit', '2026-05-01T10:00:00Z'], clients);
    assert.deepEqual(clients.calls[1], ['seek', 'audit', new Date('2026-05-01T10:00:00Z')]);
    const bad = await runCli(['subs', 'seek', 'audit', 'tomorrow'], clients);
    assert.equal(bad.code, 2);
  });

  it('get and delete', async () => {
    const clients = new FakeClients({
      getSubscription: async () => subscription('audit', 'orders'),
      deleteSubscription: async () => undefined,
    });
    const get = await runCli(['subs', 'get', 'audit'], clients);
    assert.match(get.stdout, /start offsets \(partition:offset\) │ 0:0 1:4/);
    const deleted = await runCli(['subs', 'delete', 'audit', '--json'], clients);
    assert.deepEqual(deleted.json(), [{ name: 'audit', deleted: true }]);
  });
});
