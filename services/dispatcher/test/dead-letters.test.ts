import assert from 'node:assert/strict';
import { type ServiceError, status } from '@grpc/grpc-js';
import {
  type DispatcherServiceClient,
  type PeekDeadLettersResponse,
  Position,
  type ReceivedMessage,
  type RedriveDeadLettersRequest,
  type RedriveDeadLettersResponse,
  millisToDuration,
} from '@herald/api';
import { createKafkaClient } from '@herald/kafka';
import { createLogger } from '@herald/logging';
import { rpc, testKafka, waitFor } from '@herald/testkit';
import type { InboundMessage } from '../src/domain/inbound-message';
import { toInboundMessages } from '../src/kafka/inbound-record';
import { redriveAddressOf, redriveCopy, redriveTarget } from '../src/kafka/redrive-record';
import { readPartitionRange } from '../src/redrive/partition-range';
import { RedriveStore } from '../src/redrive/redrive-store';
import { redriveSource, redriveStateKey, redriveTopicId } from '../src/redrive/redrive-state';
import { type DispatchFixture, startDispatchFixture } from './fixture';
import { PullStream } from './pull-stream';

/** Runs RedriveDeadLetters to its end; resolves with every progress response, or rejects with the call's error. */
function redriveCall(
  client: DispatcherServiceClient,
  request: Partial<RedriveDeadLettersRequest>,
): Promise<RedriveDeadLettersResponse[]> {
  return new Promise((resolve, reject) => {
    const responses: RedriveDeadLettersResponse[] = [];
    const call = client.redriveDeadLetters({ maxMessagesPerSecond: 0, ...request } as RedriveDeadLettersRequest);
    call.on('data', (response: RedriveDeadLettersResponse) => responses.push(response));
    call.on('error', (error: ServiceError) => reject(error));
    call.on('end', () => resolve(responses));
  });
}

/** Every dead letter of a selection not moved yet, page by page. */
async function peekAll(
  client: DispatcherServiceClient,
  subscription: string,
  filter = '',
  pageSize = 1000,
): Promise<ReceivedMessage[]> {
  const messages: ReceivedMessage[] = [];
  let pageToken = '';
  do {
    const page: PeekDeadLettersResponse = await rpc(client, client.peekDeadLetters, {
      selection: { subscription, deadLetterTopic: '', filter },
      maxMessages: pageSize,
      pageToken,
    });
    messages.push(...page.messages);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return messages;
}

/** Records of a Kafka topic, every partition, from the start to the end now, as the dispatcher reads them. */
async function readTopic(kafkaTopic: string): Promise<Array<{ record: InboundMessage; source?: string }>> {
  const logger = createLogger({ service: 'test', level: 'silent' });
  const kafka = createKafkaClient({ brokers: testKafka().brokers, clientId: 'test-reader', logger });
  const admin = kafka.topicAdmin();
  try {
    const out: Array<{ record: InboundMessage; source?: string }> = [];
    for (const { partition, offset } of await admin.latestOffsets(kafkaTopic)) {
      await readPartitionRange(kafka, kafkaTopic, partition, 0, Number(offset), async (records) => {
        for (const consumed of records) {
          const [record] = toInboundMessages([consumed], logger);
          out.push({ record: record!, source: redriveAddressOf(consumed)?.source });
        }
        return 'more';
      });
    }
    return out;
  } finally {
    await admin.close();
  }
}

describe('dead letters seen by subscribers (3-broker Kafka)', function () {
  this.timeout(240_000);
  let f: DispatchFixture;

  before(async () => {
    f = await startDispatchFixture('deadletters');
  });
  after(async () => f?.close());

  it('delivers where each dead letter came from as herald-dead-letter-* attributes through StreamingPull', async () => {
    await f.createTopic('orders', 2);
    await f.createTopic('orders-dead', 1);
    await f.createSubscription({
      name: 'orders-sub',
      topic: 'orders',
      retryPolicy: { minimumBackoff: millisToDuration(0), maximumBackoff: millisToDuration(0) },
      deadLetterPolicy: { deadLetterTopic: 'orders-dead', maxDeliveryAttempts: 5 },
    });
    await f.createSubscription({ name: 'orders-dead-sub', topic: 'orders-dead' });
    // Filters see the dead-letter attributes too: a shared dead-letter topic can be split by origin.
    await f.createSubscription({
      name: 'orders-dead-from-elsewhere',
      topic: 'orders-dead',
      filter: 'attributes.herald-dead-letter-subscription = "another-sub"',
    });
    const failing = new PullStream(f.dispatchers[0]!, { subscription: 'orders-sub', decide: () => 'nack' });
    const before = Date.now();
    const published = await f.publish('orders', 3, (i) => ({
      data: Buffer.from(`order ${i}`),
      attributes: { n: String(i), region: 'eu' },
    }));
    const after = Date.now();
    const dead = new PullStream(f.dispatchers[1]!, { subscription: 'orders-dead-sub' });
    const elsewhere = new PullStream(f.dispatchers[0]!, { subscription: 'orders-dead-from-elsewhere' });
    await waitFor(() => dead.acked.size === 3, { timeoutMillis: 60_000, description: 'three dead letters' });
    failing.close();

    for (const { message } of dead.deliveries) {
      const attributes = message.attributes;
      const i = Number(attributes.n);
      assert.equal(message.data.toString(), `order ${i}`);
      assert.equal(attributes.region, 'eu', 'the published attributes travel with the dead letter');
      assert.equal(attributes['herald-dead-letter-subscription'], 'orders-sub');
      assert.equal(attributes['herald-dead-letter-attempts'], '5');
      assert.equal(attributes['herald-dead-letter-message-id'], published[i]);
      const publishTime = Date.parse(attributes['herald-dead-letter-publish-time']!);
      assert.ok(
        publishTime >= before - 1 && publishTime <= after + 1,
        `original publish time ${attributes['herald-dead-letter-publish-time']} within the publish call`,
      );
      assert.notEqual(message.messageId, published[i], 'the dead letter is a message of its own topic');
    }
    // Attempts on the source subscription, seen by the failing stream: five each, then nothing more.
    for (const id of published) {
      const attempts = failing.deliveries
        .filter((d) => d.message.messageId === id)
        .map((d) => d.message.deliveryAttempt);
      assert.deepEqual(attempts, [1, 2, 3, 4, 5]);
    }
    // The filtered subscription's cursor passes all three (it is settled) without delivering any.
    await waitFor(async () => (await f.storedCursor('orders-dead-from-elsewhere')).get(0) === 3n, {
      timeoutMillis: 30_000,
      description: 'the filtered subscription past the three dead letters',
    });
    elsewhere.close();
    dead.close();
    assert.equal(elsewhere.deliveries.length, 0);
  });

  it('redrives to the source subscription alone, each dead letter once, by filter then the rest; peek shows what is left', async () => {
    await f.createTopic('pay', 3);
    await f.createTopic('pay-dead', 2);
    const paySub = await f.createSubscription({
      name: 'pay-sub',
      topic: 'pay',
      retryPolicy: { minimumBackoff: millisToDuration(0), maximumBackoff: millisToDuration(0) },
      deadLetterPolicy: { deadLetterTopic: 'pay-dead', maxDeliveryAttempts: 5 },
    });
    await f.createSubscription({ name: 'pay-audit', topic: 'pay' });
    const audit = new PullStream(f.dispatchers[1]!, { subscription: 'pay-audit' });
    const failing = new PullStream(f.dispatchers[0]!, { subscription: 'pay-sub', decide: () => 'nack' });
    const published = await f.publish('pay', 30, (i) => ({
      data: Buffer.from(`payment ${i}`),
      attributes: { n: String(i), region: i % 2 === 0 ? 'eu' : 'us' },
      // The copy keeps this key, yet is not taken for a repeat of the message that failed.
      idempotencyKey: `payment-${i}`,
      orderingKey: i % 5 === 0 ? `customer-${i % 3}` : '',
    }));
    await waitFor(async () => (await peekAll(f.dispatchers[1]!, 'pay-sub')).length === 30, {
      timeoutMillis: 60_000,
      description: '30 dead letters',
    });
    failing.close();
    const byId = new Map(published.map((id, i) => [id, i]));

    // A page at a time, and by filter on the published and the dead-letter attributes.
    const paged = await peekAll(f.dispatchers[0]!, 'pay-sub', '', 7);
    assert.deepEqual(new Set(paged.map((m) => m.attributes['herald-dead-letter-message-id'])), new Set(published));
    assert.equal(paged.length, 30);
    const eu = await peekAll(
      f.dispatchers[0]!,
      'pay-sub',
      'attributes.region = "eu" AND attributes.herald-dead-letter-attempts = "5"',
    );
    assert.equal(eu.length, 15);

    const pay = new PullStream(f.dispatchers[0]!, { subscription: 'pay-sub' });
    const first = await redriveCall(f.dispatchers[1]!, {
      selection: { subscription: 'pay-sub', deadLetterTopic: '', filter: 'attributes.region = "eu"' },
    });
    const done = first[first.length - 1]!;
    assert.equal(done.done, true);
    assert.equal(done.moved, '15');
    assert.equal(done.toExamine, '30', 'the whole dead-letter topic, both partitions');
    await waitFor(() => pay.acked.size === 15, { timeoutMillis: 30_000, description: 'the 15 eu payments again' });
    for (const { message } of pay.deliveries) {
      const i = byId.get(message.messageId);
      assert.ok(i !== undefined && i % 2 === 0, `${message.messageId} is an eu payment under its original id`);
      assert.equal(message.data.toString(), `payment ${i}`);
      assert.deepEqual(message.attributes, { n: String(i), region: 'eu' }, 'no dead-letter attributes on a redelivery');
      assert.equal(message.idempotencyKey, `payment-${i}`);
      assert.equal(message.orderingKey, i % 5 === 0 ? `customer-${i % 3}` : '');
      assert.equal(message.deliveryAttempt, 1);
    }
    assert.equal((await peekAll(f.dispatchers[1]!, 'pay-sub')).length, 15, 'the us ones are left');
    assert.equal((await peekAll(f.dispatchers[1]!, 'pay-sub', 'attributes.region = "eu"')).length, 0);

    // Everything: only what the first redrive left.
    const second = await redriveCall(f.dispatchers[0]!, {
      selection: { subscription: 'pay-sub', deadLetterTopic: '', filter: '' },
    });
    assert.equal(second[second.length - 1]!.moved, '15');
    await waitFor(() => pay.acked.size === 30, { timeoutMillis: 30_000, description: 'all 30 payments again' });
    assert.equal(pay.deliveries.length, 30, 'each once');
    assert.deepEqual(await peekAll(f.dispatchers[0]!, 'pay-sub'), []);
    const third = await redriveCall(f.dispatchers[0]!, {
      selection: { subscription: 'pay-sub', deadLetterTopic: '', filter: '' },
    });
    assert.ok(
      third.every((r) => r.moved === '0'),
      'nothing left to move',
    );
    assert.equal(third[third.length - 1]!.done, true);

    // The other subscription of the topic never sees a copy: it reads past the 30 of them.
    await waitFor(
      async () => [...(await f.storedCursor('pay-audit')).values()].reduce((sum, offset) => sum + offset, 0n) === 60n,
      { timeoutMillis: 30_000, description: 'pay-audit past the originals and the copies' },
    );
    audit.close();
    pay.close();
    assert.equal(audit.deliveries.length, 30);
    assert.ok(audit.deliveries.every((d) => d.message.deliveryAttempt === 1));
    const copies = (await readTopic(`${f.prefix}pay`)).filter((r) => r.source !== undefined);
    assert.equal(copies.length, 30);
    assert.equal(new Set(copies.map((c) => c.source)).size, 30);
    assert.ok(copies.every((c) => c.record.redrive?.target === redriveTarget('pay-sub', paySub.createRevision)));

    // Tail shows what publishers wrote, not the copies.
    const tail = f.dispatchers[1]!.tail({
      topic: 'pay',
      filter: '',
      start: { $case: 'position', value: Position.POSITION_EARLIEST },
    });
    const tailed: string[] = [];
    tail.on('data', (response: { messages: ReceivedMessage[] }) =>
      tailed.push(...response.messages.map((m) => m.messageId)),
    );
    tail.on('error', () => undefined);
    await waitFor(() => tailed.length >= 30, { timeoutMillis: 30_000 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    tail.cancel();
    assert.deepEqual(tailed.sort(), [...published].sort());
  });

  it('refuses what it cannot redrive, with the status and the field', async () => {
    await f.createTopic('plain', 1);
    await f.createSubscription({ name: 'plain-sub', topic: 'plain' });
    const refused = async (request: Partial<RedriveDeadLettersRequest>) => {
      const error = (await redriveCall(f.dispatchers[0]!, request).then(
        () => assert.fail('accepted'),
        (e: unknown) => e,
      )) as ServiceError;
      return [error.code, error.details];
    };
    assert.deepEqual(await refused({ selection: { subscription: 'missing-sub', deadLetterTopic: '', filter: '' } }), [
      status.NOT_FOUND,
      'subscription "missing-sub" not found',
    ]);
    const [code, details] = await refused({
      selection: { subscription: 'plain-sub', deadLetterTopic: '', filter: '' },
    });
    assert.equal(code, status.FAILED_PRECONDITION);
    assert.match(details as string, /has no dead-letter policy; name the dead-letter topic/);
    assert.deepEqual(
      await refused({ selection: { subscription: 'plain-sub', deadLetterTopic: 'no-such-dead', filter: '' } }),
      [status.NOT_FOUND, 'selection.dead_letter_topic: topic "no-such-dead" not found'],
    );
    const [badFilter, why] = await refused({
      selection: { subscription: 'plain-sub', deadLetterTopic: 'plain', filter: 'attributes.x =' },
    });
    assert.equal(badFilter, status.INVALID_ARGUMENT);
    assert.match(why as string, /^filter: /);
    assert.deepEqual(
      await refused({
        selection: { subscription: 'plain-sub', deadLetterTopic: 'plain', filter: '' },
        maxMessagesPerSecond: 10_001,
      }),
      [status.INVALID_ARGUMENT, 'max_messages_per_second: must be 1 to 10000 (0 for 100), not 10001'],
    );
  });

  it('completes a batch a redrive cut off half-written: copies already written are not written again', async () => {
    await f.createTopic('cut', 2);
    await f.createTopic('cut-dead', 1);
    const sub = await f.createSubscription({
      name: 'cut-sub',
      topic: 'cut',
      retryPolicy: { minimumBackoff: millisToDuration(0), maximumBackoff: millisToDuration(0) },
      deadLetterPolicy: { deadLetterTopic: 'cut-dead', maxDeliveryAttempts: 5 },
    });
    const failing = new PullStream(f.dispatchers[0]!, { subscription: 'cut-sub', decide: () => 'nack' });
    const published = await f.publish('cut', 10);
    await waitFor(async () => (await peekAll(f.dispatchers[0]!, 'cut-sub')).length === 10, { timeoutMillis: 60_000 });
    failing.close();

    // What a dispatcher killed in the middle of a batch leaves: the batch's intent (six dead
    // letters, and the source topic's end before it), and the copies of three of them.
    const deadLetters = (await readTopic(`${f.prefix}cut-dead`)).map((r) => r.record);
    const { topic } = await rpc(f.registry, f.registry.getTopic, { name: 'cut-dead' });
    const topicId = redriveTopicId('cut-dead', topic!.createTime!.getTime());
    const logger = createLogger({ service: 'test', level: 'silent' });
    const kafka = createKafkaClient({ brokers: testKafka().brokers, clientId: 'test-cut', logger });
    const admin = kafka.topicAdmin();
    const producer = kafka.durableProducer();
    await producer.connect();
    try {
      const store = new RedriveStore(kafka, admin, producer, `${f.prefix}_redrives`);
      const batch = deadLetters.slice(0, 6);
      const sources = batch.map((d) => redriveSource(topicId, d.partition, d.offset));
      const sourceEnds = new Map(
        (await admin.latestOffsets(`${f.prefix}cut`)).map((o) => [o.partition, Number(o.offset)]),
      );
      await store.save(redriveStateKey('cut-sub', topicId), { done: new Map(), pending: { sources, sourceEnds } });
      const target = redriveTarget('cut-sub', sub.createRevision);
      await producer.send(
        `${f.prefix}cut`,
        2,
        batch.slice(0, 3).map((d, i) => redriveCopy(d, { target, source: sources[i]! }, 'redrive-killed', Date.now())),
      );
    } finally {
      await producer.close();
      await admin.close();
    }

    const responses = await redriveCall(f.dispatchers[1]!, {
      selection: { subscription: 'cut-sub', deadLetterTopic: '', filter: '' },
    });
    const last = responses[responses.length - 1]!;
    assert.deepEqual([last.recovered, last.moved, last.done], ['3', '7', true]);
    const copies = (await readTopic(`${f.prefix}cut`)).filter((r) => r.source !== undefined);
    assert.equal(copies.length, 10, 'one copy of each dead letter');
    assert.equal(new Set(copies.map((c) => c.source)).size, 10);
    const receiver = new PullStream(f.dispatchers[0]!, { subscription: 'cut-sub' });
    await waitFor(() => receiver.acked.size === 10, { timeoutMillis: 30_000 });
    receiver.close();
    assert.deepEqual([...receiver.acked].sort(), [...published].sort());
    assert.equal(receiver.deliveries.length, 10);
  });
});
