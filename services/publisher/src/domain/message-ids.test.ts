import assert from 'node:assert/strict';
import { MessageIdGenerator } from './message-ids';

describe('MessageIdGenerator', () => {
  it('draws a random 12-hex-digit token per generator', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => new MessageIdGenerator().publisherToken));
    assert.equal(tokens.size, 100);
    for (const token of tokens) assert.match(token, /^[0-9a-f]{12}$/);
  });

  it('keeps a token it is given', () => {
    const ids = new MessageIdGenerator('abc123');
    assert.equal(ids.publisherToken, 'abc123');
    assert.equal(ids.nextId(), 'abc123-0');
  });

  it('gives ids of the form <token>-<counter in base 36>, the counter counting up from 0', () => {
    const ids = new MessageIdGenerator('feedbeef0001');
    const drawn = Array.from({ length: 40 }, () => ids.nextId());
    assert.deepEqual(
      drawn,
      Array.from({ length: 40 }, (_, i) => `feedbeef0001-${i.toString(36)}`),
    );
  });

  it('never repeats an id within a generator', () => {
    const ids = new MessageIdGenerator();
    const drawn = Array.from({ length: 100_000 }, () => ids.nextId());
    assert.equal(new Set(drawn).size, drawn.length);
  });

  it('gives disjoint ids from two generators (two instances, or a restart)', () => {
    const a = new MessageIdGenerator();
    const b = new MessageIdGenerator();
    const fromA = new Set(Array.from({ length: 10_000 }, () => a.nextId()));
    const fromB = Array.from({ length: 10_000 }, () => b.nextId());
    assert.ok(fromB.every((id) => !fromA.has(id)));
  });

  it('orders the ids of one generator by their counter', () => {
    const ids = new MessageIdGenerator('t0k3n');
    const counters = Array.from({ length: 2_000 }, () => parseInt(ids.nextId().split('-')[1]!, 36));
    assert.ok(counters.every((counter, i) => counter === i));
  });

  describe('idFor', () => {
    it('counts up for messages without an idempotency key', () => {
      const ids = new MessageIdGenerator('abc123');
      assert.deepEqual([ids.idFor('t', ''), ids.idFor('t', '')], ['abc123-0', 'abc123-1']);
    });

    it('gives a retried key the same id on any instance, and other keys or topics other ids', () => {
      const a = new MessageIdGenerator();
      const b = new MessageIdGenerator();
      assert.equal(a.idFor('orders', 'order-7'), b.idFor('orders', 'order-7'));
      assert.notEqual(a.idFor('orders', 'order-7'), a.idFor('orders', 'order-8'));
      assert.notEqual(a.idFor('orders', 'order-7'), a.idFor('invoices', 'order-7'));
      assert.match(a.idFor('orders', 'order-7'), /^k[A-Za-z0-9_-]{22}$/);
    });

    it('keeps the topic and the key apart (no concatenation collisions)', () => {
      const ids = new MessageIdGenerator();
      assert.notEqual(ids.idFor('ab', 'c'), ids.idFor('a', 'bc'));
    });
  });
});
