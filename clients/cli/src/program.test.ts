import assert from 'node:assert/strict';
import { HeraldClientError } from '@herald/client';
import { FakeClients, runCli, topic } from './testing/fake-cli';

describe('herald (the program)', () => {
  it('prints help, with the exit codes, and exits 0', async () => {
    const result = await runCli(['--help'], new FakeClients());
    assert.equal(result.code, 0);
    assert.match(result.stdout, /Usage: herald \[options\] \[command\]/);
    assert.match(result.stdout, /5 NOT_FOUND/);
  });

  it('prints its version', async () => {
    const result = await runCli(['--version'], new FakeClients());
    assert.deepEqual([result.code, result.stdout], [0, '0.1.0\n']);
  });

  for (const argv of [
    ['nonsense'],
    ['topics', 'create'],
    ['topics', 'get', 'a', 'b'],
    ['topics', 'list', '--bogus'],
    ['topics'],
  ]) {
    it(`exits 2 on a usage error: herald ${argv.join(' ')}`, async () => {
      const clients = new FakeClients();
      const result = await runCli(argv, clients);
      assert.equal(result.code, 2);
      assert.notEqual(result.stderr, '');
      assert.deepEqual(clients.calls, []);
    });
  }

  it('exits with the gRPC status code of a failed call, and says why on stderr', async () => {
    const clients = new FakeClients({
      getTopic: () => Promise.reject(new HeraldClientError(5, 'topic "missing-topic" not found')),
    });
    const result = await runCli(['topics', 'get', 'missing-topic'], clients);
    assert.equal(result.code, 5);
    assert.equal(result.stderr, 'herald: NOT_FOUND: topic "missing-topic" not found\n');
    assert.equal(result.stdout, '');
    assert.equal(clients.closed, true);
  });

  it('connects to endpoints from flags, else environment variables, else the make run ports', async () => {
    const clients = new FakeClients({ getTopic: async () => topic('orders') });
    const result = await runCli(['topics', 'get', 'orders', '--registry', 'r1:1,r2:2'], clients, {
      env: { HERALD_REGISTRY: 'env:9', HERALD_PUBLISHER: 'p:7' },
    });
    assert.deepEqual(result.endpoints, {
      registry: ['r1:1', 'r2:2'],
      publisher: ['p:7'],
      dispatcher: ['127.0.0.1:50053'],
    });
  });

  it('exits 2 and names the variable holding a bad endpoint', async () => {
    const result = await runCli(['topics', 'list'], new FakeClients(), { env: { HERALD_REGISTRY: 'nope' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /HERALD_REGISTRY: "nope" is not host:port/);
  });

  it('takes global options before or after the command', async () => {
    const clients = new FakeClients({ getTopic: async () => topic('orders') });
    for (const argv of [
      ['--json', 'topics', 'get', 'orders'],
      ['topics', 'get', 'orders', '--json'],
    ]) {
      const result = await runCli(argv, clients);
      assert.equal((result.json()[0] as { name: string }).name, 'orders');
    }
  });
});
