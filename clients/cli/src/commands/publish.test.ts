import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { HeraldClientError } from '@herald/client';
import { FakeClients, runCli, until } from '../testing/fake-cli';

describe('herald publish', () => {
  const published = (clients: FakeClients) =>
    clients.calls.filter(([name]) => name === 'publish').map(([, topic, message]) => ({ topic, message }));

  it('publishes each argument with the attributes and keys given', async () => {
    const clients = new FakeClients();
    const result = await runCli(
      ['publish', 'orders', 'first', 'second', '-a', 'region=eu', '-a', 'kind=order', '-k', 'acct-1', '-i', 'batch-7'],
      clients,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(published(clients), [
      {
        topic: 'orders',
        message: {
          data: 'first',
          attributes: { region: 'eu', kind: 'order' },
          orderingKey: 'acct-1',
          idempotencyKey: 'batch-7-1',
        },
      },
      {
        topic: 'orders',
        message: {
          data: 'second',
          attributes: { region: 'eu', kind: 'order' },
          orderingKey: 'acct-1',
          idempotencyKey: 'batch-7-2',
        },
      },
    ]);
    assert.match(result.stdout, /│ 1 +│ id-first +│/);
    assert.match(result.stdout, /Published 2 messages to "orders"/);
  });

  it('uses an idempotency key as given for a single message, and leaves it to the SDK otherwise', async () => {
    const clients = new FakeClients();
    await runCli(['publish', 'orders', 'only', '-i', 'order-42'], clients);
    await runCli(['publish', 'orders', 'plain'], clients);
    const [single, plain] = published(clients);
    assert.equal((single!.message as { idempotencyKey: string }).idempotencyKey, 'order-42');
    assert.equal((plain!.message as { idempotencyKey?: string }).idempotencyKey, undefined);
  });

  it('reads a file one message per line, skipping blank lines, and prints JSON in input order', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-cli-'));
    const file = path.join(dir, 'messages.txt');
    writeFileSync(file, 'one\r\ntwo\n\nthree\n');
    // The first message is acknowledged last: the output still follows the file.
    let release: () => void = () => {};
    const first = new Promise<void>((resolve) => (release = resolve));
    const clients = new FakeClients({}, async (_topic, message) => {
      if (message.data === 'one') await first;
      else setTimeout(release, 10);
      return `id-${String(message.data)}`;
    });
    const result = await runCli(['publish', 'orders', '--file', file, '--json'], clients);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.json(), [
      { line: 1, messageId: 'id-one' },
      { line: 2, messageId: 'id-two' },
      { line: 4, messageId: 'id-three' },
    ]);
  });

  it('reads stdin when given neither arguments nor a file', async () => {
    const clients = new FakeClients();
    const result = await runCli(['publish', 'orders', '--json'], clients, { stdin: 'a\nb\n' });
    assert.deepEqual(result.json(), [
      { line: 1, messageId: 'id-a' },
      { line: 2, messageId: 'id-b' },
    ]);
  });

  it('exits 2 for an unreadable file, or both arguments and a file', async () => {
    const missing = await runCli(['publish', 'orders', '-f', '/nonexistent/messages.txt'], new FakeClients());
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read \/nonexistent\/messages.txt: ENOENT/);
    const both = await runCli(['publish', 'orders', 'x', '-f', 'messages.txt'], new FakeClients());
    assert.equal(both.code, 2);
  });

  it('exits with the status of the first failure, naming its line', async () => {
    const clients = new FakeClients({}, async (_topic, message) => {
      if (message.data === 'bad') throw new HeraldClientError(3, 'data: may be empty only with attributes');
      return 'id';
    });
    const result = await runCli(['publish', 'orders', 'good', 'bad'], clients);
    assert.equal(result.code, 3);
    assert.match(result.stderr, /^herald: INVALID_ARGUMENT: data: may be empty only with attributes \(argument 2\)\n$/);
    assert.match(result.stdout, /Published 1 message to "orders"/);
  });

  it('refuses an attribute without "="', async () => {
    const result = await runCli(['publish', 'orders', 'x', '-a', 'region'], new FakeClients());
    assert.equal(result.code, 2);
    assert.match(result.stderr, /expected key=value/);
  });

  it("names no input line for a failure that is not the message's own (NOT_FOUND: the topic)", async () => {
    const clients = new FakeClients({}, async () => {
      throw new HeraldClientError(5, 'topic "orders" not found');
    });
    const result = await runCli(['publish', 'orders', 'hello'], clients);
    assert.equal(result.code, 5);
    assert.equal(result.stderr, 'herald: NOT_FOUND: topic "orders" not found\n');
  });

  it('says how many were published when Ctrl-C stops a publish from an open pipe, and exits 130', async () => {
    const clients = new FakeClients();
    const pipe = new PassThrough();
    const result = await runCli(['publish', 'orders'], clients, {
      stdin: pipe,
      whileRunning: async ({ interrupt }) => {
        pipe.write('one\ntwo\nthree\n');
        await until(() => clients.calls.length === 3);
        interrupt();
      },
    });
    assert.equal(result.code, 130);
    assert.match(result.stdout, /Published 3 messages to "orders"/);
    assert.equal(
      result.stderr,
      'herald: interrupted: published 3 messages to "orders"; the rest of stdin was not read\n',
    );
    assert.equal(pipe.destroyed, true);
  });
});
