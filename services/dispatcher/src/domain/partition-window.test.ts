import assert from 'node:assert/strict';
import type { InboundMessage } from './inbound-message';
import { PartitionWindow } from './partition-window';

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

const offsets = (read: ReturnType<PartitionWindow['read']>) =>
  read.kind === 'messages' ? read.messages.map((m) => m.offset) : read.kind;

describe('PartitionWindow', () => {
  it('serves every reader from its own position, in offset order, at most `max` at a time', () => {
    const window = new PartitionWindow(100, 1_000);
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
    const window = new PartitionWindow(0, 1_000);
    window.append([message(0), message(5)], 8);
    assert.deepEqual(offsets(window.read(1, 10)), [5]);
    assert.equal(window.read(6, 10).kind, 'end');
    assert.equal(window.end, 8, 'a reader at 6 moves to 8: nothing is there');
  });

  it('evicts the oldest past its byte bound and tells a reader left behind', () => {
    const window = new PartitionWindow(0, 30);
    window.append(
      [0, 1, 2, 3, 4].map((o) => message(o)),
      5,
    );
    assert.equal(window.start, 2);
    assert.equal(window.heldBytes, 30);
    assert.equal(window.read(1, 10).kind, 'behind');
    assert.deepEqual(offsets(window.read(2, 10)), [2, 3, 4]);
  });

  it('keeps the newest message even when it alone is larger than the bound', () => {
    const window = new PartitionWindow(0, 30);
    window.append([message(0), message(1, 100)], 2);
    assert.deepEqual(offsets(window.read(1, 10)), [1]);
    assert.equal(window.start, 1);
  });

  it('ignores messages fetched again below its end', () => {
    const window = new PartitionWindow(0, 1_000);
    window.append([message(0), message(1)], 2);
    window.append([message(1), message(2)], 3);
    assert.deepEqual(offsets(window.read(0, 10)), [0, 1, 2]);
  });

  it('stays correct across many evictions (its array is compacted as it goes)', () => {
    const window = new PartitionWindow(0, 100);
    for (let offset = 0; offset < 10_000; offset++) window.append([message(offset)], offset + 1);
    assert.equal(window.start, 9_990);
    assert.deepEqual(offsets(window.read(9_995, 3)), [9_995, 9_996, 9_997]);
  });
});
