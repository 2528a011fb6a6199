import assert from 'node:assert/strict';
import { OffsetRanges } from './offset-ranges';
import {
  decodeRedriveState,
  encodeRedriveState,
  parseRedriveSource,
  redriveSource,
  redriveStateKey,
  redriveTopicId,
} from './redrive-state';

describe('redrive state', () => {
  it('comes back as stored, with its pending batch', () => {
    const state = {
      done: new Map([
        [0, new OffsetRanges([[0, 500]])],
        [
          2,
          new OffsetRanges([
            [3, 4],
            [9, 12],
          ]),
        ],
      ]),
      pending: {
        sources: ['dead@1/0/500', 'dead@1/0/501'],
        sourceEnds: new Map([
          [0, 40],
          [1, 0],
        ]),
      },
    };
    const back = decodeRedriveState(encodeRedriveState(state));
    assert.deepEqual(
      [...back.done].map(([p, ranges]) => [p, ranges.toJSON()]),
      [
        [0, [[0, 500]]],
        [
          2,
          [
            [3, 4],
            [9, 12],
          ],
        ],
      ],
    );
    assert.deepEqual(back.pending, state.pending);
  });

  it('has no pending batch once a batch is done', () => {
    const back = decodeRedriveState(encodeRedriveState({ done: new Map() }));
    assert.equal(back.pending, undefined);
  });

  it('refuses a format it does not know rather than redrive twice', () => {
    assert.throws(() => decodeRedriveState(Buffer.from('{"v":2,"done":{}}')), /format 2/);
  });

  it('is keyed by subscription and dead-letter topic incarnation', () => {
    const before = redriveStateKey('orders-sub', redriveTopicId('orders-dead', 1000));
    const recreated = redriveStateKey('orders-sub', redriveTopicId('orders-dead', 2000));
    assert.notEqual(before, recreated);
    assert.equal(before, 'orders-sub/orders-dead@1000');
  });
});

describe('redrive sources', () => {
  const topic = redriveTopicId('orders-dead', 1000);

  it('name a dead letter and read back as its position', () => {
    assert.deepEqual(parseRedriveSource(redriveSource(topic, 2, 41), topic), { partition: 2, offset: 41 });
  });

  it('are not read as another topic’s, or another incarnation’s', () => {
    const source = redriveSource(topic, 2, 41);
    assert.equal(parseRedriveSource(source, redriveTopicId('orders-dead', 999)), undefined);
    assert.equal(parseRedriveSource(source, redriveTopicId('orders', 1000)), undefined);
    assert.equal(parseRedriveSource(`${topic}//41`, topic), undefined);
    assert.equal(parseRedriveSource(`${topic}/1/2/3`, topic), undefined);
  });
});
