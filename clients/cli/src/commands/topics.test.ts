import assert from 'node:assert/strict';
import { FakeClients, runCli, topic } from '../testing/fake-cli';

describe('herald topics', () => {
  it('create passes the name, partitions and retention, and shows the topic', async () => {
    const clients = new FakeClients({ createTopic: async () => topic('orders', 6) });
    const result = await runCli(['topics', 'create', 'orders', '-p', '6', '--retention', '2d'], clients);
    assert.equal(result.code, 0);
    assert.deepEqual(clients.calls, [['createTopic', { name: 'orders', partitions: 6, retentionMillis: 172_800_000 }]]);
    assert.match(result.stdout, /partitions +│ 6/);
  });

  it("create leaves unset what the registry's defaults decide", async () => {
    const clients = new FakeClients({ createTopic: async () => topic('orders') });
    await runCli(['topics', 'create', 'orders'], clients);
    assert.deepEqual(clients.calls[0], [
      'createTopic',
      { name: 'orders', partitions: undefined, retentionMillis: undefined },
    ]);
  });

  it('create refuses a bad partition count or retention before calling anything', async () => {
    for (const argv of [
      ['topics', 'create', 'orders', '-p', 'many'],
      ['topics', 'create', 'orders', '--retention', 'forever'],
    ]) {
      const clients = new FakeClients();
      const result = await runCli(argv, clients);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /is invalid/);
      assert.deepEqual(clients.calls, []);
    }
  });

  it('list shows a table, or one JSON object per line', async () => {
    const clients = new FakeClients({
      listTopics: async function* () {
        yield topic('orders');
        yield topic('payments');
      },
    });
    const table = await runCli(['topics', 'ls'], clients);
    assert.match(table.stdout, /│ orders +│ 3 /);
    assert.match(table.stdout, /│ payments │ 3 /);
    const json = await runCli(['topics', 'list', '--json'], clients);
    assert.deepEqual(
      json.json().map((t) => (t as { name: string }).name),
      ['orders', 'payments'],
    );
  });

  it('delete says what it deleted', async () => {
    const clients = new FakeClients({ deleteTopic: async () => undefined });
    const result = await runCli(['topics', 'rm', 'orders'], clients);
    assert.equal(result.stdout, 'Deleted topic "orders".\n');
    const json = await runCli(['--json', 'topics', 'delete', 'orders'], clients);
    assert.deepEqual(json.json(), [{ name: 'orders', deleted: true }]);
  });

  it('fails at once with 14 and one line when the registry cannot be reached, calling nothing', async () => {
    const clients = new FakeClients();
    clients.unreachableLines.registry = 'cannot reach the subscriber registry at 127.0.0.1:1 (connection refused)';
    const result = await runCli(['topics', 'create', 'orders'], clients);
    assert.equal(result.code, 14);
    assert.equal(
      result.stderr,
      'herald: UNAVAILABLE: cannot reach the subscriber registry at 127.0.0.1:1 (connection refused)\n',
    );
    assert.deepEqual(clients.calls, []);
  });
});
