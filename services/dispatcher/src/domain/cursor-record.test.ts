import assert from 'node:assert/strict';
import { type CursorRecord, type StartInfo, decodeCursor, encodeCursor, partitionStart } from './cursor-record';

const cursor = (createRevision: string, entries: Array<[number, number, string]>): CursorRecord => ({
  createRevision,
  partitions: new Map(entries.map(([p, offset, seekRevision]) => [p, { offset, seekRevision }])),
});

const info = (fields: Partial<StartInfo> = {}): StartInfo => ({
  createRevision: '10',
  startOffsets: new Map([
    [0, 5],
    [1, 7],
  ]),
  lastSeek: undefined,
  ...fields,
});

describe('cursor records', () => {
  it('round-trip through their stored form', () => {
    const original = cursor('42', [
      [0, 100, '-1'],
      [3, 7, '55'],
    ]);
    assert.deepEqual(decodeCursor(encodeCursor(original)), original);
  });

  it('are not read when their format is unknown or broken', () => {
    for (const value of ['{"v":2,"c":"1","p":[]}', 'not json', '{"v":1,"c":"1","p":[["a",1,"-1"]]}', '{"v":1}']) {
      assert.equal(decodeCursor(Buffer.from(value)), undefined, value);
    }
  });

  describe('partitionStart', () => {
    it('starts at the stored cursor of this incarnation', () => {
      const start = partitionStart(0, cursor('10', [[0, 50, '-1']]), info(), 0);
      assert.deepEqual(start, { deliverFrom: 50, seekRevision: '-1', source: 'cursor' });
    });

    it('ignores a cursor of an earlier subscription with the same name', () => {
      const start = partitionStart(0, cursor('9', [[0, 50, '-1']]), info(), 0);
      assert.deepEqual(start, { deliverFrom: 5, seekRevision: '-1', source: 'start' });
    });

    it('prefers a seek newer than the cursor, and a cursor at least as new as the seek', () => {
      const lastSeek = { revision: '20', offsets: new Map([[0, 30]]) };
      assert.deepEqual(partitionStart(0, cursor('10', [[0, 50, '19']]), info({ lastSeek }), 0), {
        deliverFrom: 30,
        seekRevision: '20',
        source: 'seek',
      });
      assert.deepEqual(partitionStart(0, cursor('10', [[0, 50, '20']]), info({ lastSeek }), 0), {
        deliverFrom: 50,
        seekRevision: '20',
        source: 'cursor',
      });
    });

    it('starts where the subscription started for a partition the cursor does not name', () => {
      assert.equal(partitionStart(1, cursor('10', [[0, 50, '-1']]), info(), 0).deliverFrom, 7);
    });

    it('never starts before the first offset Kafka still retains', () => {
      assert.equal(partitionStart(0, cursor('10', [[0, 50, '-1']]), info(), 80).deliverFrom, 80);
      assert.equal(partitionStart(1, undefined, info(), 9).deliverFrom, 9);
    });
  });
});
