import assert from 'node:assert/strict';
import { MinHeap } from './min-heap';

/** A small seeded PRNG (mulberry32), so that random inputs repeat from run to run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function drain<T>(heap: MinHeap<T>): T[] {
  const out: T[] = [];
  for (let value = heap.pop(); value !== undefined; value = heap.pop()) out.push(value);
  return out;
}

describe('MinHeap', () => {
  it('is empty at first', () => {
    const heap = new MinHeap<string>();
    assert.equal(heap.size, 0);
    assert.equal(heap.peekKey(), undefined);
    assert.equal(heap.pop(), undefined);
  });

  it('pops values in key order and peeks the smallest key', () => {
    const heap = new MinHeap<string>();
    for (const [key, value] of [
      [5, 'e'],
      [1, 'a'],
      [4, 'd'],
      [2, 'b'],
      [3, 'c'],
    ] as const)
      heap.push(key, value);
    assert.equal(heap.size, 5);
    assert.equal(heap.peekKey(), 1);
    assert.deepEqual(drain(heap), ['a', 'b', 'c', 'd', 'e']);
    assert.equal(heap.size, 0);
  });

  it('handles a single item', () => {
    const heap = new MinHeap<number>();
    heap.push(7, 70);
    assert.equal(heap.peekKey(), 7);
    assert.equal(heap.pop(), 70);
    assert.equal(heap.pop(), undefined);
  });

  it('keeps every one of equal keys', () => {
    const heap = new MinHeap<number>();
    for (let i = 0; i < 10; i++) heap.push(i % 2, i);
    const popped = drain(heap);
    assert.deepEqual(popped.slice(0, 5).sort(), [0, 2, 4, 6, 8]);
    assert.deepEqual(popped.slice(5).sort(), [1, 3, 5, 7, 9]);
  });

  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`pops random keys in the order of a sort (seed ${seed})`, () => {
      const next = random(seed);
      const keys = Array.from({ length: 500 }, () => Math.floor(next() * 200) - 50);
      const heap = new MinHeap<number>();
      for (const key of keys) heap.push(key, key);
      assert.equal(heap.size, keys.length);
      assert.deepEqual(
        drain(heap),
        [...keys].sort((a, b) => a - b),
      );
    });
  }

  it('stays ordered under random interleaved pushes and pops', () => {
    const next = random(99);
    const heap = new MinHeap<number>();
    const reference: number[] = [];
    for (let step = 0; step < 5_000; step++) {
      if (reference.length === 0 || next() < 0.6) {
        const key = Math.floor(next() * 1_000);
        heap.push(key, key);
        reference.push(key);
        reference.sort((a, b) => a - b);
      } else {
        assert.equal(heap.peekKey(), reference[0]);
        assert.equal(heap.pop(), reference.shift());
      }
      assert.equal(heap.size, reference.length);
    }
  });

  describe('filter', () => {
    it('removes the values for which keep is false and keeps the rest in order', () => {
      const next = random(7);
      const heap = new MinHeap<number>();
      const keys = Array.from({ length: 300 }, () => Math.floor(next() * 1_000));
      for (const key of keys) heap.push(key, key);
      heap.filter((value) => value % 3 !== 0);
      const expected = keys.filter((key) => key % 3 !== 0).sort((a, b) => a - b);
      assert.equal(heap.size, expected.length);
      assert.equal(heap.peekKey(), expected[0]);
      assert.deepEqual(drain(heap), expected);
    });

    it('can remove everything, and the heap works afterwards', () => {
      const heap = new MinHeap<string>();
      heap.push(1, 'a');
      heap.push(2, 'b');
      heap.filter(() => false);
      assert.equal(heap.size, 0);
      assert.equal(heap.pop(), undefined);
      heap.push(3, 'c');
      assert.equal(heap.pop(), 'c');
    });

    it('keeps the key of each value, not its position', () => {
      const heap = new MinHeap<{ id: string }>();
      const a = { id: 'a' };
      const b = { id: 'b' };
      const c = { id: 'c' };
      heap.push(30, c);
      heap.push(10, a);
      heap.push(20, b);
      heap.filter((value) => value !== a);
      assert.equal(heap.peekKey(), 20);
      assert.equal(heap.pop(), b);
      assert.equal(heap.peekKey(), 30);
      assert.equal(heap.pop(), c);
    });
  });
});
