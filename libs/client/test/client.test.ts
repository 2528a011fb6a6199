import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { DispatcherServiceClient, StreamingPullRequest, type StreamingPullResponse } from '@herald/api';
import { Admin, HeraldClientError, Publisher, type ReceivedMessage, Subscriber } from '@herald/client';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { testKafka, uniqueName, waitFor } from '@herald/testkit';
import { orderedWithCallbacks } from '../examples/ordered-with-callbacks';
import { publishAndReceive } from '../examples/publish-and-receive';

describe('TypeScript client against the real services (two of each, 3-broker Kafka)', function () {
  this.timeout(240_000);
  let stack: HeraldStack;
  let endpoints: { registry: string[]; publisher: string[]; dispatcher: string[] };

  before(async () => {
    const prefix = `${uniqueName('sdk')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      instances: { 'subscriber-registry': 2, publisher: 2, dispatcher: 2 },
      env: { HERALD_TOPIC_PREFIX: prefix, DISPATCHER_SESSION_TIMEOUT_MS: '6000', DISPATCHER_COMMIT_INTERVAL_MS: '200' },
    });
    endpoints = {
      registry: stack.registries.map((p) => p.address),
      publisher: stack.publishers.map((p) => p.address),
      dispatcher: stack.dispatchers.map((p) => p.address),
    };
  });
  after(async () => stack?.stop());

  describe('README examples', () => {
    const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const example of ['publish-and-receive', 'ordered-with-callbacks']) {
      it(`the README shows examples/${example}.ts as it is`, () => {
        const source = readFileSync(path.join(__dirname, '..', '..', 'examples', `${example}.ts`), 'utf8');
        assert.ok(readme.includes(source.trim()), `README.md must contain examples/${example}.ts verbatim`);
      });
    }

    it('publish-and-receive runs', async () => {
      const received = await publishAndReceive(endpoints);
      assert.deepEqual([...received].sort(), ['bonjour', 'hallo', 'hello']);
    });

    it('ordered-with-callbacks runs, with the redelivery holding back the key', async () => {
      assert.deepEqual(await orderedWithCallbacks(endpoints), [
        'opened#1',
        'deposited#1',
        'deposited#2',
        'withdrew#1',
        'closed#1',
      ]);
    });
  });

  it('publishes 10,000 with the batching publisher, receives all, and continues through the other dispatcher after kill -9', async () => {
    const admin = new Admin({ endpoints: endpoints.registry });
    await admin.createTopic({ name: 'sdk-bulk', partitions: 4 });
    await admin.createSubscription({ name: 'sdk-bulk-sub', topic: 'sdk-bulk' });
    // One endpoint first: the subscriber connects to dispatcher 1, and the kill forces it to move.
    const subscriber = new Subscriber({
      endpoints: [endpoints.dispatcher[0]!, endpoints.dispatcher[1]!],
      subscription: 'sdk-bulk-sub',
      reconnect: { initialMillis: 50, maxMillis: 500 },
    });
    const received = new Set<string>();
    let deliveries = 0;
    subscriber.on('message', (message: ReceivedMessage) => {
      deliveries++;
      received.add(message.id);
      message.ack();
    });
    const publisher = new Publisher({
      endpoints: endpoints.publisher,
      batching: { maxMessages: 200, maxDelayMillis: 5 },
    });
    const first = await Promise.all(
      Array.from({ length: 5_000 }, (_, i) => publisher.publish('sdk-bulk', { data: `first ${i}` })),
    );
    await waitFor(() => first.every((id) => received.has(id)), {
      timeoutMillis: 60_000,
      description: 'first half received',
    });
    const victim = stack.dispatchers.find((d) => d.address === endpoints.dispatcher[0])!;
    victim.kill();
    const second = await Promise.all(
      Array.from({ length: 5_000 }, (_, i) => publisher.publish('sdk-bulk', { data: `second ${i}` })),
    );
    await publisher.close();
    await waitFor(() => second.every((id) => received.has(id)), {
      timeoutMillis: 90_000,
      description: 'second half received through the other dispatcher',
    });
    await subscriber.close();
    admin.close();
    console.log(
      `      10000 published in batches, ${received.size} received, ${deliveries - received.size} duplicates`,
    );
    assert.equal(new Set([...first, ...second]).size, 10_000);
    await victim.start();
  });

  it('exactly-once: a message held up in transit past its deadline and acked through another stream never reaches the first handler', async () => {
    const admin = new Admin({ endpoints: endpoints.registry });
    await admin.createTopic({ name: 'sdk-once', partitions: 1 });
    await admin.createSubscription({
      name: 'sdk-once-sub',
      topic: 'sdk-once',
      ackDeadlineSeconds: 10,
      enableExactlyOnceDelivery: true,
    });
    // Every response of this subscriber's streams reaches it 12 s late: past the 10 s deadline of each lease.
    let leasedToLate = 0;
    class LateSubscriber extends Subscriber {
      protected override openStream(failover: boolean) {
        const call = super.openStream(failover);
        const on = call.on.bind(call) as (event: string, listener: (...args: unknown[]) => void) => unknown;
        on('data', (response: unknown) => {
          leasedToLate += (response as StreamingPullResponse).receivedMessages.length;
        });
        return Object.assign(call, {
          on: (event: string, listener: (...args: unknown[]) => void) =>
            on(event, (...args: unknown[]) => setTimeout(() => listener(...args), 12_000)),
        });
      }
    }
    const late = new LateSubscriber({
      endpoints: endpoints.dispatcher,
      subscription: 'sdk-once-sub',
      ackDeadlineSeconds: 10,
    });
    const handedToLate: string[] = [];
    late.on('message', (message) => {
      handedToLate.push(message.data.toString());
      void message.ack();
    });
    const publisher = new Publisher({ endpoints: endpoints.publisher });
    await publisher.publishAll(
      'sdk-once',
      Array.from({ length: 20 }, (_, i) => ({ data: `once-${i}` })),
    );
    await publisher.close();
    await waitFor(() => leasedToLate >= 20, { description: 'every message leased to the late stream first' });
    const prompt = new Subscriber({ endpoints: endpoints.dispatcher, subscription: 'sdk-once-sub' });
    const confirmed = new Set<string>();
    prompt.on('message', (message) => {
      void message.ack().then((result) => {
        if (result.ok && result.confirmed) confirmed.add(message.data.toString());
      });
    });
    await waitFor(() => confirmed.size === 20, {
      timeoutMillis: 60_000,
      description: 'every message acked and confirmed through the prompt stream',
    });
    await waitFor(() => late.refusedOnReceiptCount >= 20, { description: 'the late stream refused its stale leases' });
    assert.deepEqual(handedToLate, [], 'no message acked elsewhere was handed to the late handler');
    await Promise.all([prompt.close(), late.close()]);
    admin.close();
  });

  it('connectToServingDispatcher: streams from the dispatcher serving the subscription, not through the one it reached', async () => {
    const admin = new Admin({ endpoints: endpoints.registry });
    await admin.createTopic({ name: 'sdk-direct', partitions: 2 });
    await admin.createSubscription({ name: 'sdk-direct-sub', topic: 'sdk-direct' });
    const { owner, reached } = await whoServes('sdk-direct-sub', endpoints.dispatcher);
    const subscriber = new Subscriber({
      endpoints: [reached],
      subscription: 'sdk-direct-sub',
      connectToServingDispatcher: true,
    });
    const received = new Set<string>();
    subscriber.on('message', (message: ReceivedMessage) => {
      received.add(message.id);
      message.ack();
    });
    const publisher = new Publisher({ endpoints: endpoints.publisher });
    const first = await publisher.publish('sdk-direct', { data: 'first' });
    await waitFor(() => received.has(first), { timeoutMillis: 30_000, description: 'the first message received' });
    // Frozen, the dispatcher reached first would stall a relayed stream; it stays a group member for its
    // 6 s session, so nothing moves meanwhile.
    const frozen = stack.dispatchers.find((d) => d.address === reached)!;
    frozen.pause();
    try {
      const ids = await publisher.publishAll(
        'sdk-direct',
        Array.from({ length: 20 }, (_, i) => ({ data: `while frozen ${i}` })),
      );
      await waitFor(() => ids.every((id) => received.has(id)), {
        timeoutMillis: 4_000,
        description: `every message from ${owner} while ${reached} was frozen`,
      });
    } finally {
      frozen.resume();
    }
    await subscriber.close();
    await publisher.close();
    admin.close();
  });

  it('reports a missing subscription as a HeraldClientError NOT_FOUND, to listeners and iterators alike', async () => {
    const listening = new Subscriber({ endpoints: endpoints.dispatcher, subscription: 'no-such-subscription' });
    const error = await new Promise<HeraldClientError>((resolve) => {
      listening.on('error', resolve);
      listening.on('message', () => undefined);
    });
    assert.equal(error.codeName, 'NOT_FOUND');
    const iterating = new Subscriber({ endpoints: endpoints.dispatcher, subscription: 'no-such-subscription' });
    await assert.rejects(
      (async () => {
        for await (const message of iterating) message.ack();
      })(),
      (e: unknown) => e instanceof HeraldClientError && e.codeName === 'NOT_FOUND',
    );
  });

  it('fails over between publisher endpoints when one is down', async () => {
    const admin = new Admin({ endpoints: endpoints.registry });
    await admin.createTopic({ name: 'sdk-failover' });
    const publisher = new Publisher({
      endpoints: ['127.0.0.1:1', ...endpoints.publisher],
      retry: { initialMillis: 20 },
    });
    const ids = await publisher.publishAll(
      'sdk-failover',
      Array.from({ length: 50 }, (_, i) => ({ data: `m${i}` })),
    );
    assert.equal(new Set(ids).size, 50);
    await publisher.close();
    await assert.rejects(
      admin.getTopic('sdk-missing'),
      (e: unknown) => e instanceof HeraldClientError && e.codeName === 'NOT_FOUND',
    );
    admin.close();
  });
});

/**
 * Which dispatcher serves `subscription`, asked the way a client asks: a
 * stream with `accept_redirect` on each until one says where it is served
 * (the other serves it, and would send a message rather than an address).
 */
async function whoServes(subscription: string, dispatchers: string[]): Promise<{ owner: string; reached: string }> {
  let found: { owner: string; reached: string } | undefined;
  await waitFor(
    async () => {
      for (const reached of dispatchers) {
        const owner = await askServedBy(reached, subscription);
        if (owner) found = { owner, reached };
        if (found) return true;
      }
      return false;
    },
    { timeoutMillis: 30_000, description: `a dispatcher naming the one that serves ${subscription}` },
  );
  return found!;
}

/** The `served_by` a dispatcher answers to a stream with `accept_redirect`; undefined if it sent none in 2 s. */
function askServedBy(address: string, subscription: string): Promise<string | undefined> {
  const client = new DispatcherServiceClient(address, credentials.createInsecure());
  const call = client.streamingPull();
  return new Promise<string | undefined>((resolve) => {
    const done = (servedBy: string | undefined) => {
      clearTimeout(timer);
      call.cancel();
      client.close();
      resolve(servedBy);
    };
    const timer = setTimeout(() => done(undefined), 2_000);
    call.on('data', (response: StreamingPullResponse) => done(response.servedBy || undefined));
    call.on('error', () => done(undefined));
    call.on('end', () => done(undefined));
    call.write(StreamingPullRequest.fromPartial({ subscription, acceptRedirect: true, maxOutstandingMessages: '1' }));
  });
}
