import assert from 'node:assert/strict';
import { cursorOf, decodeSettled, encodeSettled, fromRuns, toRuns } from './settled-record';

describe('settled-record', () => {
  describe('toRuns / fromRuns', () => {
    it('packs consecutive offsets into runs and unpacks them again', () => {
      const offsets = [5, 6, 7, 9, 12, 13];
      assert.deepEqual(toRuns(offsets), [
        [5, 3],
        [9, 1],
        [12, 2],
      ]);
      assert.deepEqual(fromRuns(toRuns(offsets)), offsets);
      assert.deepEqual(toRuns([]), []);
    });
  });

  describe('encodeSettled / decodeSettled', () => {
    it('round-trips partitions, commit points, seek revisions and settled offsets', () => {
      const record = {
        createRevision: '42',
        partitions: new Map([
          [0, { offset: 10, seekRevision: '-1', settled: [11, 12, 20] }],
          [2, { offset: 0, seekRevision: '77', settled: [] }],
        ]),
      };
      assert.deepEqual(decodeSettled(encodeSettled(record)), record);
    });

    it('refuses what it cannot read instead of guessing', () => {
      for (const value of [
        'not json',
        '{"v":2,"c":"1","p":[]}',
        '{"v":1,"c":1,"p":[]}',
        '{"v":1,"c":"1","p":[[0,"x","-1",[]]]}',
        '{"v":1,"c":"1","p":[[0,1,"-1",[["a",1]]]]}',
        '{"v":1,"c":"1","p":[[0,1,"-1",null]]}',
      ]) {
        assert.equal(decodeSettled(Buffer.from(value)), undefined, value);
      }
    });
  });

  it('cursorOf keeps the commit points and seek revisions only', () => {
    const cursor = cursorOf({
      createRevision: '3',
      partitions: new Map([[1, { offset: 8, seekRevision: '-1', settled: [9] }]]),
    });
    assert.deepEqual(cursor, { createRevision: '3', partitions: new Map([[1, { offset: 8, seekRevision: '-1' }]]) });
  });
});
