import assert from 'node:assert/strict';
import { OrderingQueues } from './ordering-queues';

interface Item {
  key: string;
  partition: number;
  offset: number;
}

const item = (key: string, offset: number, partition = 0): Item => ({ key, partition, offset });

describe('OrderingQueues', () => {
  describe('enqueue', () => {
    it('makes the first item of a key its head, and the rest wait', () => {
      const queues = new OrderingQueues<Item>();
      assert.equal(queues.enqueue('a', item('a', 0)), true);
      assert.equal(queues.enqueue('a', item('a', 1)), false);
      assert.equal(queues.enqueue('a', item('a', 2)), false);
      assert.equal(queues.keyCount, 1);
    });

    it('keeps keys apart: each key has its own head', () => {
      const queues = new OrderingQueues<Item>();
      assert.equal(queues.enqueue('a', item('a', 0)), true);
      assert.equal(queues.enqueue('b', item('b', 1)), true);
      assert.equal(queues.enqueue('a', item('a', 2)), false);
      assert.equal(queues.enqueue('c', item('c', 3)), true);
      assert.equal(queues.keyCount, 3);
    });
  });

  describe('settleHead', () => {
    it('hands out the next of the key in FIFO order, then nothing', () => {
      const queues = new OrderingQueues<Item>();
      const items = [0, 1, 2].map((offset) => item('a', offset));
      for (const it of items) queues.enqueue('a', it);
      assert.equal(queues.settleHead('a', items[0]!), items[1]);
      assert.equal(queues.settleHead('a', items[1]!), items[2]);
      assert.equal(queues.settleHead('a', items[2]!), undefined);
      assert.equal(queues.keyCount, 0);
    });

    it('makes the next item of an emptied key a head again', () => {
      const queues = new OrderingQueues<Item>();
      const first = item('a', 0);
      queues.enqueue('a', first);
      queues.settleHead('a', first);
      assert.equal(queues.enqueue('a', item('a', 1)), true);
    });

    it('ignores an item that is not the head, and changes nothing', () => {
      const queues = new OrderingQueues<Item>();
      const head = item('a', 0);
      const second = item('a', 1);
      queues.enqueue('a', head);
      queues.enqueue('a', second);
      assert.equal(queues.settleHead('a', second), undefined);
      assert.equal(queues.settleHead('a', item('a', 0)), undefined, 'an equal but different object is not the head');
      assert.equal(queues.settleHead('a', head), second);
    });

    it('ignores an unknown key', () => {
      const queues = new OrderingQueues<Item>();
      assert.equal(queues.settleHead('nope', item('nope', 0)), undefined);
      assert.equal(queues.keyCount, 0);
    });

    it('settling one key never releases another', () => {
      const queues = new OrderingQueues<Item>();
      const a0 = item('a', 0);
      const b0 = item('b', 1);
      const b1 = item('b', 2);
      queues.enqueue('a', a0);
      queues.enqueue('b', b0);
      queues.enqueue('b', b1);
      assert.equal(queues.settleHead('a', a0), undefined);
      assert.equal(queues.keyCount, 1);
      assert.equal(queues.settleHead('b', b0), b1);
    });
  });

  describe('dropWhere', () => {
    it('drops matching items, keeps the order of the rest and forgets emptied keys', () => {
      const queues = new OrderingQueues<Item>();
      const a = [item('a', 0, 0), item('a', 1, 1), item('a', 2, 0), item('a', 3, 1)];
      const b = [item('b', 4, 0), item('b', 5, 0)];
      for (const it of [...a, ...b]) queues.enqueue(it.key, it);
      queues.dropWhere((it) => it.partition === 0);
      assert.equal(queues.keyCount, 1);
      // the remaining a items stay in order: the first kept one is the head now
      assert.equal(queues.settleHead('a', a[1]!), a[3]);
      assert.equal(queues.settleHead('a', a[3]!), undefined);
      assert.equal(queues.enqueue('b', item('b', 6)), true, 'b was forgotten, a new b item is a head');
    });

    it('drops nothing when nothing matches', () => {
      const queues = new OrderingQueues<Item>();
      const a0 = item('a', 0);
      const a1 = item('a', 1);
      queues.enqueue('a', a0);
      queues.enqueue('a', a1);
      queues.dropWhere(() => false);
      assert.equal(queues.keyCount, 1);
      assert.equal(queues.settleHead('a', a0), a1);
    });
  });
});
