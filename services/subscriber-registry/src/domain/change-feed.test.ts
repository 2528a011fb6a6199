import assert from 'node:assert/strict';
import { ChangeFeed } from './change-feed';
import type { AppliedChange } from './registry-state';

function change(revision: string | number): AppliedChange {
  return { revision: String(revision), timeMillis: 1_000, change: { kind: 'topic-deleted', name: `t-${revision}` } };
}

const revisions = (changes: AppliedChange[] | undefined) => changes?.map((c) => c.revision);

/** A feed with these revisions published, in order. */
function feedWith(published: Array<string | number>, capacity?: number): ChangeFeed {
  const feed = new ChangeFeed(capacity);
  for (const revision of published) feed.publish(change(revision));
  return feed;
}

describe('ChangeFeed', () => {
  describe('subscribe', () => {
    it('delivers each published change to every listener, in order', () => {
      const feed = new ChangeFeed();
      const first: string[] = [];
      const second: string[] = [];
      feed.subscribe((c) => first.push(c.revision));
      feed.subscribe((c) => second.push(c.revision));
      feed.publish(change(1));
      feed.publish(change(2));
      assert.deepEqual(first, ['1', '2']);
      assert.deepEqual(second, ['1', '2']);
    });

    it('passes the published change itself', () => {
      const feed = new ChangeFeed();
      const received: AppliedChange[] = [];
      feed.subscribe((c) => received.push(c));
      const published = change(5);
      feed.publish(published);
      assert.equal(received[0], published);
    });

    it('does not replay changes published before subscribing', () => {
      const feed = feedWith([1, 2]);
      const received: string[] = [];
      feed.subscribe((c) => received.push(c.revision));
      feed.publish(change(3));
      assert.deepEqual(received, ['3']);
    });

    it('stops delivering to a listener once unsubscribed, and only to it', () => {
      const feed = new ChangeFeed();
      const kept: string[] = [];
      const dropped: string[] = [];
      feed.subscribe((c) => kept.push(c.revision));
      const unsubscribe = feed.subscribe((c) => dropped.push(c.revision));
      feed.publish(change(1));
      unsubscribe();
      feed.publish(change(2));
      assert.deepEqual(kept, ['1', '2']);
      assert.deepEqual(dropped, ['1']);
    });

    it('tolerates unsubscribing twice', () => {
      const feed = new ChangeFeed();
      const received: string[] = [];
      const unsubscribe = feed.subscribe((c) => received.push(c.revision));
      unsubscribe();
      unsubscribe();
      feed.publish(change(1));
      assert.deepEqual(received, []);
    });

    it('keeps delivering past capacity', () => {
      const feed = new ChangeFeed(2);
      const received: string[] = [];
      feed.subscribe((c) => received.push(c.revision));
      for (const revision of [1, 2, 3, 4, 5]) feed.publish(change(revision));
      assert.deepEqual(received, ['1', '2', '3', '4', '5']);
    });
  });

  describe('since', () => {
    const cases: Array<{ published: Array<string | number>; since: string; expected: string[] }> = [
      { published: [], since: '-1', expected: [] },
      { published: [], since: '7', expected: [] },
      { published: [3, 5, 9], since: '-1', expected: ['3', '5', '9'] },
      { published: [3, 5, 9], since: '2', expected: ['3', '5', '9'] },
      { published: [3, 5, 9], since: '3', expected: ['5', '9'] },
      { published: [3, 5, 9], since: '4', expected: ['5', '9'] },
      { published: [3, 5, 9], since: '9', expected: [] },
      { published: [3, 5, 9], since: '100', expected: [] },
      // Compared as numbers, not as strings.
      { published: [8, 9, 10, 11], since: '9', expected: ['10', '11'] },
      { published: [99, 100], since: '100', expected: [] },
      // Kafka offsets are 64-bit: past Number.MAX_SAFE_INTEGER.
      {
        published: ['9007199254740992', '9007199254740993'],
        since: '9007199254740992',
        expected: ['9007199254740993'],
      },
    ];
    for (const { published, since, expected } of cases) {
      it(`after ${since} of ${JSON.stringify(published)}: ${JSON.stringify(expected)}`, () => {
        assert.deepEqual(revisions(feedWith(published).since(since)), expected);
      });
    }

    it('returns a copy that does not change the feed', () => {
      const feed = feedWith([1, 2]);
      feed.since('0')?.splice(0);
      assert.deepEqual(revisions(feed.since('0')), ['1', '2']);
    });

    describe('past capacity', () => {
      it('keeps everything up to capacity', () => {
        assert.deepEqual(revisions(feedWith([1, 2, 3], 3).since('-1')), ['1', '2', '3']);
      });

      const cases: Array<{ since: string; expected: string[] | undefined }> = [
        { since: '-1', expected: undefined },
        { since: '0', expected: undefined },
        { since: '1', expected: undefined },
        // The watcher saw revision 2, the last one dropped: nothing it needs is missing.
        { since: '2', expected: ['3', '4', '5'] },
        { since: '3', expected: ['4', '5'] },
        { since: '5', expected: [] },
      ];
      for (const { since, expected } of cases) {
        it(`after ${since} of 1..5 with capacity 3: ${expected ? JSON.stringify(expected) : 'undefined'}`, () => {
          assert.deepEqual(revisions(feedWith([1, 2, 3, 4, 5], 3).since(since)), expected);
        });
      }

      it('judges the gap by revision, not by count, when revisions skip', () => {
        const feed = feedWith([10, 20, 30], 2);
        assert.equal(feed.since('9'), undefined);
        assert.deepEqual(revisions(feed.since('10')), ['20', '30']);
        assert.deepEqual(revisions(feed.since('15')), ['20', '30']);
      });

      it('holds nothing with capacity 0, yet says when the caller is current', () => {
        const feed = feedWith([1, 2], 0);
        assert.equal(feed.since('1'), undefined);
        assert.deepEqual(feed.since('2'), []);
      });
    });
  });
});
