import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  DispatcherServiceClient,
  Message,
  Position,
  PublisherServiceClient,
  StreamingPullRequest,
  Subscription,
  SubscriberRegistryServiceClient,
  Topic,
} from '@herald/api';
import { LocalKafkaCluster, heraldHome } from '@herald/local-kafka';
import { rpc, uniqueName, waitFor } from '@herald/testkit';
import { HeraldStack, type ServiceProcess, checkHealth } from '../src';

/** Readiness must turn within this after Kafka dies: "within seconds", with room for a loaded test machine. */
const notServingWithinMillis = 15_000;
/** An rpc that needs Kafka must fail by then once readiness has turned (the issue saw 10 to 62 s). */
const failsWithinMillis = 3_000;

interface Outcome {
  codeName: string;
  details: string;
  millis: number;
}

/** Runs `call` and reports how it ended and how long it took. */
async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  const started = Date.now();
  try {
    await call();
    return { codeName: 'OK', details: '', millis: Date.now() - started };
  } catch (error) {
    const e = error as ServiceError;
    return {
      codeName: status[e.code] ?? String(e.code),
      details: e.details ?? e.message,
      millis: Date.now() - started,
    };
  }
}

function assertUnavailableNamingKafka(result: Outcome, what: string): void {
  assert.equal(result.codeName, 'UNAVAILABLE', `${what}: ${result.codeName} ${result.details}`);
  assert.match(result.details, /Kafka/, `${what}: the message names Kafka`);
  assert.ok(result.millis < failsWithinMillis, `${what}: answered after ${result.millis} ms`);
}

describe('readiness and UNAVAILABLE while Kafka is down (own one-broker Kafka)', function () {
  this.timeout(240_000);
  const prefix = `${uniqueName('ready')}.`;
  let cluster: LocalKafkaCluster | undefined;
  let stack: HeraldStack | undefined;
  let registry: SubscriberRegistryServiceClient;
  let publisher: PublisherServiceClient;
  let dispatcher: DispatcherServiceClient;

  before(async () => {
    // Its own cluster: killing the only broker must not disturb the one other suites share.
    cluster = await LocalKafkaCluster.start({
      brokers: 1,
      dir: path.join(heraldHome, 'test', 'readiness-kafka'),
      basePort: 29392,
      log: (line) => console.log(`      [readiness-kafka] ${line}`),
    });
    stack = await HeraldStack.start({
      kafkaBrokers: cluster.bootstrapServers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    registry = new SubscriberRegistryServiceClient(stack.registries[0]!.address, credentials.createInsecure());
    publisher = new PublisherServiceClient(stack.publishers[0]!.address, credentials.createInsecure());
    dispatcher = new DispatcherServiceClient(stack.dispatchers[0]!.address, credentials.createInsecure());
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'ready', partitions: 1 }) });
    await rpc(registry, registry.createSubscription, {
      subscription: Subscription.fromPartial({ name: 'ready-sub', topic: 'ready' }),
    });
    await waitFor(async () => (await publish()).codeName === 'OK', { description: 'the publisher to know the topic' });
  });

  after(async () => {
    registry?.close();
    publisher?.close();
    dispatcher?.close();
    await stack?.stop();
    await cluster?.stop({ removeData: true });
  });

  const publish = () =>
    outcome(() =>
      rpc(publisher, publisher.publish, {
        topic: 'ready',
        messages: [Message.fromPartial({ data: Buffer.from('x') })],
      }),
    );

  /** Opens a StreamingPull and resolves when the server ends it (or after `waitMillis` if it stays open). */
  const streamingPull = (waitMillis = 10_000) =>
    outcome(
      () =>
        new Promise<void>((resolve, reject) => {
          const call = dispatcher.streamingPull();
          const timer = setTimeout(() => {
            call.cancel();
            resolve();
          }, waitMillis);
          call.on('data', () => undefined);
          call.on('error', (error) => {
            clearTimeout(timer);
            reject(error);
          });
          call.write(StreamingPullRequest.fromPartial({ subscription: 'ready-sub', maxOutstandingMessages: '10' }));
        }),
    );

  const tail = (waitMillis = 10_000) =>
    outcome(
      () =>
        new Promise<void>((resolve, reject) => {
          const call = dispatcher.tail({
            topic: 'ready',
            start: { $case: 'position', value: Position.POSITION_LATEST },
            filter: '',
          });
          const timer = setTimeout(() => {
            call.cancel();
            resolve();
          }, waitMillis);
          call.on('data', () => undefined);
          call.on('error', (error) => {
            clearTimeout(timer);
            reject(error);
          });
        }),
    );

  async function waitHealth(service: ServiceProcess, wanted: string, timeoutMillis: number): Promise<number> {
    const started = Date.now();
    await waitFor(async () => (await checkHealth(service.address)) === wanted, {
      timeoutMillis,
      intervalMillis: 200,
      description: `${service.name} readiness ${wanted}`,
    });
    return Date.now() - started;
  }

  it('reports NOT_SERVING on readiness within seconds of Kafka dying, stays live, and ends open streams', async () => {
    // A stream open before the outage cannot be served during it: it ends with UNAVAILABLE, so that its
    // client reconnects to a ready instance instead of waiting on one that delivers nothing.
    const streamOpenedAt = Date.now();
    const openStream = streamingPull(120_000);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const killedAt = Date.now();
    await cluster!.killBroker(1);
    const waited = await Promise.all(stack!.all.map((s) => waitHealth(s, 'NOT_SERVING', notServingWithinMillis)));
    console.log(
      `      readiness NOT_SERVING after ${stack!.all.map((s, i) => `${s.name} ${waited[i]} ms`).join(', ')}`,
    );
    for (const service of stack!.all) {
      assert.equal(await checkHealth(service.address, 'liveness'), 'SERVING', `${service.name} liveness`);
    }
    const ended = await openStream;
    const endedAfterKillMillis = streamOpenedAt + ended.millis - killedAt;
    console.log(
      `      the open StreamingPull ended ${ended.codeName} ${endedAfterKillMillis} ms after the kill: ${ended.details}`,
    );
    assert.equal(ended.codeName, 'UNAVAILABLE', ended.details);
    assert.match(ended.details, /Kafka/);
    assert.ok(endedAfterKillMillis < notServingWithinMillis, `ended ${endedAfterKillMillis} ms after the kill`);
  });

  it('fails Publish, CreateTopic, StreamingPull and Tail promptly with UNAVAILABLE naming Kafka', async () => {
    const results = {
      Publish: await publish(),
      CreateTopic: await outcome(() =>
        rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'not-now', partitions: 1 }) }),
      ),
      StreamingPull: await streamingPull(),
      Tail: await tail(),
    };
    for (const [rpcName, result] of Object.entries(results)) {
      console.log(`      ${rpcName}: ${result.codeName} after ${result.millis} ms: ${result.details}`);
    }
    for (const [rpcName, result] of Object.entries(results)) assertUnavailableNamingKafka(result, rpcName);
  });

  it('reports SERVING again once Kafka is back, and serves', async () => {
    const restarted = Date.now();
    await cluster!.startBroker(1);
    await Promise.all(stack!.all.map((s) => waitHealth(s, 'SERVING', 60_000)));
    console.log(`      every service SERVING ${Date.now() - restarted} ms after the broker was started again`);
    await waitFor(async () => (await publish()).codeName === 'OK', {
      timeoutMillis: 30_000,
      description: 'a publish to succeed',
    });
  });

  it('reports NOT_SERVING on publishers and dispatchers while no registry is reachable, and serves meanwhile', async () => {
    const registryProcess = stack!.registries[0]!;
    await registryProcess.stop();
    const others = [...stack!.publishers, ...stack!.dispatchers];
    const waited = await Promise.all(others.map((s) => waitHealth(s, 'NOT_SERVING', notServingWithinMillis)));
    console.log(
      `      registry stopped (SIGTERM, exited): readiness NOT_SERVING after ${others.map((s, i) => `${s.name} ${waited[i]} ms`).join(', ')}`,
    );
    // Not being ready is no reason to refuse what can be done: topics already known are still published to.
    assert.equal((await publish()).codeName, 'OK');
    await registryProcess.start();
    await Promise.all(others.map((s) => waitHealth(s, 'SERVING', 30_000)));
  });
});
