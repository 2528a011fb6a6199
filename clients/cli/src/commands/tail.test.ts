import assert from 'node:assert/strict';
import { Position } from '@herald/api';
import { FakeClients, messageProto, runCli, until } from '../testing/fake-cli';

describe('herald tail', () => {
  it('streams a line per message until --count, then cancels the call', async () => {
    const clients = new FakeClients();
    const result = await runCli(
      ['tail', 'orders', '-n', '2', '--from', 'earliest', '--filter', 'attributes:k'],
      clients,
      {
        whileRunning: async () => {
          await until(() => clients.tails.length === 1);
          const { call } = clients.tails[0]!;
          call.emit('data', { messages: [messageProto('m-1', 'one', { deliveryAttempt: 0, ackId: '' })] });
          call.emit('data', {
            messages: [
              messageProto('m-2', 'two', { deliveryAttempt: 0, attributes: { k: 'v' } }),
              messageProto('m-3', 'three'),
            ],
          });
        },
      },
    );
    assert.equal(result.code, 0, result.stderr);
    const { request, call } = clients.tails[0]!;
    assert.deepEqual(request, {
      topic: 'orders',
      filter: 'attributes:k',
      start: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    assert.equal(call.cancelled, true);
    assert.equal(result.stdout, '2026-05-01T10:00:00.000Z  m-1  one\n2026-05-01T10:00:00.000Z  m-2  [k=v]  two\n');
    assert.equal(result.stderr, 'Tailing "orders" from earliest; Ctrl-C stops.\n');
  });

  it('prints JSON lines with --json, and ends with the stream', async () => {
    const clients = new FakeClients();
    const result = await runCli(['tail', 'orders', '--json', '--from', '2026-05-01T09:00:00Z'], clients, {
      whileRunning: async () => {
        await until(() => clients.tails.length === 1);
        const { call } = clients.tails[0]!;
        call.emit('data', { messages: [messageProto('m-1', 'one', { deliveryAttempt: 0 })] });
        call.emit('end');
      },
    });
    assert.equal(result.code, 0);
    assert.deepEqual(result.json(), [{ messageId: 'm-1', publishTime: '2026-05-01T10:00:00.000Z', data: 'one' }]);
    assert.deepEqual(clients.tails[0]!.request.start, { $case: 'time', value: new Date('2026-05-01T09:00:00Z') });
    assert.equal(result.stderr, '');
  });

  it('tries the next dispatcher when one is unavailable, and exits with the status when all are', async () => {
    const clients = new FakeClients();
    clients.dispatcherCount = 2;
    const unavailable = Object.assign(new Error('down'), { code: 14, details: 'No connection established' });
    const result = await runCli(['tail', 'orders'], clients, {
      whileRunning: async () => {
        await until(() => clients.tails.length === 1);
        clients.tails[0]!.call.emit('error', unavailable);
        await until(() => clients.tails.length === 2);
        clients.tails[1]!.call.emit('error', unavailable);
      },
    });
    assert.deepEqual(
      clients.calls.map(([name, , attempt]) => [name, attempt]),
      [
        ['tail', 0],
        ['tail', 1],
      ],
    );
    assert.equal(result.code, 14);
  });

  it('exits 5 for a missing topic', async () => {
    const clients = new FakeClients();
    const result = await runCli(['tail', 'missing'], clients, {
      whileRunning: async () => {
        await until(() => clients.tails.length === 1);
        clients.tails[0]!.call.emit(
          'error',
          Object.assign(new Error('nf'), { code: 5, details: 'topic "missing" not found' }),
        );
      },
    });
    assert.equal(result.code, 5);
    assert.match(result.stderr, /herald: NOT_FOUND: topic "missing" not found/);
  });
});
