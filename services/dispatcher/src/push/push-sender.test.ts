import assert from 'node:assert/strict';
import { silentLogger } from '@herald/logging';
import type { PushOutcome } from '../domain/adaptive-concurrency';
import { AckIds } from '../domain/ack-ids';
import { type Delivery, DeliveryEngine } from '../domain/delivery-engine';
import type { InboundMessage } from '../domain/inbound-message';
import { PushRefusedError } from './endpoint-guard';
import { PushSender } from './push-sender';
import type { PushResult, PushTransport } from './push-transport';

/** A transport whose requests the test answers one by one. */
class HeldTransport implements PushTransport {
  readonly endpoint = 'https://hooks.example.com/in';
  readonly pending: Array<{ delivery: Delivery; answer: (outcome: PushOutcome) => void }> = [];
  refuse = false;
  checks = 0;

  async check(): Promise<void> {
    this.checks++;
    if (this.refuse) throw new PushRefusedError('hooks.example.com', '10.0.0.1');
  }

  push(delivery: Delivery): Promise<PushResult> {
    return new Promise((resolve) =>
      this.pending.push({ delivery, answer: (outcome) => resolve({ outcome, detail: outcome }) }),
    );
  }

  close(): void {}

  /** Answers the oldest `count` requests. */
  async answer(count: number, outcome: PushOutcome): Promise<void> {
    for (const { answer } of this.pending.splice(0, count)) answer(outcome);
    await flush();
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

function messages(count: number, fields: Partial<InboundMessage> = {}): InboundMessage[] {
  return Array.from({ length: count }, (_, offset) => ({
    partition: 0,
    offset,
    messageId: `m${offset}`,
    data: Buffer.from('x'),
    attributes: {},
    orderingKey: '',
    idempotencyKey: '',
    publishTimeMillis: 1,
    size: 1,
    ...fields,
  }));
}

function setUp(maxOutstanding: number, ordering = false) {
  const engine = new DeliveryEngine({
    ackScope: 's@1',
    ackIds: new AckIds(),
    policy: {
      ackDeadlineMillis: 10_000,
      retryPolicy: { minimumBackoffMillis: 1_000, maximumBackoffMillis: 1_000 },
      maxDeliveryAttempts: undefined,
    },
    ordering,
    filter: () => true,
    dedupWindowMillis: 0,
    maxBatchSize: 100,
    deadLetter: () => Promise.resolve(),
    now: Date.now,
  });
  engine.assignPartition(0, 0);
  const transport = new HeldTransport();
  let settled = 0;
  const sender = new PushSender({
    subscription: 's',
    engine,
    streamId: 0,
    transport,
    maxOutstanding,
    ackDeadlineMillis: () => 10_000,
    settled: () => settled++,
    logger: silentLogger(),
  });
  return { engine, transport, sender, settled: () => settled };
}

describe('PushSender', () => {
  it('starts with one request in flight and grows by one per success, up to its ceiling', async () => {
    const { engine, transport, sender } = setUp(3);
    sender.start();
    engine.receive(messages(20));
    await flush();
    assert.equal(transport.pending.length, 1);
    await transport.answer(1, 'ok');
    assert.equal(transport.pending.length, 2);
    await transport.answer(2, 'ok');
    assert.equal(transport.pending.length, 3, 'the ceiling');
    await transport.answer(3, 'ok');
    assert.equal(transport.pending.length, 3);
    assert.equal(engine.stats.acked, 6);
    assert.equal(sender.report().outcomes.ok, 6);
    sender.stop();
  });

  it('nacks a failed request (redelivered after backoff) and halves its concurrency on 429', async () => {
    const { engine, transport, sender } = setUp(8);
    sender.start();
    engine.receive(messages(50));
    await flush();
    for (let i = 0; i < 7; i++) await transport.answer(1, 'ok');
    assert.equal(transport.pending.length, 8);
    await transport.answer(8, 'throttled');
    assert.equal(sender.report().concurrency, 4);
    assert.equal(transport.pending.length, 4);
    assert.equal(engine.stats.nacked, 8);
    assert.equal(sender.report().outcomes.throttled, 8);
  });

  it('takes nothing while its endpoint is refused, and says so', async () => {
    const { engine, transport, sender } = setUp(8);
    transport.refuse = true;
    sender.start();
    engine.receive(messages(5));
    await flush();
    assert.equal(transport.pending.length, 0);
    assert.equal(engine.stats.delivered, 0, 'no attempt spent');
    const report = sender.report();
    assert.equal(report.state, 'refused');
    assert.equal(report.outcomes.refused, 1);
    assert.match(report.lastError!, /10\.0\.0\.1/);
    sender.stop();
  });

  it('keeps one request in flight per ordering key', async () => {
    const { engine, transport, sender } = setUp(10, true);
    sender.start();
    engine.receive([
      ...messages(3, { orderingKey: 'a' }),
      ...messages(3, { orderingKey: 'b' }).map((m) => ({ ...m, offset: m.offset + 3, messageId: `b${m.offset}` })),
    ]);
    await flush();
    assert.deepEqual(
      transport.pending.map((p) => p.delivery.message.orderingKey),
      ['a'],
      'one request at first (concurrency 1)',
    );
    await transport.answer(1, 'ok');
    await transport.answer(1, 'ok');
    const keys = transport.pending.map((p) => p.delivery.message.orderingKey).sort();
    assert.deepEqual(keys, ['a', 'b'], 'never two of one key');
  });

  it('leaves the engine when stopped: what it held is given back, late answers ignored', async () => {
    const { engine, transport, sender } = setUp(4);
    sender.start();
    engine.receive(messages(3));
    await flush();
    sender.stop();
    assert.equal(engine.leaseCount, 0);
    await transport.answer(1, 'ok');
    assert.equal(engine.stats.acked, 0);
  });
});
