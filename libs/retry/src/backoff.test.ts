import assert from 'node:assert/strict';
import { Backoff, backoffCeilingMillis, backoffMillis } from './backoff';

/** A random source that returns the given numbers in turn. */
function sequence(...values: number[]) {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('backoff', () => {
  it('grows the ceiling exponentially from initialMillis and caps it at maxMillis', () => {
    const options = { initialMillis: 100, maxMillis: 1_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((attempt) => backoffCeilingMillis(options, attempt)),
      [100, 200, 400, 800, 1_000, 1_000],
    );
  });

  it('does not overflow after a very long outage', () => {
    assert.equal(backoffCeilingMillis({ initialMillis: 100, maxMillis: 5_000 }, 10_000), 5_000);
    assert.equal(backoffCeilingMillis({ initialMillis: 0, maxMillis: 5_000 }, 10_000), 0);
  });

  it('full jitter spreads the wait uniformly between 0 and the ceiling', () => {
    assert.equal(
      backoffMillis({ initialMillis: 100 }, 3, () => 0),
      0,
    );
    assert.equal(
      backoffMillis({ initialMillis: 100 }, 3, () => 0.5),
      200,
    );
    assert.equal(
      backoffMillis({ initialMillis: 100 }, 3, () => 0.999),
      399.6,
    );
  });

  it('jitter none waits the ceiling itself', () => {
    assert.equal(
      backoffMillis({ initialMillis: 50, maxMillis: 1_000, jitter: 'none' }, 3, () => 0),
      200,
    );
  });

  it('uses the multiplier', () => {
    assert.equal(backoffCeilingMillis({ initialMillis: 10, multiplier: 3 }, 3), 90);
  });

  it('Backoff counts attempts and starts over on reset', () => {
    const backoff = new Backoff({ initialMillis: 100, maxMillis: 1_000, jitter: 'none' });
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [100, 200, 400]);
    assert.equal(backoff.attempts, 3);
    backoff.reset();
    assert.equal(backoff.next(), 100);
  });

  it('decorrelated jitter stays between initialMillis and three times the previous wait, capped', () => {
    const backoff = new Backoff({ initialMillis: 100, maxMillis: 1_000, jitter: 'decorrelated' }, sequence(1));
    // With random() at its top: 300, 900, then the cap.
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [300, 900, 1_000]);
    const low = new Backoff({ initialMillis: 100, maxMillis: 1_000, jitter: 'decorrelated' }, sequence(0));
    assert.deepEqual([low.next(), low.next()], [100, 100]);
    const random = new Backoff({ initialMillis: 100, maxMillis: 10_000, jitter: 'decorrelated' });
    let previous = 100;
    for (let i = 0; i < 1_000; i++) {
      const wait = random.next();
      assert.ok(wait >= 100 && wait <= Math.min(10_000, previous * 3), `${wait} after ${previous}`);
      previous = wait;
    }
  });
});
