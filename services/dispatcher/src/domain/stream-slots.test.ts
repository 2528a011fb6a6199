import assert from 'node:assert/strict';
import { ResourceExhaustedError } from '@herald/errors';
import { StreamSlots } from './stream-slots';

describe('StreamSlots', () => {
  it('refuses the stream past the limit with RESOURCE_EXHAUSTED naming the limit and its variable', () => {
    const slots = new StreamSlots(2);
    slots.acquire();
    slots.acquire();
    assert.throws(
      () => slots.acquire(),
      (error: unknown) =>
        error instanceof ResourceExhaustedError &&
        error.code === 'RESOURCE_EXHAUSTED' &&
        /2 open streams; the limit is 2 \(DISPATCHER_MAX_STREAMS\)/.test(error.message),
    );
    assert.equal(slots.count, 2);
  });

  it('gives a slot back once, however often its release is called', () => {
    const slots = new StreamSlots(1);
    const release = slots.acquire();
    release();
    release();
    assert.equal(slots.count, 0);
    slots.acquire();
    assert.throws(() => slots.acquire(), ResourceExhaustedError);
  });
});
