import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import { Message, PublisherServiceClient, SubscriberRegistryServiceClient, Topic } from '@herald/api';
import { HeraldStack } from '@herald/devstack';
import { heraldHome, LocalKafkaCluster } from '@herald/local-kafka';
import { readKafkaTopic, rpc, uniqueName, waitFor } from '@herald/testkit';

/** The publisher's PUBLISHER_ACK_TIMEOUT_MS in this test. */
const ackTimeoutMillis = 5_000;
/** A publish to a frozen Kafka must fail by then: a bound on a hang, not a performance claim. */
const unavailableWithinMillis = 20_000;
/** How long the second test keeps Kafka frozen: beyond the client's 10 s request timeout. */
const longOutageMillis = 25_000;

interface Outcome {
  code: number;
  codeName: string;
  details: string;
  millis: number;
}

describe('publisher: Kafka outage (own one-broker Kafka)', function () {
  this.timeout(180_000);
  const prefix = `${uniqueName('outage')}.`;
  let cluster: LocalKafkaCluster | undefined;
  let stack: HeraldStack | undefined;
  let registry: SubscriberRegistryServiceClient | undefined;
  let publisher: PublisherServiceClient | undefined;

  before(async () => {
    // Its own cluster: freezing the only broker must not disturb the shared one other suites use.
    cluster = await LocalKafkaCluster.start({
      brokers: 1,
      dir: path.join(heraldHome, 'test', 'outage-kafka'),
      basePort: 29292,
      log: (line) => console.log(`      [outage-kafka] ${line}`),
    });
    stack = await HeraldStack.start({
      kafkaBrokers: cluster.bootstrapServers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      instances: { 'subscriber-registry': 1, publisher: 1, dispatcher: 0 },
      env: { HERALD_TOPIC_PREFIX: prefix, PUBLISHER_ACK_TIMEOUT_MS: String(ackTimeoutMillis) },
    });
    registry = new SubscriberRegistryServiceClient(stack.registries[0]!.address, credentials.createInsecure());
    publisher = new PublisherServiceClient(stack.publishers[0]!.address, credentials.createInsecure());
  });

  after(async () => {
    // Whatever failed, unfreeze the broker first: a stopped JVM ignores SIGTERM until it runs again.
    if (cluster?.isRunning(1)) cluster.resumeBroker(1);
    registry?.close();
    publisher?.close();
    await stack?.stop();
    await cluster?.stop({ removeData: true });
  });

  /** Every message id the publisher acknowledged: each must be in Kafka at the end. */
  const acknowledged: string[] = [];

  /** Publishes one message to `outage`; answers with the status, and the time it took. */
  async function publish(data: string): Promise<Outcome> {
    const started = Date.now();
    try {
      const { messageIds } = await rpc(publisher!, publisher!.publish, {
        topic: 'outage',
        messages: [Message.fromPartial({ data: Buffer.from(data) })],
      });
      acknowledged.push(...messageIds);
      return { code: status.OK, codeName: 'OK', details: '', millis: Date.now() - started };
    } catch (error) {
      const { code, details } = error as ServiceError;
      return { code, codeName: status[code] ?? String(code), details, millis: Date.now() - started };
    }
  }

  function assertUnavailableInTime(outcome: Outcome, what: string): void {
    assert.equal(outcome.codeName, 'UNAVAILABLE', `${what}: ${outcome.details}`);
    assert.ok(
      outcome.millis < unavailableWithinMillis,
      `${what}: UNAVAILABLE after ${outcome.millis} ms; the bound is ${unavailableWithinMillis} ms`,
    );
  }

  /** SIGSTOP the only broker; resolves once every thread of it is frozen. */
  async function freezeKafka(): Promise<void> {
    await cluster!.pauseBroker(1);
  }

  /** SIGCONT the broker, then wait for a publish to succeed again; returns how long that took. */
  async function thawKafkaAndRecover(): Promise<number> {
    cluster!.resumeBroker(1);
    const resumed = Date.now();
    await waitFor(async () => (await publish('after the outage')).code === status.OK, {
      timeoutMillis: 60_000,
      intervalMillis: 250,
      description: 'a publish to succeed after Kafka came back',
    });
    return Date.now() - resumed;
  }

  it('answers UNAVAILABLE in bounded time while Kafka is frozen, and recovers by itself', async () => {
    await rpc(registry!, registry!.createTopic, { topic: Topic.fromPartial({ name: 'outage', partitions: 1 }) });
    // The publisher learns of the topic through the registry's Watch stream: wait until it knows it.
    await waitFor(async () => (await publish('warm-up')).code !== status.NOT_FOUND, {
      description: 'the publisher to know the topic',
    });
    assert.equal((await publish('before the outage')).codeName, 'OK');

    await freezeKafka();
    try {
      const during = await publish('during the outage');
      console.log(`      publish to a frozen Kafka answered ${during.codeName} after ${during.millis} ms`);
      assertUnavailableInTime(during, 'one publish');
      // Several at once: one per producer lane goes out, the others wait in the queue; all get an answer.
      const concurrent = await Promise.all(Array.from({ length: 6 }, (_, i) => publish(`concurrent ${i}`)));
      console.log(`      6 concurrent publishes answered after ${concurrent.map((o) => o.millis).join(', ')} ms`);
      concurrent.forEach((outcome, i) => assertUnavailableInTime(outcome, `concurrent publish ${i}`));
      assert.ok(stack!.publishers[0]!.running, 'the publisher process survived the outage');
    } finally {
      cluster!.resumeBroker(1);
    }

    console.log(`      publishes succeed again ${await thawKafkaAndRecover()} ms after the broker resumed`);
    assert.equal((await publish('after recovery')).codeName, 'OK');
    assert.ok(stack!.publishers[0]!.running, 'the publisher process is still running');
  });

  it('keeps answering UNAVAILABLE through an outage longer than the Kafka request timeout, then recovers', async () => {
    assert.equal((await publish('before the long outage')).codeName, 'OK');
    await freezeKafka();
    const frozenAt = Date.now();
    const outcomes: Outcome[] = [];
    try {
      // Past kafkajs's own request timeout (10 s) and a round of its retries, so that requests
      // fail inside the client and the publisher replaces producers while Kafka is still away.
      while (Date.now() - frozenAt < longOutageMillis) outcomes.push(await publish(`long outage ${outcomes.length}`));
      console.log(
        // Refused in about a millisecond once readiness turned: thousands, so the first few and the slowest.
        `      ${outcomes.length} publishes during ${longOutageMillis} ms frozen answered after ${outcomes
          .slice(0, 5)
          .map((o) => o.millis)
          .join(', ')}, ... ms (slowest ${Math.max(...outcomes.map((o) => o.millis))} ms)`,
      );
      outcomes.forEach((outcome, i) => assertUnavailableInTime(outcome, `publish ${i} of the long outage`));
      assert.ok(stack!.publishers[0]!.running, 'the publisher process survived the outage');
    } finally {
      cluster!.resumeBroker(1);
    }
    console.log(`      publishes succeed again ${await thawKafkaAndRecover()} ms after the broker resumed`);
  });

  it('kept every acknowledged message in Kafka', async () => {
    assert.ok(acknowledged.length >= 5, `${acknowledged.length} acknowledged`);
    const records = await readKafkaTopic(cluster!.bootstrapServers, `${prefix}outage`, acknowledged.length);
    const inKafka = new Set(records.map((r) => r.message.headers!['herald-message-id']!.toString()));
    assert.deepEqual(
      acknowledged.filter((id) => !inKafka.has(id)),
      [],
      'acknowledged messages missing from Kafka',
    );
  });
});
