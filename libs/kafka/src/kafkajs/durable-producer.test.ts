import assert from 'node:assert/strict';
import { InternalError, UnavailableError } from '@herald/errors';
import { silentLogger } from '@herald/logging';
import type { Kafka, ProducerBatch, ProducerConfig } from 'kafkajs';
import sinon from 'sinon';
import type { OutgoingRecord } from '../consumed-record';
import { KafkajsDurableProducer, type KafkajsDurableProducerOptions } from './durable-producer';

/** How a fake producer answers one sendBatch. */
type SendBehaviour = (batch: ProducerBatch, producer: FakeProducer) => Promise<unknown>;

/** What Kafka answers when it wrote every partition of a batch. */
function confirmAll(batch: ProducerBatch): unknown[] {
  return (batch.topicMessages ?? []).flatMap(({ topic, messages }) =>
    [...new Set(messages.map((m) => m.partition))].map((partition) => ({
      topicName: topic,
      partition,
      errorCode: 0,
      baseOffset: '0',
    })),
  );
}

/** A kafkajs producer that records what it was asked and answers as the test says. */
class FakeProducer {
  connects = 0;
  disconnects = 0;
  readonly batches: ProducerBatch[] = [];

  constructor(
    readonly config: ProducerConfig | undefined,
    private readonly behaviour: () => SendBehaviour,
  ) {}

  async connect(): Promise<void> {
    this.connects++;
  }

  async disconnect(): Promise<void> {
    this.disconnects++;
  }

  sendBatch(batch: ProducerBatch): Promise<unknown> {
    this.batches.push(batch);
    return this.behaviour()(batch, this);
  }
}

/** A kafkajs client whose `producer()` hands out fakes, remembering each. */
class FakeKafka {
  readonly producers: FakeProducer[] = [];
  /** Acknowledges on the next turn of the event loop, as a quick broker would. */
  onSend: SendBehaviour = (batch) => new Promise((resolve) => setImmediate(() => resolve(confirmAll(batch))));

  producer(config?: ProducerConfig): FakeProducer {
    const producer = new FakeProducer(config, () => this.onSend);
    this.producers.push(producer);
    return producer;
  }

  /** Every sendBatch of every producer, in the order they were made. */
  get batches(): ProducerBatch[] {
    return this.producers.flatMap((p) => p.batches);
  }

  asKafka(): Kafka {
    return this as unknown as Kafka;
  }
}

interface Deferred {
  promise: Promise<unknown>;
  resolve: (value?: unknown) => void;
  reject: (error: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: (value?: unknown) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A caller's records, with values `<caller>/<index>` so that a batch shows whose they are. */
function recordsOf(caller: string, count: number, bytes = 10): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 2 === 0 ? `${caller}-key` : null,
    value: Buffer.concat([Buffer.from(`${caller}/${i}`), Buffer.alloc(Math.max(0, bytes - 10))]),
    headers: { 'herald-message-id': `${caller}-${i}` },
    timestamp: 1_700_000_000_000 + i,
  }));
}

/** The `<caller>/<index>` tags of a topic's records in one sendBatch. */
function tagsOf(batch: ProducerBatch, topic: string): string[] {
  const messages = batch.topicMessages?.find((t) => t.topic === topic)?.messages ?? [];
  return messages.map((m) => (m.value as Buffer).toString().replace(/\0+$/, ''));
}

function recordCount(batch: ProducerBatch): number {
  return (batch.topicMessages ?? []).reduce((sum, t) => sum + t.messages.length, 0);
}

/** A promise's outcome, observed without letting a rejection go unhandled. */
interface Observed {
  state: 'pending' | 'resolved' | 'rejected';
  error?: unknown;
}

function observe(promise: Promise<unknown>): Observed {
  const observed: Observed = { state: 'pending' };
  promise.then(
    () => (observed.state = 'resolved'),
    (error: unknown) => Object.assign(observed, { state: 'rejected', error }),
  );
  return observed;
}

/** Polls with real timers until `condition` holds (unit-test scale: 2 s at most). */
async function until(condition: () => boolean, description: string): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

async function connected(
  kafka: FakeKafka,
  options: KafkajsDurableProducerOptions = {},
): Promise<KafkajsDurableProducer> {
  const producer = new KafkajsDurableProducer(kafka.asKafka(), silentLogger(), options);
  await producer.connect();
  return producer;
}

/** A kafkajs connection failure: transient, so Herald calls it UNAVAILABLE. */
function connectionError(): Error {
  return Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
    name: 'KafkaJSConnectionError',
  });
}

describe('KafkajsDurableProducer', () => {
  describe('connect', () => {
    it('creates one idempotent producer per lane, one request in flight each, no topic auto-creation', async () => {
      const kafka = new FakeKafka();
      await connected(kafka, { lanes: 3 });
      assert.equal(kafka.producers.length, 3);
      for (const producer of kafka.producers) {
        assert.equal(producer.connects, 1);
        assert.equal(producer.config?.idempotent, true);
        assert.equal(producer.config?.maxInFlightRequests, 1);
        assert.equal(producer.config?.allowAutoTopicCreation, false);
      }
    });
  });

  describe('send', () => {
    it('coalesces 200 concurrent sends of one tick into one acks=all sendBatch', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka);
      const callers = Array.from({ length: 200 }, (_, i) => `c${i}`);
      await Promise.all(callers.map((caller) => producer.send('orders', 1, recordsOf(caller, 3))));
      assert.equal(kafka.batches.length, 1, 'sendBatch calls');
      assert.equal(kafka.batches[0]!.acks, -1, 'acks=all');
      assert.deepEqual(producer.stats, { requests: 1, records: 600, resends: 0, unconfirmed: 0 });
      // Each caller's records together and in order, callers in the order they called.
      assert.deepEqual(
        tagsOf(kafka.batches[0]!, 'orders'),
        callers.flatMap((caller) => [0, 1, 2].map((i) => `${caller}/${i}`)),
      );
    });

    it('keeps key, headers and timestamp of every record', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka);
      const records = recordsOf('solo', 2);
      await producer.send('orders', 1, records);
      const messages = kafka.batches[0]!.topicMessages![0]!.messages;
      assert.deepEqual(
        messages.map((m) => [m.key, m.headers, m.timestamp]),
        records.map((r) => [r.key, r.headers, String(r.timestamp)]),
      );
    });

    it('groups the records of one batch by topic, each caller still in one piece and in order', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka);
      await Promise.all([
        producer.send('orders', 1, recordsOf('a', 2)),
        producer.send('payments', 1, recordsOf('b', 3)),
        producer.send('orders', 1, recordsOf('c', 2)),
        producer.send('payments', 1, recordsOf('d', 1)),
      ]);
      assert.equal(kafka.batches.length, 1);
      const batch = kafka.batches[0]!;
      assert.deepEqual(
        batch.topicMessages!.map((t) => t.topic),
        ['orders', 'payments'],
      );
      assert.deepEqual(tagsOf(batch, 'orders'), ['a/0', 'a/1', 'c/0', 'c/1']);
      assert.deepEqual(tagsOf(batch, 'payments'), ['b/0', 'b/1', 'b/2', 'd/0']);
    });

    it('splits at maxBatchRecords without ever splitting a caller', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka, { maxBatchRecords: 10 });
      const callers = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
      await Promise.all(callers.map((caller) => producer.send('orders', 1, recordsOf(caller, 4))));
      assert.ok(kafka.batches.length >= 3, `${kafka.batches.length} sendBatch calls for 28 records of at most 10`);
      for (const batch of kafka.batches) assert.ok(recordCount(batch) <= 10, `a batch of ${recordCount(batch)}`);
      const all = kafka.batches.flatMap((batch) => tagsOf(batch, 'orders'));
      assert.deepEqual(
        all,
        callers.flatMap((caller) => [0, 1, 2, 3].map((i) => `${caller}/${i}`)),
      );
      for (const caller of callers) {
        const holding = kafka.batches.filter((batch) =>
          tagsOf(batch, 'orders').some((t) => t.startsWith(`${caller}/`)),
        );
        assert.equal(holding.length, 1, `${caller}'s records travel in one request`);
      }
    });

    it('sends a caller with more records than maxBatchRecords alone, in one request', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka, { maxBatchRecords: 10 });
      await Promise.all([
        producer.send('orders', 1, recordsOf('before', 6)),
        producer.send('orders', 1, recordsOf('big', 15)),
        producer.send('orders', 1, recordsOf('after', 2)),
      ]);
      assert.deepEqual(
        kafka.batches.map((batch) => tagsOf(batch, 'orders').length),
        [6, 15, 2],
      );
      assert.ok(tagsOf(kafka.batches[1]!, 'orders').every((tag) => tag.startsWith('big/')));
    });

    it('splits at maxBatchBytes', async () => {
      const kafka = new FakeKafka();
      // Each record counts as its value plus 64 bytes of overhead: 1000 + 64 here (keys add a few more).
      const producer = await connected(kafka, { maxBatchBytes: 5_000 });
      await Promise.all(['a', 'b', 'c', 'd'].map((caller) => producer.send('orders', 1, recordsOf(caller, 2, 1_000))));
      assert.ok(kafka.batches.length >= 2, `${kafka.batches.length} sendBatch calls`);
      for (const batch of kafka.batches) assert.ok(recordCount(batch) <= 4, `a batch of ${recordCount(batch)}`);
      assert.equal(
        kafka.batches.reduce((sum, batch) => sum + recordCount(batch), 0),
        8,
      );
    });

    it('rejects at once after close', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka);
      await producer.close();
      assert.equal(kafka.producers[0]!.disconnects, 1);
      await assert.rejects(producer.send('orders', 1, recordsOf('late', 1)), UnavailableError);
      assert.equal(kafka.batches.length, 0);
    });

    it('sends what is queued before close resolves', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka, { lingerMillis: 50 });
      const sent = observe(producer.send('orders', 1, recordsOf('queued', 3)));
      await producer.close();
      assert.equal(sent.state, 'resolved');
      assert.deepEqual(tagsOf(kafka.batches[0]!, 'orders'), ['queued/0', 'queued/1', 'queued/2']);
    });
  });

  describe('when sendBatch fails', () => {
    /**
     * Callers a and b share a first batch, held open; c and d queue behind it.
     * The first batch then fails with `error`.
     */
    async function failFirstBatch(error: unknown) {
      const kafka = new FakeKafka();
      const first = deferred();
      kafka.onSend = (batch, fake) =>
        fake === kafka.producers[0] && fake.batches.length === 1 ? first.promise : ack(batch);
      const producer = await connected(kafka);
      const a = observe(producer.send('orders', 1, recordsOf('a', 2)));
      const b = observe(producer.send('orders', 1, recordsOf('b', 1)));
      await until(() => kafka.batches.length === 1, 'the first sendBatch');
      const c = observe(producer.send('orders', 1, recordsOf('c', 1)));
      const d = observe(producer.send('orders', 1, recordsOf('d', 2)));
      first.reject(error);
      await until(() => [a, b, c, d].every((o) => o.state !== 'pending'), 'every caller to be answered');
      return { kafka, a, b, c, d };
    }

    const ack = (batch: ProducerBatch) =>
      new Promise<unknown>((resolve) => setImmediate(() => resolve(confirmAll(batch))));

    it('resends the whole batch on a new producer after a connection error, and the callers never see it', async () => {
      const { kafka, a, b, c, d } = await failFirstBatch(connectionError());
      for (const caller of [a, b, c, d]) assert.equal(caller.state, 'resolved');
      assert.deepEqual(tagsOf(kafka.producers[0]!.batches[0]!, 'orders'), ['a/0', 'a/1', 'b/0']);
      assert.deepEqual(tagsOf(kafka.producers[1]!.batches[0]!, 'orders'), ['a/0', 'a/1', 'b/0'], 'resent whole');
      assert.equal(kafka.producers[0]!.disconnects, 1);
    });

    it('rejects the callers with UNAVAILABLE when Kafka stays unreachable past the send timeout', async () => {
      const kafka = new FakeKafka();
      kafka.onSend = () => Promise.reject(connectionError());
      const producer = await connected(kafka, { sendTimeoutMillis: 300 });
      const a = observe(producer.send('orders', 1, recordsOf('a', 1)));
      await until(() => a.state !== 'pending', 'the caller to be answered');
      assert.ok(a.error instanceof UnavailableError, String(a.error));
      assert.ok(kafka.producers.length > 2, 'each attempt on a new producer');
    });

    it('sends again the partitions Kafka did not confirm, even when sendBatch said it succeeded', async () => {
      const kafka = new FakeKafka();
      // The first answer confirms partition 0 only: what kafkajs 2.2.4 does when a leader moved mid-send.
      kafka.onSend = (batch, fake) =>
        Promise.resolve(
          fake === kafka.producers[0]
            ? confirmAll(batch).filter((entry) => (entry as { partition: number }).partition === 0)
            : confirmAll(batch),
        );
      const producer = await connected(kafka);
      await producer.send('orders', 4, recordsOf('k', 8));
      const resent = kafka.producers[1]!.batches[0]!.topicMessages![0]!.messages;
      assert.ok(resent.length > 0);
      assert.ok(
        resent.every((m) => m.partition !== 0),
        'only the unconfirmed partitions go again',
      );
      assert.equal(producer.stats.unconfirmed, 1);
    });

    it('rejects them with INTERNAL for an error that is not transient', async () => {
      const { a, b, c, d } = await failFirstBatch(
        Object.assign(new Error('record is corrupt'), { name: 'KafkaJSProtocolError', type: 'CORRUPT_MESSAGE' }),
      );
      for (const caller of [a, b]) {
        assert.equal(caller.state, 'rejected');
        assert.ok(caller.error instanceof InternalError, String(caller.error));
        assert.match((caller.error as Error).message, /record is corrupt/);
      }
      assert.equal(c.state, 'resolved');
      assert.equal(d.state, 'resolved');
    });

    it('replaces the producer after a failure that cannot be retried, and sends the next batch through the new one', async () => {
      const { kafka } = await failFirstBatch(
        Object.assign(new Error('record is corrupt'), { name: 'KafkaJSProtocolError', type: 'CORRUPT_MESSAGE' }),
      );
      assert.equal(kafka.producers.length, 2, 'a new producer was created');
      const [old, replacement] = kafka.producers as [FakeProducer, FakeProducer];
      assert.equal(old.disconnects, 1, 'the failed producer was disconnected');
      assert.equal(old.batches.length, 1, 'nothing more went through the failed producer');
      assert.equal(replacement.connects, 1);
      assert.equal(replacement.config?.idempotent, true);
      assert.deepEqual(
        replacement.batches.flatMap((batch) => tagsOf(batch, 'orders')),
        ['c/0', 'd/0', 'd/1'],
      );
    });

    it('keeps a producer whose sends succeed', async () => {
      const kafka = new FakeKafka();
      const producer = await connected(kafka);
      for (let i = 0; i < 3; i++) await producer.send('orders', 1, recordsOf(`r${i}`, 1));
      assert.equal(kafka.producers.length, 1);
      assert.equal(kafka.producers[0]!.batches.length, 3);
      assert.equal(kafka.producers[0]!.disconnects, 0);
    });
  });

  describe('when sendBatch never answers', () => {
    const sendTimeoutMillis = 1_000;
    let clock: sinon.SinonFakeTimers;

    beforeEach(() => {
      clock = sinon.useFakeTimers({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    });

    afterEach(() => clock.restore());

    it('fails the callers in flight and those queued behind with UNAVAILABLE, each at its own deadline', async () => {
      const kafka = new FakeKafka();
      const stuck = deferred();
      kafka.onSend = (batch, fake) =>
        fake === kafka.producers[0] ? stuck.promise : Promise.resolve(confirmAll(batch));
      const producer = await connected(kafka, { sendTimeoutMillis });
      const start = Date.now();

      const inFlight = observe(producer.send('orders', 1, recordsOf('in-flight', 1)));
      await clock.tickAsync(1); // the linger
      assert.equal(kafka.batches.length, 1, 'the first record went out');
      const queued = observe(producer.send('orders', 1, recordsOf('queued', 1)));
      await clock.tickAsync(499);
      const late = observe(producer.send('orders', 1, recordsOf('late', 1)));

      // Just before the first deadline nobody has an answer.
      await clock.tickAsync(start + sendTimeoutMillis - 1 - Date.now());
      assert.deepEqual([inFlight.state, queued.state, late.state], ['pending', 'pending', 'pending']);

      // The callers of the first second are answered within the deadline plus one expiry period (250 ms).
      await clock.tickAsync(1 + 1 + 250);
      for (const caller of [inFlight, queued]) {
        assert.equal(caller.state, 'rejected');
        assert.ok(caller.error instanceof UnavailableError, String(caller.error));
      }
      assert.match(String(inFlight.error), /did not acknowledge within 1000 ms/);
      assert.match(String(queued.error), /did not take the records within 1000 ms/);
      assert.equal(late.state, 'pending', 'a later caller keeps its own deadline');

      await clock.tickAsync(start + 500 + sendTimeoutMillis + 250 - Date.now());
      assert.equal(late.state, 'rejected');
      assert.ok(late.error instanceof UnavailableError, String(late.error));
      assert.equal(kafka.batches.length, 1, 'nothing else was sent while the producer was stuck');

      // When the stuck request finally settles, the producer is replaced and sending works again.
      stuck.resolve([]);
      await clock.tickAsync(10);
      const after = observe(producer.send('orders', 1, recordsOf('after', 1)));
      await clock.tickAsync(10);
      assert.equal(after.state, 'resolved');
      assert.equal(kafka.producers.length, 2, 'the timed-out producer was replaced');
      assert.deepEqual(tagsOf(kafka.producers[1]!.batches[0]!, 'orders'), ['after/0']);
    });

    it('uses the other lane while one is stuck', async () => {
      const kafka = new FakeKafka();
      const stuck = deferred();
      kafka.onSend = (batch, fake) =>
        fake === kafka.producers[0] ? stuck.promise : Promise.resolve(confirmAll(batch));
      const producer = await connected(kafka, { sendTimeoutMillis, lanes: 2 });
      const first = observe(producer.send('orders', 1, recordsOf('first', 1)));
      await clock.tickAsync(1);
      const second = observe(producer.send('orders', 1, recordsOf('second', 1)));
      await clock.tickAsync(2);
      assert.equal(second.state, 'resolved', 'the free lane took the second send');
      assert.equal(first.state, 'pending');
      await clock.tickAsync(sendTimeoutMillis);
      assert.equal(first.state, 'rejected');
      stuck.resolve([]);
      await clock.tickAsync(10);
    });
  });
});
