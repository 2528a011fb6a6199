import assert from 'node:assert/strict';
import { HeraldClientError } from '@herald/client';
import { FakeClients, messageProto, runCli, until } from '../testing/fake-cli';

describe('herald pull', () => {
  it('receives --count messages, acks them with --ack, and prints a table', async () => {
    const clients = new FakeClients();
    const result = await runCli(['pull', 'audit', '-n', '2', '--ack'], clients, {
      whileRunning: async () => {
        await until(() => clients.subscribers.length === 1);
        clients.subscribers[0]!.deliver(
          messageProto('m-1', 'one'),
          messageProto('m-2', 'two'),
          messageProto('m-3', 'three'),
        );
      },
    });
    assert.equal(result.code, 0, result.stderr);
    const subscriber = clients.subscribers[0]!;
    assert.deepEqual(subscriber.acked, ['m-1', 'm-2']);
    assert.equal(subscriber.closed, true);
    assert.deepEqual(clients.calls[0], [
      'subscriber',
      { subscription: 'audit', flowControl: { maxOutstandingMessages: 2 }, closeTimeoutMillis: 0 },
    ]);
    assert.match(result.stdout, /│ 1 │ m-1 +│ 2026-05-01T10:00:00.000Z │ 1 +│ +│ +│ one +│/);
    assert.match(result.stdout, /2 messages, acknowledged\./);
    assert.doesNotMatch(result.stdout, /m-3/);
  });

  it('leaves messages unacknowledged by default, and prints JSON lines as they come', async () => {
    const clients = new FakeClients();
    const result = await runCli(['pull', 'audit', '-n', '1', '--json'], clients, {
      whileRunning: async () => {
        await until(() => clients.subscribers.length === 1);
        clients.subscribers[0]!.deliver(messageProto('m-1', 'one', { attributes: { k: 'v' } }));
      },
    });
    assert.deepEqual(result.json(), [
      {
        messageId: 'm-1',
        publishTime: '2026-05-01T10:00:00.000Z',
        data: 'one',
        attributes: { k: 'v' },
        deliveryAttempt: 1,
      },
    ]);
    assert.deepEqual(clients.subscribers[0]!.acked, []);
  });

  it('stops at the timeout with what it got', async () => {
    const clients = new FakeClients();
    const started = Date.now();
    const result = await runCli(['pull', 'audit', '-n', '5', '--timeout', '200ms'], clients);
    assert.ok(Date.now() - started >= 190);
    assert.equal(result.stdout, 'No messages on "audit" within 200ms.\n');
  });

  it('with --ack and a count beyond the lease window, acks early messages at once, but only as many as keep the total at the count', async () => {
    const clients = new FakeClients();
    const count = 1_005;
    const result = await runCli(['pull', 'big', '-n', String(count), '--ack', '--json'], clients, {
      whileRunning: async () => {
        await until(() => clients.subscribers.length === 1);
        const subscriber = clients.subscribers[0]!;
        for (let i = 0; i < 10; i++) subscriber.deliver(messageProto(`m-${i}`, 'x'));
        // 1005 - window 1000 = 5 acked straight away; the rest wait for the end.
        assert.equal(subscriber.acked.length, 5);
        for (let i = 10; i < count; i++) subscriber.deliver(messageProto(`m-${i}`, 'x'));
      },
    });
    assert.equal(result.json().length, count);
    assert.equal(clients.subscribers[0]!.acked.length, count);
  });

  it("exits with the subscriber's error status (NOT_FOUND: 5)", async () => {
    const clients = new FakeClients();
    const result = await runCli(['pull', 'missing'], clients, {
      whileRunning: async () => {
        await until(() => clients.subscribers.length === 1);
        clients.subscribers[0]!.emit('error', new HeraldClientError(5, 'subscription "missing" not found'));
      },
    });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /NOT_FOUND: subscription "missing" not found/);
  });

  it('exits 14 when no dispatcher accepts a connection, in one line naming the address', async () => {
    const clients = new FakeClients();
    clients.unreachableLines.dispatcher = 'cannot reach the dispatcher at 127.0.0.1:1 (connection refused)';
    const result = await runCli(['pull', 'audit'], clients);
    assert.equal(result.code, 14);
    assert.equal(
      result.stderr,
      'herald: UNAVAILABLE: cannot reach the dispatcher at 127.0.0.1:1 (connection refused)\n',
    );
    assert.equal(clients.subscribers.length, 0);
  });

  it('exits 14 rather than 0 with "No messages" when no dispatcher is serving (an outage)', async () => {
    const clients = new FakeClients();
    clients.notServing = '127.0.0.1:50053 (NOT_SERVING)';
    const result = await runCli(['pull', 'audit', '--timeout', '100ms'], clients);
    assert.equal(result.code, 14);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^herald: UNAVAILABLE: no dispatcher is serving: 127\.0\.0\.1:50053 \(NOT_SERVING\)[^\n]*\n$/,
    );
  });

  it('shows what came before an outage, then exits 14', async () => {
    const clients = new FakeClients();
    clients.notServing = '127.0.0.1:50053 (NOT_SERVING)';
    const result = await runCli(['pull', 'audit', '-n', '5', '--timeout', '100ms'], clients, {
      whileRunning: async () => {
        await until(() => clients.subscribers.length === 1);
        clients.subscribers[0]!.deliver(messageProto('m-1', 'one'));
      },
    });
    assert.equal(result.code, 14);
    assert.match(result.stdout, /m-1/);
    assert.match(result.stderr, /UNAVAILABLE: no dispatcher is serving/);
  });

  it('shows the first 20 messages of a big pull in the table, and how many were left out', async () => {
    const clients = new FakeClients();
    const result = await runCli(['pull', 'audit', '-n', '1500'], clients, {
      whileRunning: async () => {
        await until(() => clients.subscribers.length === 1);
        clients.subscribers[0]!.deliver(
          ...Array.from({ length: 1500 }, (_, i) => messageProto(`m-${i + 1}`, `data ${i}`)),
        );
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /│ 20 │ m-20 /);
    assert.doesNotMatch(result.stdout, /m-21 /);
    assert.match(
      result.stdout,
      /\.\.\. and 1,480 more not shown \(--json prints every message\)\.\n1500 messages, not acknowledged/,
    );
  });
});
