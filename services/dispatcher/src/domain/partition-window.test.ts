import assert from 'node:assert/strict';
import type { InboundMessage } from './inbound-message';
import { PartitionWindow, messageOverheadBytes } from './partition-window';

function message(offset: number, size = 10): InboundMessage {
  return {
    partition: 0,
    offset,
    messageId: `0-${offset}`,
    data: Buffer.alloc(0),
    attributes: {},
    orderingKey: '',
    idempotencyKey: '',
    publishTimeMillis: offset,
    size,
  };
}

/** What a message of the default size counts against the bound. */
const cost = 10 + messageOverheadBytes;

const offsets = (read: ReturnType<PartitionWindow['read']>) =>
  read.kind === 'messages' ? read.messages.map((m) => m.offset) : read.kind;

describe('PartitionWindow', () => {
  it('serves every reader from its own position, in offset order, at most `max` at a time', () => {
    const window = new PartitionWindow(100, 100 * cost);
    window.append(
      [100, 101, 102, 103].map((o) => message(o)),
      104,
    );
    assert.deepEqual(offsets(window.read(100, 10)), [100, 101, 102, 103]);
    assert.deepEqual(offsets(window.read(102, 10)), [102, 103]);
    assert.deepEqual(offsets(window.read(101, 2)), [101, 102]);
    assert.equal(window.read(104, 10).kind, 'end');
    assert.equal(window.read(99, 10).kind, 'behind', 'before the feed started');
  });

  it('steps over offsets that held no message (skipped records)', () => {
    const window = new PartitionWindow(0, 100 * cost);
    window.append([message(0), message(5)], 8);
    assert.deepEqual(offsets(window.read(1, 10)), [5]);
    assert.equal(window.read(6, 10).kind, 'end');
    assert.equal(window.end, 8, 'a reader at 6 moves to 8: nothing is there');
  });

  it('evicts the oldest past its byte bound and tells a reader left behind', () => {
    const window = new PartitionWindow(0, 3 * cost);
    const evicted = window.append(
      [0, 1, 2, 3, 4].map((o) => message(o)),
      5,
    );
    assert.equal(evicted, 2, 'the window says it is full');
    assert.equal(window.start, 2);
    assert.equal(window.heldBytes, 3 * cost);
    assert.equal(window.read(1, 10).kind, 'behind');
    assert.deepEqual(offsets(window.read(2, 10)), [2, 3, 4]);
  });

  it('keeps the newest message even when it alone is larger than the bound', () => {
    const window = new PartitionWindow(0, 3 * cost);
    window.append([message(0), message(1, 3 * cost)], 2);
    assert.deepEqual(offsets(window.read(1, 10)), [1]);
    assert.equal(window.start, 1);
  });

  it('counts what a message costs beyond its bytes, so that small messages do not pile up', () => {
    const window = new PartitionWindow(0, 64 * 1024);
    window.append(
      Array.from({ length: 1_000 }, (_, o) => message(o, 100)),
      1_000,
    );
    assert.ok(1_000 - window.start < (64 * 1024) / messageOverheadBytes, `${1_000 - window.start} messages held`);
  });

  it('ignores messages fetched again below its end', () => {
    const window = new PartitionWindow(0, 100 * cost);
    window.append([message(0), message(1)], 2);
    window.append([message(1), message(2)], 3);
    assert.deepEqual(offsets(window.read(0, 10)), [0, 1, 2]);
  });

  it('stays correct across many evictions (its array is compacted as it goes)', () => {
    const window = new PartitionWindow(0, 10 * cost);
    for (let offset = 0; offset < 10_000; offset++) window.append([message(offset)], offset + 1);
    assert.equal(window.start, 9_990);
    assert.deepEqual(offsets(window.read(9_995, 3)), [9_995, 9_996, 9_997]);
  });
});
