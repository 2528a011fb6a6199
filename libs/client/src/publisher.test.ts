import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { Message } from '@herald/api';
import { HeraldClientError } from './client-error';
import { Publisher, type PublisherOptions } from './publisher';

/** A Publisher whose batches go to a function instead of a server. */
function fakePublisher(
  answer: (topic: string, messages: Message[]) => Promise<string[]> = async (_, messages) =>
    messages.map((m) => `id-${m.data.toString()}`),
  options: Partial<PublisherOptions> = {},
) {
  const batches: string[][] = [];
  class TestPublisher extends Publisher {
    protected override publishBatch(topic: string, messages: Message[]): Promise<string[]> {
      batches.push(messages.map((m) => m.data.toString()));
      return answer(topic, messages);
    }
  }
  return { publisher: new TestPublisher({ endpoints: ['127.0.0.1:1'], ...options }), batches };
}

const refused = (details: string) => new HeraldClientError(status.INVALID_ARGUMENT, details);

describe('Publisher (batching and queues, without a server)', () => {
  it('sends at once when idle, and gathers what arrives while a request is in flight into one batch', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    const { publisher, batches } = fakePublisher(async (_, messages) => {
      if (first) {
        first = false;
        await gate;
      }
      return messages.map((m) => m.data.toString());
    });
    const a = publisher.publish('t', { data: 'a', orderingKey: 'k' });
    await new Promise((resolve) => setImmediate(resolve));
    const rest = ['b', 'c', 'd'].map((data) => publisher.publish('t', { data, orderingKey: 'k' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(batches, [['a']], 'the key has one request in flight');
    release();
    assert.deepEqual(await Promise.all([a, ...rest]), ['a', 'b', 'c', 'd']);
    assert.deepEqual(batches, [['a'], ['b', 'c', 'd']]);
    await publisher.close();
  });

  it('sends unordered messages at once while fewer than maxImmediateRequests are in flight, then gathers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { publisher, batches } = fakePublisher(
      async (_, messages) => {
        await gate;
        return messages.map((m) => m.data.toString());
      },
      { batching: { maxImmediateRequests: 2, maxDelayMillis: 1_000 } },
    );
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const published = [publisher.publish('t', { data: 'a' })];
    await turn();
    published.push(publisher.publish('t', { data: 'b' }));
    await turn();
    published.push(...['c', 'd'].map((data) => publisher.publish('t', { data })));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(batches, [['a'], ['b']], 'two requests in flight, c and d wait');
    release();
    assert.deepEqual(await Promise.all(published), ['a', 'b', 'c', 'd']);
    assert.deepEqual(batches, [['a'], ['b'], ['c', 'd']]);
    await publisher.close();
  });

  it('splits a batch the server refused with INVALID_ARGUMENT: only the bad message fails', async () => {
    const { publisher, batches } = fakePublisher(async (_, messages) => {
      if (messages.some((m) => m.data.toString() === 'bad')) throw refused('messages[1].data: bad');
      return messages.map((m) => m.data.toString());
    });
    const results = await Promise.allSettled(['good1', 'bad', 'good2'].map((data) => publisher.publish('t', { data })));
    assert.deepEqual(batches[0], ['good1', 'bad', 'good2']);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as HeraldClientError).codeName)),
      ['good1', 'INVALID_ARGUMENT', 'good2'],
    );
    await publisher.close();
  });

  it('fails an ordering key after a failed batch until resumePublishing, and other keys go on', async () => {
    let failing = true;
    const { publisher } = fakePublisher(async (_, messages) => {
      if (failing && messages[0]!.orderingKey === 'k') throw refused('rejected');
      return messages.map((m) => m.data.toString());
    });
    await assert.rejects(publisher.publish('t', { data: '1', orderingKey: 'k' }), /rejected/);
    await assert.rejects(publisher.publish('t', { data: '2', orderingKey: 'k' }), /rejected/);
    assert.equal(await publisher.publish('t', { data: 'other', orderingKey: 'j' }), 'other');
    failing = false;
    publisher.resumePublishing('k');
    assert.equal(await publisher.publish('t', { data: '3', orderingKey: 'k' }), '3');
    await publisher.close();
  });

  it('forgets queues once drained: memory does not grow with the number of ordering keys ever used', async () => {
    const { publisher } = fakePublisher();
    await Promise.all(
      Array.from({ length: 10_000 }, (_, i) => publisher.publish('t', { data: `${i}`, orderingKey: `key-${i}` })),
    );
    assert.equal(publisher.queueCount, 0);
    // A failed key is kept (its later publishes must fail) until resumed.
    const failing = fakePublisher(async () => {
      throw refused('no');
    }).publisher;
    await assert.rejects(failing.publish('t', { data: 'x', orderingKey: 'k' }));
    assert.equal(failing.queueCount, 1);
    failing.resumePublishing('k');
    assert.equal(failing.queueCount, 0);
  });

  it('refuses a message over maxMessageBytes before sending it, never retrying, and fails its key', async () => {
    const { publisher, batches } = fakePublisher();
    const twentyMiB = Buffer.alloc(20 * 1024 * 1024);
    await assert.rejects(
      publisher.publish('t', { data: twentyMiB }),
      (e: unknown) =>
        e instanceof HeraldClientError &&
        e.codeName === 'INVALID_ARGUMENT' &&
        !e.retryable &&
        /message is 20971\d\d\d bytes; the limit is 10485760/.test(e.details),
    );
    assert.deepEqual(batches, [], 'nothing sent');
    // The limit counts attributes and keys, as the server does.
    const small = fakePublisher(undefined, { maxMessageBytes: 10, autoIdempotencyKeys: false }).publisher;
    assert.equal(await small.publish('t', { data: '12345', attributes: { ab: 'c' } }), 'id-12345');
    await assert.rejects(
      small.publish('t', { data: '12345', attributes: { abc: 'def' } }),
      /11 bytes; the limit is 10/,
    );
    await assert.rejects(small.publish('t', { data: '12345678901', orderingKey: 'k' }), /INVALID_ARGUMENT/);
    await assert.rejects(
      small.publish('t', { data: '1', orderingKey: 'k' }),
      /INVALID_ARGUMENT/,
      'the key stays failed',
    );
    small.resumePublishing('k');
    assert.equal(await small.publish('t', { data: '1', orderingKey: 'k' }), 'id-1');
  });

  it('measures the heap over a million distinct ordering keys (HERALD_MEASURE_KEYS=1)', async function () {
    if (!process.env.HERALD_MEASURE_KEYS) this.skip();
    this.timeout(600_000);
    const { publisher, batches } = fakePublisher(async (_, messages) => messages.map(() => 'id'));
    const gc = (globalThis as { gc?: () => void }).gc;
    const heap = () => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const before = heap();
    const samples: string[] = [];
    for (let chunk = 0; chunk < 100; chunk++) {
      await Promise.all(
        Array.from({ length: 10_000 }, (_, i) => publisher.publish('t', { data: 'x', orderingKey: `k${chunk}-${i}` })),
      );
      batches.length = 0; // the test's own record, not the publisher's
      if (chunk % 25 === 24) samples.push(`${(chunk + 1) * 10}k keys: ${((heap() - before) / 1e6).toFixed(1)} MB`);
    }
    console.log(`      heap growth over the start: ${samples.join(', ')}; queues held: ${publisher.queueCount}`);
    assert.equal(publisher.queueCount, 0);
  });
});

describe('HeraldClientError.retryable', () => {
  it('never retries a message over gRPC size limits, though its status is RESOURCE_EXHAUSTED', () => {
    const tooLarge = HeraldClientError.from({
      code: status.RESOURCE_EXHAUSTED,
      details: 'Received message larger than max (20971620 vs. 11534336)',
    });
    assert.equal(tooLarge.retryable, false);
    const busy = new HeraldClientError(status.RESOURCE_EXHAUSTED, '300 bytes are already waiting for Kafka');
    assert.equal(busy.retryable, true);
    assert.equal(new HeraldClientError(status.INVALID_ARGUMENT, 'x').retryable, false);
  });

  it('never retries ABORTED: Herald answers it to a stale etag, which the same request cannot pass', () => {
    assert.equal(new HeraldClientError(status.ABORTED, 'the policy changed since it was read').retryable, false);
  });
});
