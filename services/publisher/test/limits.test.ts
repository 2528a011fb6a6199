import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, type ServiceError, status } from '@grpc/grpc-js';
import {
  Message,
  PublisherServiceClient,
  type PublishStreamResponse,
  SubscriberRegistryServiceClient,
  Topic,
} from '@herald/api';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { rpc, testKafka, uniqueName, waitFor } from '@herald/testkit';

const MB = 1_000_000;

describe('publisher size limits (3-broker Kafka)', function () {
  this.timeout(180_000);
  const prefix = `${uniqueName('publimits')}.`;
  let stack: HeraldStack;
  let publisher: PublisherServiceClient;
  let registry: SubscriberRegistryServiceClient;

  /** Publishes one message of `bytes` bytes; resolves with the status and how long the answer took. */
  const publishOf = async (bytes: number) => {
    const startedAt = Date.now();
    try {
      await rpc(publisher, publisher.publish, {
        topic: 'sized',
        messages: [Message.fromPartial({ data: Buffer.alloc(bytes, 1) })],
      });
      return { code: status.OK, details: '', millis: Date.now() - startedAt };
    } catch (error) {
      const e = error as ServiceError;
      return { code: e.code, details: e.details, millis: Date.now() - startedAt };
    }
  };

  before(async () => {
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      instances: { 'subscriber-registry': 1, publisher: 1, dispatcher: 0 },
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    registry = new SubscriberRegistryServiceClient(stack.registries[0]!.address, credentials.createInsecure());
    // Like any client that does not check sizes itself: it sends whatever it is given.
    publisher = new PublisherServiceClient(stack.publishers[0]!.address, credentials.createInsecure(), {
      'grpc.max_send_message_length': -1,
    });
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'sized', partitions: 1 }) });
  });

  after(async () => {
    publisher?.close();
    registry?.close();
    await stack?.stop();
  });

  for (const bytes of [10.6 * MB, 20 * MB]) {
    it(`answers a ${bytes / MB} MB message at once with INVALID_ARGUMENT naming PUBLISHER_MAX_MESSAGE_BYTES`, async () => {
      const outcome = await publishOf(bytes);
      assert.equal(outcome.code, status.INVALID_ARGUMENT, outcome.details);
      assert.equal(
        outcome.details,
        `messages[0]: message is ${bytes} bytes; the limit is 10485760 (PUBLISHER_MAX_MESSAGE_BYTES)`,
      );
      assert.ok(outcome.millis < 5_000, `answered in ${outcome.millis} ms`);
    });
  }

  it('answers a 200 MB request, past the gRPC receive limit, at once with RESOURCE_EXHAUSTED naming the sizes', async () => {
    const outcome = await publishOf(200 * MB);
    assert.equal(outcome.code, status.RESOURCE_EXHAUSTED, outcome.details);
    // gRPC's own words: it refuses from the length prefix, before reading the body.
    assert.match(outcome.details, /^Received message larger than max \(2000000\d\d vs 67108864\)$/);
    // Most of this is the test's own allocation and encoding of 200 MB.
    assert.ok(outcome.millis < 10_000, `answered in ${outcome.millis} ms`);
    assert.equal((await publishOf(10)).code, status.OK, 'the publisher still serves');
  });

  it('answers a 20 MB batch on PublishStream with its own INVALID_ARGUMENT, and the stream goes on', async () => {
    const call = publisher.publishStream();
    const responses: PublishStreamResponse[] = [];
    let failure: ServiceError | undefined;
    call.on('data', (response: PublishStreamResponse) => responses.push(response));
    call.on('error', (error: ServiceError) => (failure = error));
    const request = (requestId: number, bytes: number) => ({
      requestId: String(requestId),
      topic: 'sized',
      messages: [Message.fromPartial({ data: Buffer.alloc(bytes, 1) })],
    });
    call.write(request(1, 20 * MB));
    call.write(request(2, 10));
    await waitFor(() => responses.length === 2 || failure !== undefined, { description: 'both answers' });
    call.end();
    assert.equal(failure, undefined, failure?.details);
    const byId = new Map(responses.map((response) => [response.requestId, response]));
    assert.equal(byId.get('1')?.error?.code, status.INVALID_ARGUMENT);
    assert.match(byId.get('1')!.error!.message, /the limit is 10485760 \(PUBLISHER_MAX_MESSAGE_BYTES\)/);
    assert.equal(byId.get('2')?.messageIds.length, 1);
  });
});
