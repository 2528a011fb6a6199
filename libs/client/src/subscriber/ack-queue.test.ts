import assert from 'node:assert/strict';
import type { StreamingPullRequest } from '@herald/api';
import { fakeTimers } from '../testing/fake-timers';
import { AckQueue } from './ack-queue';

describe('AckQueue', () => {
  function setup(options?: { maxDelayMillis?: number; maxItems?: number }) {
    const { clock, timers } = fakeTimers();
    const written: StreamingPullRequest[] = [];
    const queue = new AckQueue(
      async (request) => {
        written.push(request);
      },
      timers,
      options,
    );
    return { clock, queue, written };
  }

  it('gathers acks, nacks and deadline changes for maxDelayMillis and sends them in one request', () => {
    const { clock, queue, written } = setup({ maxDelayMillis: 10 });
    queue.ack('a');
    queue.nack('b');
    queue.modifyDeadline(['c', 'd'], 30);
    clock.tick(9);
    assert.equal(written.length, 0, 'not before the delay');
    clock.tick(1);
    assert.equal(written.length, 1);
    assert.deepEqual(written[0]!.ackIds, ['a']);
    assert.deepEqual(written[0]!.nackIds, ['b']);
    assert.deepEqual(written[0]!.modifyDeadlineAckIds, ['c', 'd']);
    assert.deepEqual(written[0]!.modifyDeadlineSeconds, [30, 30]);
    assert.equal(queue.size, 0);
  });

  it('sends at once when maxItems wait, without waiting for the delay', () => {
    const { queue, written } = setup({ maxItems: 3 });
    queue.ack('a');
    queue.ack('b');
    assert.equal(written.length, 0);
    queue.ack('c');
    assert.equal(written.length, 1);
    assert.deepEqual(written[0]!.ackIds, ['a', 'b', 'c']);
  });

  it('splits a flush into requests of at most maxItems ids', async () => {
    const { queue, written } = setup({ maxItems: 1_000 });
    queue.modifyDeadline(
      Array.from({ length: 2_500 }, (_, i) => `m${i}`),
      60,
    );
    await queue.flush();
    assert.deepEqual(
      written.map((r) => r.modifyDeadlineAckIds.length),
      [1_000, 1_000, 500],
    );
    assert.equal(new Set(written.flatMap((r) => r.modifyDeadlineAckIds)).size, 2_500);
  });

  it('clear forgets what waits (the stream it belonged to broke)', () => {
    const { clock, queue, written } = setup();
    queue.ack('a');
    queue.clear();
    clock.tick(1_000);
    assert.equal(written.length, 0);
    assert.equal(queue.size, 0);
  });
});
