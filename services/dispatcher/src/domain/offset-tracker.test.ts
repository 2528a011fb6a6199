import assert from 'node:assert/strict';
import { OffsetTracker } from './offset-tracker';

/** A small seeded PRNG (mulberry32), so that random inputs repeat from run to run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function tracker(startOffset: number, fetched: number[], settled: number[] = []): OffsetTracker {
  const t = new OffsetTracker(startOffset);
  for (const offset of fetched) t.fetched(offset);
  for (const offset of settled) t.settle(offset);
  return t;
}

describe('OffsetTracker', () => {
  describe('before anything is fetched', () => {
    it('commits the start offset and expects it next', () => {
      const t = new OffsetTracker(42);
      assert.equal(t.commitPoint(), 42);
      assert.equal(t.fetchedUpTo, 42);
      assert.equal(t.pending, 0);
    });
  });

  describe('fetched and hasFetched', () => {
    it('moves fetchedUpTo past the last fetched offset, gaps included', () => {
      const t = tracker(10, [10, 11, 15]);
      assert.equal(t.fetchedUpTo, 16);
      assert.equal(t.pending, 3);
    });

    it('says which offsets were fetched already: everything before fetchedUpTo', () => {
      const t = tracker(10, [10, 11, 15]);
      const cases: Array<[number, boolean]> = [
        [0, true],
        [9, true],
        [10, true],
        [13, true], // a gap Kafka skipped (a transaction marker, a compacted record) counts as fetched
        [15, true],
        [16, false],
        [100, false],
      ];
      for (const [offset, fetched] of cases) assert.equal(t.hasFetched(offset), fetched, `offset ${offset}`);
    });

    it('counts offsets before the start as fetched, so a re-fetch skips them', () => {
      const t = new OffsetTracker(5);
      assert.ok(t.hasFetched(4));
      assert.ok(!t.hasFetched(5));
    });
  });

  describe('commitPoint', () => {
    const cases: Array<{ title: string; start: number; fetched: number[]; settled: number[]; commit: number }> = [
      { title: 'nothing settled: the first fetched', start: 0, fetched: [0, 1, 2], settled: [], commit: 0 },
      { title: 'the first settled: the second', start: 0, fetched: [0, 1, 2], settled: [0], commit: 1 },
      { title: 'all settled: the next to fetch', start: 0, fetched: [0, 1, 2], settled: [0, 1, 2], commit: 3 },
      { title: 'a gap of one unsettled: the gap', start: 0, fetched: [0, 1, 2, 3], settled: [0, 2, 3], commit: 1 },
      { title: 'only later ones settled: the first', start: 0, fetched: [0, 1, 2], settled: [1, 2], commit: 0 },
      { title: 'offsets with holes, all settled', start: 10, fetched: [10, 12, 15], settled: [10, 12, 15], commit: 16 },
      {
        title: 'offsets with holes, the middle unsettled',
        start: 10,
        fetched: [10, 12, 15],
        settled: [10, 15],
        commit: 12,
      },
      { title: 'a first fetched offset after the start', start: 10, fetched: [14, 15], settled: [], commit: 14 },
      {
        title: 'a first fetched offset after the start, settled',
        start: 10,
        fetched: [14, 15],
        settled: [14],
        commit: 15,
      },
      {
        title: 'a settled offset never fetched changes nothing',
        start: 0,
        fetched: [0, 1],
        settled: [1, 7],
        commit: 0,
      },
    ];
    for (const { title, start, fetched, settled, commit } of cases) {
      it(`${title} (${commit})`, () => {
        assert.equal(tracker(start, fetched, settled).commitPoint(), commit);
      });
    }

    it('moves forward as the gap fills, never backward', () => {
      const t = tracker(0, [0, 1, 2, 3, 4]);
      const steps: Array<[number, number]> = [
        [3, 0],
        [1, 0],
        [0, 2],
        [4, 2],
        [2, 5],
      ];
      for (const [settle, commit] of steps) {
        t.settle(settle);
        assert.equal(t.commitPoint(), commit, `after settling ${settle}`);
      }
    });

    it('counts pending offsets down as the commit point passes them', () => {
      const t = tracker(0, [0, 1, 2, 3]);
      t.settle(1);
      t.commitPoint();
      assert.equal(t.pending, 4, 'a settled offset behind a gap is still pending');
      t.settle(0);
      t.commitPoint();
      assert.equal(t.pending, 2);
    });

    it('is the same when asked twice', () => {
      const t = tracker(0, [0, 1, 2], [0, 1]);
      assert.equal(t.commitPoint(), 2);
      assert.equal(t.commitPoint(), 2);
    });

    it('keeps working after more is fetched once all were settled', () => {
      const t = tracker(0, [0, 1], [0, 1]);
      assert.equal(t.commitPoint(), 2);
      t.fetched(2);
      t.fetched(3);
      assert.equal(t.commitPoint(), 2);
      t.settle(2);
      assert.equal(t.commitPoint(), 3);
    });

    for (const seed of [1, 2, 3]) {
      it(`always equals the oldest unsettled offset over thousands of random settles (seed ${seed})`, () => {
        const next = random(seed);
        const t = new OffsetTracker(1_000);
        const unsettled = new Set<number>();
        let offset = 1_000;
        for (let step = 0; step < 20_000; step++) {
          if (unsettled.size === 0 || next() < 0.5) {
            offset += next() < 0.1 ? 3 : 1; // sometimes a hole, as after a transaction marker
            t.fetched(offset);
            unsettled.add(offset);
          } else {
            // settle mostly near the head, like acks of recent deliveries
            const candidates = [...unsettled].slice(0, 50);
            const settle = candidates[Math.floor(next() * candidates.length)]!;
            unsettled.delete(settle);
            t.settle(settle);
          }
          const oldest = unsettled.size === 0 ? offset + 1 : unsettled.values().next().value!; // the set holds offsets in fetch order
          assert.equal(t.commitPoint(), oldest);
          // What goes idle gives its storage back at any moment, emptied or not.
          if (next() < 0.05) t.releaseEmpty();
        }
        assert.equal(t.fetchedUpTo, offset + 1);
      });
    }
  });
});
