import assert from 'node:assert/strict';
import { OffsetRanges } from './offset-ranges';

describe('OffsetRanges', () => {
  it('keeps offsets added in order as one range', () => {
    const set = new OffsetRanges();
    for (let offset = 10; offset < 20; offset++) set.add(offset);
    assert.deepEqual(set.toJSON(), [[10, 20]]);
    assert.ok(set.has(10) && set.has(19));
    assert.ok(!set.has(9) && !set.has(20));
  });

  it('merges ranges that touch or overlap, wherever they are added', () => {
    const set = new OffsetRanges([
      [0, 2],
      [5, 7],
      [10, 12],
    ]);
    set.add(2);
    assert.deepEqual(set.toJSON(), [
      [0, 3],
      [5, 7],
      [10, 12],
    ]);
    set.addRange(4, 10);
    assert.deepEqual(set.toJSON(), [
      [0, 3],
      [4, 12],
    ]);
    set.add(3);
    assert.deepEqual(set.toJSON(), [[0, 12]]);
    set.addRange(1, 5);
    assert.deepEqual(set.toJSON(), [[0, 12]]);
  });

  it('adds a range before every other one', () => {
    const set = new OffsetRanges([[10, 12]]);
    set.addRange(0, 3);
    assert.deepEqual(set.toJSON(), [
      [0, 3],
      [10, 12],
    ]);
  });

  it('says the first offset not in the set', () => {
    const set = new OffsetRanges([
      [0, 5],
      [7, 9],
    ]);
    assert.equal(set.nextAbsent(0), 5);
    assert.equal(set.nextAbsent(5), 5);
    assert.equal(set.nextAbsent(7), 9);
    assert.equal(set.nextAbsent(100), 100);
  });

  it('counts the offsets of a span that are in the set', () => {
    const set = new OffsetRanges([
      [0, 5],
      [7, 9],
    ]);
    assert.equal(set.countWithin(0, 100), 7);
    assert.equal(set.countWithin(3, 8), 3);
    assert.equal(set.countWithin(5, 7), 0);
  });

  it('agrees with a plain set of offsets under random additions', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
    const set = new OffsetRanges();
    const plain = new Set<number>();
    for (let i = 0; i < 2_000; i++) {
      const from = Math.floor(random() * 500);
      const to = from + Math.floor(random() * 4);
      set.addRange(from, to);
      for (let offset = from; offset < to; offset++) plain.add(offset);
    }
    for (let offset = 0; offset < 510; offset++) assert.equal(set.has(offset), plain.has(offset), `offset ${offset}`);
    const ranges = set.toJSON();
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i - 1]![1] < ranges[i]![0], 'disjoint and not adjacent');
  });
});
