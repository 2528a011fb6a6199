import assert from 'node:assert/strict';
import type { Clock } from './clock';
import { retry } from './retry';

/** A clock whose sleeps pass at once and move its time on. */
function fakeClock(): Clock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (millis) => {
      slept.push(millis);
      now += millis;
    },
  };
}

describe('retry', () => {
  it('retries until the operation succeeds, with the backoff between attempts', async () => {
    const clock = fakeClock();
    const result = await retry(
      async (attempt) => {
        if (attempt < 4) throw new Error(`failure ${attempt}`);
        return attempt;
      },
      { clock, initialMillis: 10, jitter: 'none' },
    );
    assert.equal(result, 4);
    assert.deepEqual(clock.slept, [10, 20, 40]);
  });

  it('rethrows at once what is not retryable', async () => {
    const clock = fakeClock();
    const fatal = new Error('fatal');
    await assert.rejects(
      retry(
        async () => {
          throw fatal;
        },
        { clock, retryable: (error) => error !== fatal },
      ),
      (error) => error === fatal,
    );
    assert.deepEqual(clock.slept, []);
  });

  it('gives up when the next wait would pass the total timeout, with the last failure', async () => {
    const clock = fakeClock();
    let attempts = 0;
    await assert.rejects(
      retry(
        async (attempt) => {
          attempts = attempt;
          throw new Error(`failure ${attempt}`);
        },
        { clock, initialMillis: 100, maxMillis: 100, jitter: 'none', totalTimeoutMillis: 350 },
      ),
      /failure 4/,
    );
    assert.equal(attempts, 4);
    assert.deepEqual(clock.slept, [100, 100, 100]);
  });

  it('gives up after maxAttempts and tells onRetry before each wait', async () => {
    const clock = fakeClock();
    const told: Array<[number, number]> = [];
    await assert.rejects(
      retry(
        async () => {
          throw new Error('down');
        },
        {
          clock,
          maxAttempts: 3,
          initialMillis: 10,
          random: () => 0.5,
          onRetry: (_, attempt, wait) => told.push([attempt, wait]),
        },
      ),
      /down/,
    );
    assert.deepEqual(told, [
      [1, 5],
      [2, 10],
    ]);
  });
});
