import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ReceivedMessage, Subscriber } from '@herald/client';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { readKafkaTopic, testKafka, uniqueName, waitFor } from '@herald/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { HeraldCli } from './herald-cli';

/** The JSON lines `herald --json dlq redrive` printed: one per progress response, totals of the command. */
interface RedriveLine {
  examined: number;
  toExamine: number;
  moved: number;
  recovered: number;
  done: boolean;
}

describe('herald dlq against the real services (3-broker Kafka)', function () {
  this.timeout(400_000);
  let stack: HeraldStack;
  let prefix: string;
  const cli = new HeraldCli();
  const start = (args: string[]) => cli.start(args);
  const herald = (args: string[]) => cli.run(args);

  const redriveLines = (text: string) =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as RedriveLine);

  /** Which dispatcher last started a redrive of `subscription`, from their logs. */
  function redrivingDispatcher(subscription: string): number {
    return stack.dispatchers.findIndex(
      (d) =>
        d.running &&
        readFileSync(d.options.logFile, 'utf8')
          .split('\n')
          .some(
            (line) => line.includes('"msg":"redrive started"') && line.includes(`"subscription":"${subscription}"`),
          ),
    );
  }

  before(async () => {
    prefix = `${uniqueName('dlq')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      instances: { 'subscriber-registry': 1, publisher: 1, dispatcher: 2 },
      env: {
        HERALD_TOPIC_PREFIX: prefix,
        DISPATCHER_COMMIT_INTERVAL_MS: '200',
        DISPATCHER_SESSION_TIMEOUT_MS: '6000',
        DISPATCHER_IDLE_GRACE_MS: '1000',
      },
    });
    cli.env = { ...process.env, ...stack.endpointEnv };
  });
  after(async () => {
    cli.killAll();
    await stack?.stop();
  });

  it('redrives 1,000 dead letters killed midway twice (the command, then the dispatcher running it): none lost, none doubled, only the source subscription gets them', async () => {
    const dispatchers = stack.dispatchers.map((d) => d.address);
    for (const args of [
      ['topics', 'create', 'ledger', '--partitions', '3'],
      ['topics', 'create', 'ledger-dead', '--partitions', '2'],
      [
        'subs',
        'create',
        'ledger-sub',
        '--topic',
        'ledger',
        '--dead-letter-topic',
        'ledger-dead',
        '--max-delivery-attempts',
        '5',
        '--min-backoff',
        '0s',
        '--max-backoff',
        '0s',
      ],
      ['subs', 'create', 'ledger-other', '--topic', 'ledger'],
    ]) {
      const result = await herald(args);
      assert.equal(result.code, 0, result.stderr);
    }

    // The other subscription of the topic acks everything it gets, all along.
    const other = new Subscriber({ endpoints: dispatchers, subscription: 'ledger-other' });
    const toOther: ReceivedMessage[] = [];
    other.on('message', (message) => {
      toOther.push(message);
      message.ack();
    });
    // The source subscription fails every message until it is dead-lettered.
    const failing = new Subscriber({
      endpoints: dispatchers,
      subscription: 'ledger-sub',
      flowControl: { maxOutstandingMessages: 500 },
    });
    failing.on('message', (message) => message.nack());
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'herald-dlq-')), 'entries.txt');
    writeFileSync(file, Array.from({ length: 1000 }, (_, i) => `entry ${i}`).join('\n'));
    const published = await herald(['--json', 'publish', 'ledger', '--file', file, '-i', 'entry', '-a', 'book=main']);
    assert.equal(published.code, 0, published.stderr);
    const ids = published.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { messageId: string }).messageId);
    assert.equal(new Set(ids).size, 1000);

    await waitFor(
      async () => {
        const peek = await herald(['--json', 'dlq', 'peek', 'ledger-sub', '-n', '2000']);
        return peek.code === 0 && peek.stdout.split('\n').filter((line) => line !== '').length === 1000;
      },
      { timeoutMillis: 120_000, intervalMillis: 1_000, description: '1,000 dead letters' },
    );
    await failing.close();
    const peeked = await herald(['--json', 'dlq', 'peek', 'ledger-sub', '-n', '3']);
    const firstThree = peeked.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { attributes: Record<string, string> });
    assert.equal(firstThree.length, 3);
    for (const { attributes } of firstThree) {
      assert.equal(attributes['herald-dead-letter-subscription'], 'ledger-sub');
      assert.equal(attributes['herald-dead-letter-attempts'], '5');
      assert.ok(ids.includes(attributes['herald-dead-letter-message-id']!));
      assert.equal(attributes.book, 'main');
    }

    // The source subscription, fixed now, acks what comes back.
    const fixed = new Subscriber({ endpoints: dispatchers, subscription: 'ledger-sub' });
    const received: ReceivedMessage[] = [];
    fixed.on('message', (message) => {
      received.push(message);
      message.ack();
    });
    const redriveStarted = Date.now();
    const command = ['--json', '--retry-timeout', '90s', 'dlq', 'redrive', 'ledger-sub', '--rate', '200'];

    // First interruption: the command killed (as a closed terminal would), a quarter of the way.
    const first = start(command);
    await waitFor(() => redriveLines(first.output.stdout).some((line) => line.moved >= 250), {
      timeoutMillis: 60_000,
      description: 'a quarter moved',
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const movedByFirst = Math.max(...redriveLines(first.output.stdout).map((line) => line.moved));

    // Second: the same command again, and the dispatcher running the redrive killed in its middle.
    const second = start(command);
    await waitFor(() => redriveLines(second.output.stdout).some((line) => line.moved >= 300), {
      timeoutMillis: 60_000,
      description: 'the second run under way',
    });
    const serving = redrivingDispatcher('ledger-sub');
    assert.ok(serving >= 0, 'a dispatcher logged the redrive');
    stack.dispatchers[serving]!.kill();
    const { code } = await second.exited;
    assert.equal(code, 0, second.output.stderr);
    await stack.dispatchers[serving]!.start();
    const lines = redriveLines(second.output.stdout);
    const last = lines[lines.length - 1]!;
    assert.equal(last.done, true);
    const recovered = last.recovered;
    console.log(
      `      first run moved ${movedByFirst} before it was killed; the second moved ${last.moved}, ` +
        `${recovered} of them found written back by the dispatcher killed mid-batch; ${lines.length} progress lines`,
    );
    // The first run's last line may be behind what it finished (its batch under way completes after the kill).
    assert.ok(movedByFirst + last.moved <= 1000, 'the second run moved only what the first had not');

    // In Kafka: the 1,000 messages published and exactly one copy of each dead letter.
    const kafka = new Kafka({ clientId: 'dlq-test', brokers: testKafka().brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(`${prefix}ledger`);
    await admin.disconnect();
    assert.equal(
      offsets.reduce((sum, o) => sum + Number(o.high), 0),
      2000,
      'the source topic holds 1,000 originals and 1,000 copies',
    );
    const records = await readKafkaTopic(testKafka().brokers, `${prefix}ledger`, 2000, 60_000);
    const sources = records.flatMap((r) => {
      const source = r.message.headers?.['herald-redrive-source'];
      return source ? [source.toString()] : [];
    });
    assert.equal(sources.length, 1000);
    assert.equal(new Set(sources).size, 1000, 'no dead letter copied twice');

    // Every message reached the fixed subscription again, under its original id.
    await waitFor(() => new Set(received.map((m) => m.id)).size === 1000, {
      timeoutMillis: 60_000,
      description: 'the 1,000 messages on ledger-sub again',
    });
    assert.deepEqual(new Set(received.map((m) => m.id)), new Set(ids));
    assert.ok(received.every((m) => m.data.toString().startsWith('entry ') && m.attributes.book === 'main'));
    const repeats = received.length - 1000;
    console.log(
      `      ledger-sub received ${received.length} deliveries (${repeats} repeats after the dispatcher was killed)`,
    );

    // The other subscription saw the originals only: every copy was published after the redrive began.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.deepEqual(new Set(toOther.map((m) => m.id)), new Set(ids));
    const copiesSeen = toOther.filter((m) => m.publishTime.getTime() >= redriveStarted);
    assert.deepEqual(copiesSeen, [], 'ledger-other received no copy');
    await Promise.all([fixed.close(), other.close()]);

    // Nothing left, and a redrive again moves nothing.
    const empty = await herald(['dlq', 'peek', 'ledger-sub']);
    assert.equal(empty.stdout, 'No dead letters of "ledger-sub" left to move.\n');
    const again = await herald(['dlq', 'redrive', 'ledger-sub']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'Moved 0 dead letters back to "ledger-sub".\n');
  });
});
