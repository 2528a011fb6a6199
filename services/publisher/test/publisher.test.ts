import assert from 'node:assert/strict';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import {
  Message,
  PublisherServiceClient,
  type PublishStreamResponse,
  SubscriberRegistryServiceClient,
  Subscription,
  Topic,
} from '@herald/api';
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { latestOffsets, readKafkaTopic, rpc, rpcStatus, testKafka, uniqueName, waitFor } from '@herald/testkit';

const message = (fields: Partial<Message>) => Message.fromPartial(fields);

describe('publisher (two instances, 3-broker Kafka)', function () {
  this.timeout(180_000);
  const prefix = `${uniqueName('pub')}.`;
  let stack: HeraldStack;
  let registry: SubscriberRegistryServiceClient;
  let publishers: PublisherServiceClient[];

  before(async () => {
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      instances: { 'subscriber-registry': 1, publisher: 2, dispatcher: 0 },
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    registry = new SubscriberRegistryServiceClient(stack.registries[0]!.address, credentials.createInsecure());
    publishers = stack.publishers.map((p) => new PublisherServiceClient(p.address, credentials.createInsecure()));
  });

  after(async () => {
    registry?.close();
    publishers?.forEach((p) => p.close());
    await stack?.stop();
  });

  it('writes records with the promised key, headers, timestamp and payload', async () => {
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'layout', partitions: 3 }) });
    const publisher = publishers[0]!;
    const before = Date.now();
    const { messageIds } = await rpc(publisher, publisher.publish, {
      topic: 'layout',
      messages: [
        message({
          data: Buffer.from('ordered'),
          attributes: { kind: 'order', region: 'eu' },
          orderingKey: 'customer-7',
        }),
        message({ data: Buffer.from('retry-safe'), idempotencyKey: 'payment-42' }),
        message({ data: Buffer.from('plain') }),
      ],
    });
    const after = Date.now();
    assert.equal(messageIds.length, 3);
    const records = await readKafkaTopic(testKafka().brokers, `${prefix}layout`, 3);
    const byId = new Map(records.map((r) => [r.message.headers!['herald-message-id']!.toString(), r.message]));
    const ordered = byId.get(messageIds[0]!)!;
    assert.equal(ordered.key?.toString(), 'customer-7');
    assert.equal(ordered.value?.toString(), 'ordered');
    assert.equal(ordered.headers!.kind!.toString(), 'order');
    assert.equal(ordered.headers!.region!.toString(), 'eu');
    assert.equal(ordered.headers!['herald-ordering-key']!.toString(), 'customer-7');
    assert.ok(ordered.headers!['herald-publisher']!.toString().length > 0);
    const timestamp = Number(ordered.timestamp);
    assert.ok(timestamp >= before && timestamp <= after, `timestamp ${timestamp} within the publish call`);
    const retrySafe = byId.get(messageIds[1]!)!;
    assert.equal(retrySafe.key?.toString(), 'payment-42');
    assert.equal(retrySafe.headers!['herald-idempotency-key']!.toString(), 'payment-42');
    const plain = byId.get(messageIds[2]!)!;
    assert.equal(plain.key, null);
    assert.equal(plain.value?.toString(), 'plain');
    // A client retrying through the other instance is answered with the first attempt's id.
    const retried = await rpc(publishers[1]!, publishers[1]!.publish, {
      topic: 'layout',
      messages: [message({ data: Buffer.from('retry-safe'), idempotencyKey: 'payment-42' })],
    });
    assert.deepEqual(retried.messageIds, [messageIds[1]]);
  });

  it('gives unique message ids across 100,000 publishes through two instances, all readable in Kafka', async () => {
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'volume', partitions: 6 }) });
    const requests = 1_000;
    const perRequest = 100;
    const ids: string[] = [];
    let next = 0;
    const payload = Buffer.alloc(100, 'x');
    const worker = async (publisher: PublisherServiceClient) => {
      while (next < requests) {
        next++;
        const { messageIds } = await rpc(publisher, publisher.publish, {
          topic: 'volume',
          messages: Array.from({ length: perRequest }, () => message({ data: payload })),
        });
        ids.push(...messageIds);
      }
    };
    await Promise.all(Array.from({ length: 50 }, (_, i) => worker(publishers[i % 2]!)));
    assert.equal(ids.length, requests * perRequest);
    assert.equal(new Set(ids).size, ids.length, 'message ids are unique');
    const records = await readKafkaTopic(testKafka().brokers, `${prefix}volume`, ids.length, 120_000);
    const inKafka = new Set(records.map((r) => r.message.headers!['herald-message-id']!.toString()));
    assert.equal(records.length, ids.length);
    assert.ok(ids.every((id) => inKafka.has(id)));
  });

  it('starts a new subscription before every message published after its creation returned', async () => {
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'race-start', partitions: 4 }) });
    const publishStarts = new Map<string, number>();
    let publishing = true;
    const loop = async (publisher: PublisherServiceClient) => {
      while (publishing) {
        const startedAt = performance.now();
        const { messageIds } = await rpc(publisher, publisher.publish, {
          topic: 'race-start',
          messages: Array.from({ length: 5 }, (_, i) => message({ data: Buffer.from(`m${i}`), orderingKey: `k${i}` })),
        });
        for (const id of messageIds) publishStarts.set(id, startedAt);
      }
    };
    const loops = Array.from({ length: 8 }, (_, i) => loop(publishers[i % 2]!));
    await waitFor(() => publishStarts.size > 2_000, { description: 'publishing under way' });
    const { subscription } = await rpc(registry, registry.createSubscription, {
      subscription: Subscription.fromPartial({ name: 'late-joiner', topic: 'race-start' }),
    });
    const createdAt = performance.now();
    await waitFor(() => [...publishStarts.values()].filter((t) => t > createdAt).length > 2_000, {
      description: 'publishes after the create',
    });
    publishing = false;
    await Promise.all(loops);
    const start = new Map(subscription!.startOffsets.map((o) => [o.partition, BigInt(o.offset)]));
    const records = await readKafkaTopic(testKafka().brokers, `${prefix}race-start`, publishStarts.size);
    const after = records.filter(
      (r) => publishStarts.get(r.message.headers!['herald-message-id']!.toString())! > createdAt,
    );
    const missed = after.filter((r) => BigInt(r.offset) < start.get(r.partition)!);
    console.log(
      `      ${after.length} messages published after the create returned; ${missed.length} before its start offsets`,
    );
    assert.ok(after.length > 2_000);
    assert.equal(missed.length, 0);
  });

  it('accepts messages up to the 10 MB limit, alone and coalesced with concurrent ones', async () => {
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'large', partitions: 1 }) });
    const publisher = publishers[0]!;
    const big = Buffer.alloc(10 * 1024 * 1024 - 100, 'b');
    const { messageIds } = await rpc(publisher, publisher.publish, {
      topic: 'large',
      messages: [message({ data: big })],
    });
    assert.equal(messageIds.length, 1);
    const medium = Buffer.alloc(200 * 1024, 'm');
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        rpcStatus(publisher, publisher.publish, { topic: 'large', messages: [message({ data: medium })] }),
      ),
    );
    assert.deepEqual(
      outcomes.map((o) => o.codeName),
      Array(20).fill('OK'),
    );
    const records = await readKafkaTopic(testKafka().brokers, `${prefix}large`, 21);
    assert.equal(records.length, 21);
    assert.equal(records[0]!.message.value!.length, big.length);
  });

  it('keeps publishing to other topics after a topic is deleted (kafkajs #1622)', async () => {
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'doomed' }) });
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'survivor' }) });
    const publisher = publishers[0]!;
    await rpc(publisher, publisher.publish, { topic: 'doomed', messages: [message({ data: Buffer.from('x') })] });
    await rpc(registry, registry.deleteTopic, { name: 'doomed' });
    await waitFor(
      async () =>
        (
          await rpcStatus(publisher, publisher.publish, {
            topic: 'doomed',
            messages: [message({ data: Buffer.from('x') })],
          })
        ).codeName === 'NOT_FOUND',
    );
    const outcomes = [];
    for (let i = 0; i < 5; i++) {
      outcomes.push(
        (
          await rpcStatus(publisher, publisher.publish, {
            topic: 'survivor',
            messages: [message({ data: Buffer.from(`s${i}`) })],
          })
        ).codeName,
      );
    }
    assert.deepEqual(outcomes, Array(5).fill('OK'));
  });

  it('pipelines PublishStream and answers each request by id, bad ones with their own error', async () => {
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'streamed' }) });
    const stream = publishers[1]!.publishStream();
    const responses: PublishStreamResponse[] = [];
    stream.on('data', (response: PublishStreamResponse) => responses.push(response));
    for (let i = 0; i < 200; i++) {
      const bad = i === 50;
      stream.write({
        requestId: `r${i}`,
        topic: i === 120 ? 'no-such-topic' : 'streamed',
        messages: bad ? [] : [message({ data: Buffer.from(`s${i}`) })],
      });
    }
    stream.end();
    await new Promise<void>((resolve, reject) => stream.on('end', resolve).on('error', reject));
    assert.equal(responses.length, 200);
    const byId = new Map(responses.map((r) => [r.requestId, r]));
    assert.equal(byId.get('r50')!.error?.code, status.INVALID_ARGUMENT);
    assert.equal(byId.get('r120')!.error?.code, status.NOT_FOUND);
    const ok = responses.filter((r) => !r.error);
    assert.equal(ok.length, 198);
    assert.ok(ok.every((r) => r.messageIds.length === 1));
  });

  it('rejects bad input with the documented code, writing nothing of a rejected batch', async () => {
    await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: 'strict', partitions: 2 }) });
    const publisher = publishers[0]!;
    const good = message({ data: Buffer.from('fine') });
    const cases: Array<[string, { topic: string; messages: Message[] }, number, RegExp]> = [
      [
        'empty batch',
        { topic: 'strict', messages: [] },
        status.INVALID_ARGUMENT,
        /messages: must contain at least one/,
      ],
      [
        'bad topic name',
        { topic: '9lives', messages: [good] },
        status.INVALID_ARGUMENT,
        /topic: must start with a letter/,
      ],
      [
        'unknown topic',
        { topic: 'missing-topic', messages: [good] },
        status.NOT_FOUND,
        /topic "missing-topic" not found/,
      ],
      [
        'too many messages',
        { topic: 'strict', messages: Array(1001).fill(good) },
        status.INVALID_ARGUMENT,
        /PUBLISHER_MAX_BATCH_MESSAGES/,
      ],
      [
        'message too large',
        { topic: 'strict', messages: [good, message({ data: Buffer.alloc(10 * 1024 * 1024 + 1) })] },
        status.INVALID_ARGUMENT,
        /messages\[1\]: message is \d+ bytes; the limit is 10485760/,
      ],
      [
        'empty message',
        { topic: 'strict', messages: [good, message({})] },
        status.INVALID_ARGUMENT,
        /messages\[1\]: a message needs data or at least one attribute/,
      ],
      [
        'reserved attribute',
        {
          topic: 'strict',
          messages: [good, message({ data: Buffer.from('x'), attributes: { 'herald-message-id': 'x' } })],
        },
        status.INVALID_ARGUMENT,
        /reserved/,
      ],
      [
        'attribute value too long',
        { topic: 'strict', messages: [message({ data: Buffer.from('x'), attributes: { k: 'v'.repeat(1025) } })] },
        status.INVALID_ARGUMENT,
        /PUBLISHER_MAX_ATTRIBUTE_VALUE_BYTES/,
      ],
      [
        'too many attributes',
        {
          topic: 'strict',
          messages: [
            message({ attributes: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v'])) }),
          ],
        },
        status.INVALID_ARGUMENT,
        /PUBLISHER_MAX_ATTRIBUTES/,
      ],
      [
        'ordering key too long',
        { topic: 'strict', messages: [message({ data: Buffer.from('x'), orderingKey: 'o'.repeat(1025) })] },
        status.INVALID_ARGUMENT,
        /ordering_key/,
      ],
      [
        'idempotency key too long',
        { topic: 'strict', messages: [message({ data: Buffer.from('x'), idempotencyKey: 'i'.repeat(257) })] },
        status.INVALID_ARGUMENT,
        /idempotency_key/,
      ],
    ];
    const before = await latestOffsets(testKafka().brokers, `${prefix}strict`);
    for (const [title, request, code, details] of cases) {
      const outcome = await rpcStatus(publisher, publisher.publish, request);
      assert.equal(outcome.codeName, status[code], `${title}: ${outcome.details}`);
      assert.match(outcome.details, details, title);
    }
    const after = await latestOffsets(testKafka().brokers, `${prefix}strict`);
    assert.deepEqual(after, before, 'nothing of a rejected batch reached Kafka');
  });
});
