import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { testKafka, uniqueName, waitFor } from '@herald/testkit';
import { HeraldCli } from './herald-cli';

describe('herald CLI against the real services (3-broker Kafka)', function () {
  this.timeout(240_000);
  let stack: HeraldStack;
  const cli = new HeraldCli();
  const start = (args: string[]) => cli.start(args);
  const herald = (args: string[], input = '') => cli.run(args, input);

  const jsonLines = (text: string) =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  before(async () => {
    const prefix = `${uniqueName('cli')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix, DISPATCHER_COMMIT_INTERVAL_MS: '200' },
    });
    cli.env = { ...process.env, ...stack.endpointEnv };
  });
  after(async () => {
    cli.killAll();
    await stack?.stop();
  });

  it('creates a topic and a subscription, publishes a file, pulls the messages with --ack, and nothing is left', async () => {
    const topic = uniqueName('cli-orders');
    const created = await herald(['topics', 'create', topic, '--partitions', '3', '--json']);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual([jsonLines(created.stdout)[0]!.name, jsonLines(created.stdout)[0]!.partitions], [topic, 3]);
    const sub = await herald(['subs', 'create', `${topic}-log`, '--topic', topic]);
    assert.equal(sub.code, 0, sub.stderr);
    assert.match(sub.stdout, /topic +│ cli-orders-/);

    const dir = mkdtempSync(path.join(tmpdir(), 'herald-cli-'));
    const file = path.join(dir, 'orders.txt');
    const lines = [
      '{"id":1,"item":"book"}',
      '{"id":2,"item":"lamp"}',
      '{"id":3,"item":"desk"}',
      '{"id":4,"item":"pen"}',
    ];
    writeFileSync(file, `${lines[0]}\n${lines[1]}\n\n${lines[2]}\n${lines[3]}\n`);
    const published = await herald(['publish', topic, '--file', file, '-a', 'source=cli-test', '--json']);
    assert.equal(published.code, 0, published.stderr);
    const ids = jsonLines(published.stdout);
    assert.deepEqual(
      ids.map((r) => r.line),
      [1, 2, 4, 5],
    );

    const pulled = await herald(['pull', `${topic}-log`, '-n', '4', '-t', '60s', '--ack', '--json']);
    assert.equal(pulled.code, 0, pulled.stderr);
    const messages = jsonLines(pulled.stdout);
    assert.deepEqual(messages.map((m) => m.data).sort(), [...lines].sort());
    assert.deepEqual(messages.map((m) => m.messageId).sort(), ids.map((r) => r.messageId).sort());
    for (const message of messages) assert.deepEqual(message.attributes, { source: 'cli-test' });

    const again = await herald(['pull', `${topic}-log`, '-t', '3s']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^No messages on "cli-orders-.*-log" within 3s\.\n$/);
  });

  it('shows tables by default, and publishes from stdin', async () => {
    const topic = uniqueName('cli-table');
    assert.equal((await herald(['topics', 'create', topic])).code, 0);
    await herald(['subs', 'create', `${topic}-log`, '-t', topic]);
    const list = await herald(['topics', 'list']);
    assert.match(list.stdout, /NAME +│ PARTITIONS │ REPLICAS │ RETENTION │ CREATED/);
    assert.match(list.stdout, new RegExp(`│ ${topic} +│ 3 +│ 3 +│ 7d `));

    const published = await herald(['publish', topic], 'from stdin 1\nfrom stdin 2\n');
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stdout, /Published 2 messages to "cli-table-/);
    const pulled = await herald(['pull', `${topic}-log`, '-n', '2', '-t', '60s']);
    assert.match(pulled.stdout, /│ from stdin 1 │/);
    assert.match(pulled.stdout, /2 messages, not acknowledged/);
  });

  it('exits with the gRPC status code: 5 for a missing topic, 6 for one that exists', async () => {
    const missing = await herald(['topics', 'get', 'missing-topic']);
    assert.equal(missing.code, 5);
    assert.match(missing.stderr, /^herald: NOT_FOUND: .*missing-topic/);
    const topic = uniqueName('cli-twice');
    assert.equal((await herald(['topics', 'create', topic])).code, 0);
    const twice = await herald(['topics', 'create', topic]);
    assert.equal(twice.code, 6);
    assert.match(twice.stderr, /ALREADY_EXISTS/);
    const usage = await herald(['topics', 'create']);
    assert.equal(usage.code, 2);
  });

  it('tail shows messages as they are published, and Ctrl-C ends it with 0', async () => {
    const topic = uniqueName('cli-tail');
    assert.equal((await herald(['topics', 'create', topic])).code, 0);
    const tail = start(['tail', topic, '--json']);
    // Tail starts from latest once its reader is placed, which it does not announce:
    // publish until one shows up, then check that every later one does.
    let warmups = 0;
    await waitFor(
      async () => {
        await herald(['publish', topic, `warm-up ${++warmups}`]);
        return tail.output.stdout.includes('warm-up');
      },
      { timeoutMillis: 60_000, intervalMillis: 200, description: 'the tail to show a first message' },
    );
    const published = await herald(['publish', topic, 'alpha', 'beta', 'gamma', '-a', 'kind=tail']);
    assert.equal(published.code, 0, published.stderr);
    await waitFor(() => ['alpha', 'beta', 'gamma'].every((data) => tail.output.stdout.includes(`"data":"${data}"`)), {
      description: 'the tail to show the three messages',
    });
    tail.child.kill('SIGINT');
    const ended = await tail.exited;
    assert.equal(ended.code, 0, ended.stderr);
    const shown = jsonLines(ended.stdout).filter((m) => !String(m.data).startsWith('warm-up'));
    assert.deepEqual(shown.map((m) => m.data).sort(), ['alpha', 'beta', 'gamma']);
    for (const message of shown) assert.deepEqual(message.attributes, { kind: 'tail' });
  });

  it('tail shows a message over the 4 MB that grpc-js allows by default', async () => {
    const topic = uniqueName('cli-tail-big');
    assert.equal((await herald(['topics', 'create', topic])).code, 0);
    const big = 'b'.repeat(5 * 1024 * 1024);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'herald-cli-')), 'big.txt');
    writeFileSync(file, `${big}\n`);
    const published = await herald(['publish', topic, '--file', file]);
    assert.equal(published.code, 0, published.stderr);
    const tail = start(['tail', topic, '--from', 'earliest', '--count', '1', '--json']);
    const ended = await tail.exited;
    assert.equal(ended.code, 0, ended.stderr);
    assert.equal(jsonLines(ended.stdout)[0]?.data, big);
  });

  it('an unreachable service address fails within seconds, in one line naming it, with exit 14', async () => {
    const started = Date.now();
    const result = await herald(['--registry', '127.0.0.1:1', 'topics', 'create', uniqueName('cli-nowhere')]);
    assert.equal(result.code, 14);
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    assert.equal(
      result.stderr,
      'herald: UNAVAILABLE: cannot reach the subscriber registry at 127.0.0.1:1 (connection refused); check --registry or HERALD_REGISTRY\n',
    );
  });

  it('an empty pull from a serving dispatcher says so and exits 0', async () => {
    const topic = uniqueName('cli-empty');
    assert.equal((await herald(['topics', 'create', topic])).code, 0);
    assert.equal((await herald(['subs', 'create', `${topic}-log`, '-t', topic])).code, 0);
    const pulled = await herald(['pull', `${topic}-log`, '-t', '1s']);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pulled.stdout, `No messages on "${topic}-log" within 1s.\n`);
  });

  it('Ctrl-C during a publish from an open pipe says how many were published, and exits 130', async () => {
    const topic = uniqueName('cli-interrupt');
    assert.equal((await herald(['topics', 'create', topic])).code, 0);
    const publish = start(['publish', topic, '--json']);
    publish.child.stdin!.write('one\ntwo\nthree\n');
    await waitFor(() => jsonLines(publish.output.stdout).length === 3, {
      description: 'the three messages to be published',
    });
    publish.child.kill('SIGINT');
    const ended = await publish.exited;
    assert.equal(ended.code, 130, ended.stderr);
    assert.equal(
      ended.stderr,
      `herald: interrupted: published 3 messages to "${topic}"; the rest of stdin was not read\n`,
    );
  });
});
