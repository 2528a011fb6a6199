import assert from 'node:assert/strict';
import path from 'node:path';
import { HeraldStack, canBind, checkHealth } from '@herald/devstack';
import { LocalKafkaCluster, freePort, heraldHome } from '@herald/local-kafka';
import { uniqueName, waitFor } from '@herald/testkit';
import { HeraldCli } from './herald-cli';

describe('herald CLI while Kafka is down (own one-broker Kafka)', function () {
  this.timeout(240_000);
  const prefix = `${uniqueName('cli-outage')}.`;
  let cluster: LocalKafkaCluster | undefined;
  let stack: HeraldStack | undefined;
  const cli = new HeraldCli();
  const herald = (args: string[]) => cli.run(args);

  before(async () => {
    // Its own cluster: killing the only broker must not disturb the one other suites share.
    // A free port with a free successor: the node's controller listens one above.
    let basePort = await freePort();
    while (basePort >= 65535 || !(await canBind(basePort + 1, '127.0.0.1'))) basePort = await freePort();
    cluster = await LocalKafkaCluster.start({
      brokers: 1,
      dir: path.join(heraldHome, 'test', `${prefix}kafka`),
      basePort,
      log: (line) => console.log(`      [cli-outage-kafka] ${line}`),
    });
    stack = await HeraldStack.start({
      kafkaBrokers: cluster.bootstrapServers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    cli.env = { ...process.env, ...stack.endpointEnv };
    assert.equal((await herald(['topics', 'create', 'orders', '-p', '1'])).code, 0);
    assert.equal((await herald(['subs', 'create', 'orders-log', '-t', 'orders'])).code, 0);
    await cluster.killBroker(1);
    await waitFor(async () => (await checkHealth(stack!.dispatchers[0]!.address)) === 'NOT_SERVING', {
      timeoutMillis: 30_000,
      description: 'the dispatcher to report Kafka down',
    });
    await waitFor(async () => (await checkHealth(stack!.publishers[0]!.address)) === 'NOT_SERVING', {
      timeoutMillis: 30_000,
      description: 'the publisher to report Kafka down',
    });
  });

  after(async () => {
    await stack?.stop();
    await cluster?.stop({ removeData: true });
  });

  it('pull exits 14 in one line instead of "No messages" and 0', async () => {
    const result = await herald(['pull', 'orders-log', '-t', '2s']);
    assert.equal(result.code, 14, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(
      result.stderr,
      /^herald: UNAVAILABLE: no dispatcher is serving: 127\.0\.0\.1:\d+ \(NOT_SERVING\)[^\n]*\n$/,
    );
  });

  it('publish and topics create exit 14 with one line naming Kafka, after --retry-timeout', async () => {
    for (const args of [
      ['publish', 'orders', 'hello'],
      ['topics', 'create', 'more-orders'],
    ]) {
      const result = await herald(['--retry-timeout', '2s', ...args]);
      assert.equal(result.code, 14, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^herald: UNAVAILABLE: [^\n]*Kafka[^\n]*\n$/, args.join(' '));
      assert.doesNotMatch(result.stderr, /LB pick|Resolution note/);
      assert.ok(result.millis < 10_000, `${args.join(' ')} took ${result.millis} ms`);
    }
  });
});
