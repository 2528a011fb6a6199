import assert from 'node:assert/strict';
import { DedupWindow } from './dedup-window';

describe('DedupWindow', () => {
  describe('isRepeat', () => {
    // Each case feeds [key, offset, publishTimeMillis] in order to a 1 000 ms window; `repeats` is the answer for each.
    const cases: Array<{
      title: string;
      windowMillis?: number;
      feed: Array<[string, number, number]>;
      repeats: boolean[];
    }> = [
      { title: 'a first message is no repeat', feed: [['k', 0, 0]], repeats: [false] },
      {
        title: 'the same key at a later offset within the window repeats',
        feed: [
          ['k', 0, 0],
          ['k', 5, 500],
        ],
        repeats: [false, true],
      },
      {
        title: 'exactly at the end of the window still repeats',
        feed: [
          ['k', 0, 0],
          ['k', 5, 1_000],
        ],
        repeats: [false, true],
      },
      {
        title: 'one millisecond past the window is no repeat',
        feed: [
          ['k', 0, 0],
          ['k', 5, 1_001],
        ],
        repeats: [false, false],
      },
      {
        title: 'the same offset again (a re-read) is no repeat',
        feed: [
          ['k', 3, 0],
          ['k', 3, 0],
        ],
        repeats: [false, false],
      },
      {
        title: 'an earlier offset is no repeat',
        feed: [
          ['k', 5, 0],
          ['k', 3, 0],
        ],
        repeats: [false, false],
      },
      {
        title: 'different keys are no repeats',
        feed: [
          ['a', 0, 0],
          ['b', 1, 0],
          ['c', 2, 0],
        ],
        repeats: [false, false, false],
      },
      {
        title: 'an empty key never repeats',
        feed: [
          ['', 0, 0],
          ['', 1, 0],
        ],
        repeats: [false, false],
      },
      {
        title: 'a window of 0 turns deduplication off',
        windowMillis: 0,
        feed: [
          ['k', 0, 0],
          ['k', 1, 0],
        ],
        repeats: [false, false],
      },
      {
        title: 'every later copy within the window of the first repeats',
        feed: [
          ['k', 0, 0],
          ['k', 1, 100],
          ['k', 2, 900],
        ],
        repeats: [false, true, true],
      },
      {
        title: 'a copy after the window starts a new window',
        feed: [
          ['k', 0, 0],
          ['k', 1, 2_000],
          ['k', 2, 2_500],
          ['k', 3, 3_500],
        ],
        repeats: [false, false, true, false],
      },
      {
        title: 'a repeat published earlier than the first (clock skew between publishers) still repeats',
        feed: [
          ['k', 0, 1_000],
          ['k', 1, 800],
        ],
        repeats: [false, true],
      },
    ];
    for (const { title, windowMillis, feed, repeats } of cases) {
      it(title, () => {
        const window = new DedupWindow(windowMillis ?? 1_000);
        assert.deepEqual(
          feed.map(([key, offset, time]) => window.isRepeat(key, offset, time)),
          repeats,
        );
      });
    }

    it('does not record an empty key or anything when turned off', () => {
      const window = new DedupWindow(1_000);
      window.isRepeat('', 0, 0);
      assert.equal(window.size, 0);
      const off = new DedupWindow(0);
      off.isRepeat('k', 0, 0);
      assert.equal(off.size, 0);
    });
  });

  describe('eviction', () => {
    it('forgets keys published more than a window before the newest message', () => {
      const window = new DedupWindow(1_000);
      window.isRepeat('a', 0, 0);
      window.isRepeat('b', 1, 100);
      window.isRepeat('c', 2, 600);
      assert.equal(window.size, 3);
      window.isRepeat('d', 3, 1_050); // cutoff 50: a goes
      assert.equal(window.size, 3);
      window.isRepeat('e', 4, 1_700); // cutoff 700: b and c go
      assert.equal(window.size, 2);
      assert.equal(window.isRepeat('d', 5, 1_800), true, 'd is still remembered');
    });

    it('keeps a key at exactly the cutoff', () => {
      const window = new DedupWindow(1_000);
      window.isRepeat('a', 0, 0);
      window.isRepeat('b', 1, 1_000);
      assert.equal(window.size, 2);
    });

    it('moves a re-recorded key to the back, so it is evicted by its new time', () => {
      const window = new DedupWindow(1_000);
      window.isRepeat('a', 0, 0);
      window.isRepeat('b', 1, 500);
      window.isRepeat('a', 2, 1_200); // outside a's window: a is recorded again at 1 200
      assert.equal(window.size, 2);
      window.isRepeat('c', 3, 1_600); // cutoff 600: b goes, a (1 200) stays
      assert.equal(window.size, 2);
      assert.equal(window.isRepeat('a', 4, 2_000), true);
      assert.equal(window.isRepeat('b', 5, 1_400), false, 'b was forgotten');
    });

    it('does not let a re-read key hold back the eviction of older keys', () => {
      const window = new DedupWindow(1_000);
      window.isRepeat('a', 0, 500);
      window.isRepeat('b', 1, 400);
      window.isRepeat('a', 0, 500); // the same record read again, after a failover
      window.isRepeat('c', 2, 1_450); // cutoff 450: b goes, a (500) stays
      assert.equal(window.size, 2);
      assert.equal(window.isRepeat('b', 3, 1_400), false, 'b was forgotten');
    });

    it('stays bounded by the window under a steady stream of distinct keys', () => {
      const window = new DedupWindow(1_000);
      for (let i = 0; i < 10_000; i++) window.isRepeat(`k${i}`, i, i * 10);
      assert.ok(window.size <= 101, `size ${window.size}`);
    });

    it('does not record repeats, so they do not extend the window', () => {
      const window = new DedupWindow(1_000);
      window.isRepeat('k', 0, 0);
      assert.equal(window.isRepeat('k', 1, 900), true);
      assert.equal(window.size, 1);
      assert.equal(window.isRepeat('k', 2, 1_500), false, 'the window runs from the first copy');
    });
  });

  describe('against a reference model', () => {
    /** The window's rules written plainly, with a Map in arrival order. */
    class ReferenceWindow {
      private readonly seen = new Map<string, { offset: number; time: number }>();
      constructor(private readonly windowMillis: number) {}
      isRepeat(key: string, offset: number, time: number): boolean {
        const first = this.seen.get(key);
        if (first && first.offset !== offset && time - first.time <= this.windowMillis) return first.offset < offset;
        this.seen.delete(key);
        this.seen.set(key, { offset, time });
        for (const [k, entry] of this.seen) {
          if (entry.time >= time - this.windowMillis) break;
          this.seen.delete(k);
        }
        return false;
      }
      get size(): number {
        return this.seen.size;
      }
    }

    /** A small deterministic generator, so a failure replays. */
    function random(seed: number): () => number {
      let state = seed;
      return () => {
        state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
        return state / 2 ** 32;
      };
    }

    // The rate rises halfway (smaller time steps), so the ring also grows after it has wrapped around.
    for (const { keys, windowMillis } of [
      { keys: 50, windowMillis: 300 },
      { keys: 5_000, windowMillis: 2_000 },
      { keys: 100_000, windowMillis: 50_000 },
    ]) {
      it(`agrees on 60,000 messages over ${keys.toLocaleString('en-US')} keys (ring growth, wrap-around, eviction)`, () => {
        const next = random(keys);
        const window = new DedupWindow(windowMillis);
        const reference = new ReferenceWindow(windowMillis);
        let time = 0;
        const sent: Array<[string, number, number]> = [];
        for (let offset = 0; offset < 60_000; offset++) {
          time += Math.floor(next() * (offset < 30_000 ? 12 : 2));
          // Mostly new messages, publish times a little out of order; sometimes an exact re-read of an
          // earlier one (as after a failover), sometimes its key at an earlier offset.
          const choice = next();
          let message: [string, number, number];
          if (choice < 0.04 && sent.length > 0) message = sent[Math.floor(next() * sent.length)]!;
          else if (choice < 0.06) message = [`key-${Math.floor(next() * keys)}`, Math.floor(next() * offset), time];
          else message = [`key-${Math.floor(next() * keys)}`, offset, time - Math.floor(next() * 20)];
          sent.push(message);
          const [key, readOffset, publishTime] = message;
          assert.equal(
            window.isRepeat(key, readOffset, publishTime),
            reference.isRepeat(key, readOffset, publishTime),
            `message ${offset}`,
          );
          assert.equal(window.size, reference.size, `size after message ${offset}`);
        }
      });
    }
  });
});
