import assert from 'node:assert/strict';
import { FlowControl, type FlowLimits } from './flow-control';

const limits: FlowLimits = { maxOutstandingMessages: 3, maxOutstandingBytes: 100 };

/** A flow control holding messages of the given sizes. */
function holding(...sizes: number[]): FlowControl {
  const flow = new FlowControl(limits);
  for (const size of sizes) flow.add(size);
  return flow;
}

describe('FlowControl', () => {
  it('starts empty and keeps its limits', () => {
    const flow = new FlowControl(limits);
    assert.equal(flow.outstandingMessages, 0);
    assert.equal(flow.outstandingBytes, 0);
    assert.deepEqual(flow.limits, limits);
  });

  describe('fits', () => {
    const cases: Array<{ title: string; held: number[]; size: number; fits: boolean }> = [
      { title: 'a small message in an empty stream', held: [], size: 10, fits: true },
      { title: 'a message of exactly the byte limit in an empty stream', held: [], size: 100, fits: true },
      { title: 'a message larger than the byte limit in an empty stream', held: [], size: 1_000, fits: true },
      { title: 'a message that reaches the byte limit exactly', held: [60], size: 40, fits: true },
      { title: 'a message one byte over the byte limit', held: [60], size: 41, fits: false },
      { title: 'a message larger than the byte limit in a non-empty stream', held: [1], size: 1_000, fits: false },
      { title: 'a message when the message limit is reached', held: [1, 1, 1], size: 1, fits: false },
      { title: 'a message below the message limit', held: [1, 1], size: 1, fits: true },
      { title: 'an empty message in a stream at the byte limit', held: [100], size: 0, fits: true },
      { title: 'anything after an oversized message', held: [500], size: 1, fits: false },
    ];
    for (const { title, held, size, fits } of cases) {
      it(`${fits ? 'takes' : 'refuses'} ${title}`, () => {
        assert.equal(holding(...held).fits(size), fits);
      });
    }
  });

  describe('hasRoom', () => {
    const cases: Array<{ held: number[]; hasRoom: boolean }> = [
      { held: [], hasRoom: true },
      { held: [10, 10], hasRoom: true },
      { held: [10, 10, 10], hasRoom: false },
      { held: [99], hasRoom: true },
      { held: [100], hasRoom: false },
      { held: [250], hasRoom: false },
    ];
    for (const { held, hasRoom } of cases) {
      it(`is ${hasRoom} holding [${held.join(', ')}] (limits 3 messages, 100 bytes)`, () => {
        assert.equal(holding(...held).hasRoom(), hasRoom);
      });
    }
  });

  describe('add and remove', () => {
    it('count messages and bytes', () => {
      const flow = holding(10, 20, 30);
      assert.equal(flow.outstandingMessages, 3);
      assert.equal(flow.outstandingBytes, 60);
      flow.remove(20);
      assert.equal(flow.outstandingMessages, 2);
      assert.equal(flow.outstandingBytes, 40);
      assert.ok(flow.hasRoom());
      assert.ok(flow.fits(60));
      assert.ok(!flow.fits(61));
    });

    it('free room once something is removed', () => {
      const flow = holding(1, 1, 1);
      assert.ok(!flow.fits(1));
      flow.remove(1);
      assert.ok(flow.fits(1));
    });

    it('never count below zero', () => {
      const flow = holding(5);
      flow.remove(5);
      flow.remove(5);
      flow.remove(50);
      assert.equal(flow.outstandingMessages, 0);
      assert.equal(flow.outstandingBytes, 0);
      flow.add(7);
      assert.equal(flow.outstandingMessages, 1);
      assert.equal(flow.outstandingBytes, 7);
    });
  });
});
