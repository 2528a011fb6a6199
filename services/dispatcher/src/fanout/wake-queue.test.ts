import assert from 'node:assert/strict';
import { WakeQueue } from './wake-queue';

/** A queue whose later turns run only when the test says so. */
function steppedQueue(wakesPerTurn: number): { queue: WakeQueue; turns: Array<() => void> } {
  const turns: Array<() => void> = [];
  return { queue: new WakeQueue(wakesPerTurn, (run) => turns.push(run)), turns };
}

describe('WakeQueue', () => {
  it('wakes a few at once and the rest in later turns, in order', () => {
    const { queue, turns } = steppedQueue(2);
    const woken: number[] = [];
    queue.wake([1, 2, 3, 4, 5].map((n) => () => woken.push(n)));
    assert.deepEqual(woken, [1, 2]);
    assert.equal(queue.pending, 3);
    turns.shift()!();
    assert.deepEqual(woken, [1, 2, 3, 4]);
    turns.shift()!();
    assert.deepEqual(woken, [1, 2, 3, 4, 5]);
    assert.equal(queue.pending, 0);
    assert.equal(turns.length, 0, 'no turn scheduled once empty');
  });

  it('queues wakes that arrive while a turn is pending behind the earlier ones', () => {
    const { queue, turns } = steppedQueue(2);
    const woken: string[] = [];
    queue.wake(['a', 'b', 'c'].map((n) => () => woken.push(n)));
    queue.wake([() => woken.push('d')]);
    assert.deepEqual(woken, ['a', 'b'], 'nothing runs ahead of the queue');
    turns.shift()!();
    assert.deepEqual(woken, ['a', 'b', 'c', 'd']);
    assert.equal(turns.length, 0);
  });

  it('runs the first slice at once when idle again', () => {
    const { queue, turns } = steppedQueue(2);
    const woken: number[] = [];
    queue.wake([() => woken.push(1)]);
    queue.wake([() => woken.push(2)]);
    assert.deepEqual(woken, [1, 2]);
    assert.equal(turns.length, 0);
  });

  it('keeps waking the others when one throws', () => {
    const { queue, turns } = steppedQueue(2);
    const woken: number[] = [];
    assert.throws(() =>
      queue.wake([
        () => {
          throw new Error('boom');
        },
        () => woken.push(2),
        () => woken.push(3),
      ]),
    );
    assert.deepEqual(woken, [], 'the throw ended that turn');
    turns.shift()!();
    assert.deepEqual(woken, [2, 3]);
  });

  it('takes a wake queued from inside a wake into the same queue, not a nested run', () => {
    const { queue, turns } = steppedQueue(2);
    const woken: string[] = [];
    queue.wake([
      () => {
        woken.push('a');
        queue.wake([() => woken.push('nested')]);
      },
      () => woken.push('b'),
      () => woken.push('c'),
    ]);
    assert.deepEqual(woken, ['a', 'b']);
    turns.shift()!();
    assert.deepEqual(woken, ['a', 'b', 'c', 'nested']);
  });

  it('does not keep the wakes that ran when new ones keep coming before it runs empty', () => {
    const { queue, turns } = steppedQueue(2);
    let woken = 0;
    const wakes = () => [() => woken++, () => woken++, () => woken++];
    queue.wake(wakes());
    for (let turn = 0; turn < 1_000; turn++) {
      queue.wake(wakes()); // three more each turn, two run: it never runs empty
      turns.shift()!();
    }
    assert.equal(woken, 2 * 1_001);
    assert.ok(queue.held < 2 * 16 + queue.pending + 1, `holds ${queue.held} for ${queue.pending} pending`);
  });

  it('runs later turns on setImmediate by default', async () => {
    const queue = new WakeQueue(1);
    const woken: string[] = [];
    queue.wake([() => woken.push('first'), () => woken.push('second')]);
    assert.deepEqual(woken, ['first']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(woken, ['first', 'second']);
  });
});
