import assert from 'node:assert/strict';
import { AckIds } from './ack-ids';
import { type Delivery, DeliveryEngine } from './delivery-engine';
import type { InboundMessage } from './inbound-message';
import { PartitionWindow } from './partition-window';
import { type PartitionSource, type SourceRead, SubscriptionCursor } from './subscription-cursor';

function message(offset: number, fields: Partial<InboundMessage> = {}): InboundMessage {
  return {
    partition: 0,
    offset,
    messageId: `0-${offset}`,
    data: Buffer.from(`payload ${offset}`),
    attributes: {},
    orderingKey: '',
    idempotencyKey: '',
    publishTimeMillis: 1_700_000_000_000 + offset,
    size: 10,
    ...fields,
  };
}

/** A source over one in-memory partition window, counting reads: what a topic feed is to cursors. */
class WindowSource implements PartitionSource {
  readonly window: PartitionWindow;
  reads = 0;
  private waiting: Array<() => void> = [];

  constructor(start = 0, maxBytes = 1_000_000) {
    this.window = new PartitionWindow(start, maxBytes);
  }

  read(_partition: number, position: number, max: number, wake: () => void): SourceRead | null {
    this.reads++;
    const found = this.window.read(position, max);
    if (found.kind === 'messages') {
      return { messages: found.messages, next: found.messages[found.messages.length - 1]!.offset + 1 };
    }
    if (found.kind === 'behind') throw new Error(`read behind the window at ${position}`);
    this.waiting.push(wake);
    return null;
  }

  append(messages: InboundMessage[]): void {
    this.window.append(messages, messages[messages.length - 1]!.offset + 1);
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  get waiters(): number {
    return this.waiting.length;
  }
}

function engineWithStream(maxOutstandingMessages = 1_000) {
  const deliveries: Delivery[] = [];
  const engine = new DeliveryEngine({
    ackScope: 'sub@1',
    ackIds: new AckIds(Buffer.alloc(32, 7)),
    policy: {
      ackDeadlineMillis: 10_000,
      retryPolicy: { minimumBackoffMillis: 0, maximumBackoffMillis: 0 },
      maxDeliveryAttempts: undefined,
    },
    ordering: false,
    filter: () => true,
    dedupWindowMillis: 60_000,
    maxBatchSize: 100,
    deadLetter: () => Promise.resolve(),
    now: () => 1_000_000,
  });
  engine.addStream(
    1,
    { send: (batch) => (deliveries.push(...batch), true) },
    {
      maxOutstandingMessages,
      maxOutstandingBytes: 1_000_000_000,
    },
  );
  return { engine, deliveries };
}

const limits = { maxHeldPerPartition: 1_000, maxHeldTotal: 10_000, maxRead: 100 };
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => message(from + i));

describe('SubscriptionCursor', () => {
  it('delivers from its start, and waits at the end without reading again until woken', () => {
    const source = new WindowSource();
    source.append(range(0, 10));
    const { engine, deliveries } = engineWithStream();
    const cursor = new SubscriptionCursor(engine, source, limits);
    cursor.start(0, 4, 4);
    assert.deepEqual(
      deliveries.map((d) => d.message.offset),
      [4, 5, 6, 7, 8, 9],
    );
    const readsAtEnd = source.reads;
    assert.equal(source.waiters, 1, 'registered once for a wake-up');
    source.append(range(10, 12));
    assert.deepEqual(deliveries.map((d) => d.message.offset).slice(-2), [10, 11]);
    assert.equal(source.reads, readsAtEnd + 2, 'one read for the new messages, one to find the end again');
  });

  it('reports progress when a partition starts and when messages reach the engine, never while it waits', () => {
    const source = new WindowSource();
    source.append(range(0, 3));
    const { engine } = engineWithStream();
    let progress = 0;
    const cursor = new SubscriptionCursor(engine, source, limits, () => progress++);
    cursor.start(0, 0, 0);
    assert.equal(progress, 2, 'the start, then the three messages read');
    cursor.resumeDrained();
    cursor.resumeDrained();
    assert.equal(progress, 2, 'waiting at the end of the partition is no progress');
    source.append(range(3, 4));
    assert.equal(progress, 3, 'the new message');
    cursor.start(0, 1, 1);
    assert.equal(progress, 5, 'a seek restarts the partition, and reads from its new position');
  });

  it('feeds messages before the delivery start only to the dedup window', () => {
    const source = new WindowSource();
    source.append([message(0, { idempotencyKey: 'k' }), message(1), message(2, { idempotencyKey: 'k' }), message(3)]);
    const { engine, deliveries } = engineWithStream();
    new SubscriptionCursor(engine, source, limits).start(0, 0, 2);
    assert.deepEqual(
      deliveries.map((d) => d.message.offset),
      [3],
      'offset 2 repeats a key delivered before the start',
    );
    assert.equal(engine.stats.deduplicated, 1);
  });

  it('stops reading while the engine holds its bound, and reads on once acks drained it by half', () => {
    const source = new WindowSource();
    source.append(range(0, 100));
    const { engine, deliveries } = engineWithStream();
    const cursor = new SubscriptionCursor(engine, source, {
      maxHeldPerPartition: 20,
      maxHeldTotal: 1_000,
      maxRead: 10,
    });
    cursor.start(0, 0, 0);
    assert.equal(deliveries.length, 20, 'two reads of ten, then full');
    engine.ack(deliveries.slice(0, 5).map((d) => d.ackId));
    cursor.resumeDrained();
    assert.equal(deliveries.length, 20, 'still above half');
    engine.ack(deliveries.slice(5, 15).map((d) => d.ackId));
    cursor.resumeDrained();
    assert.equal(engine.held(0), 20, 'read up to the bound again');
    assert.deepEqual(deliveries.map((d) => d.message.offset).slice(-3), [32, 33, 34]);
  });

  it('lets a fast subscription read on while a slow one on the same source is full', () => {
    const source = new WindowSource();
    const slow = engineWithStream(5);
    const fast = engineWithStream();
    const slowCursor = new SubscriptionCursor(slow.engine, source, { ...limits, maxHeldPerPartition: 5 });
    const fastCursor = new SubscriptionCursor(fast.engine, source, limits);
    slowCursor.start(0, 0, 0);
    fastCursor.start(0, 0, 0);
    source.append(range(0, 50));
    assert.equal(slow.deliveries.length, 5);
    assert.equal(fast.deliveries.length, 50);
    assert.equal(slowCursor.positions().get(0), 5, 'the slow one read only what it had room for');
    assert.equal(fastCursor.positions().get(0), 50);
  });

  it('starts a partition again from a new position (a seek), dropping what it held', () => {
    const source = new WindowSource();
    source.append(range(0, 20));
    const { engine, deliveries } = engineWithStream();
    const cursor = new SubscriptionCursor(engine, source, limits);
    cursor.start(0, 10, 10);
    assert.equal(deliveries.length, 10);
    cursor.start(0, 0, 0);
    assert.deepEqual(
      deliveries.slice(10).map((d) => d.message.offset),
      range(0, 20).map((m) => m.offset),
    );
    assert.equal(engine.held(0), 20, 'the leases of before the seek were dropped');
  });

  it('reads nothing more after it stopped, even when an old wake-up comes', () => {
    const source = new WindowSource();
    const { engine, deliveries } = engineWithStream();
    const cursor = new SubscriptionCursor(engine, source, limits);
    cursor.start(0, 0, 0);
    cursor.stop();
    source.append(range(0, 5));
    assert.equal(deliveries.length, 0);
    assert.equal(cursor.has(0), false);
  });
});
