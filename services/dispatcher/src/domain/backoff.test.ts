import assert from 'node:assert/strict';
import { retryDelayMillis, type RetryPolicy } from './backoff';

describe('retryDelayMillis', () => {
  const policy: RetryPolicy = { minimumBackoffMillis: 100, maximumBackoffMillis: 1_000 };

  const cases: Array<{ failedAttempts: number; delayMillis: number }> = [
    { failedAttempts: -1, delayMillis: 0 },
    { failedAttempts: 0, delayMillis: 0 },
    { failedAttempts: 1, delayMillis: 100 },
    { failedAttempts: 2, delayMillis: 200 },
    { failedAttempts: 3, delayMillis: 400 },
    { failedAttempts: 4, delayMillis: 800 },
    { failedAttempts: 5, delayMillis: 1_000 },
    { failedAttempts: 6, delayMillis: 1_000 },
    { failedAttempts: 31, delayMillis: 1_000 },
    { failedAttempts: 1_000, delayMillis: 1_000 },
  ];
  for (const { failedAttempts, delayMillis } of cases) {
    it(`waits ${delayMillis} ms after ${failedAttempts} failed attempts (min 100, max 1000)`, () => {
      assert.equal(retryDelayMillis(policy, failedAttempts), delayMillis);
    });
  }

  it('doubles from the minimum until the maximum, then stays there', () => {
    const wide: RetryPolicy = { minimumBackoffMillis: 10_000, maximumBackoffMillis: 600_000 };
    const delays = Array.from({ length: 10 }, (_, i) => retryDelayMillis(wide, i + 1));
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 600_000, 600_000, 600_000, 600_000]);
  });

  it('stays finite for a huge number of failures', () => {
    const delay = retryDelayMillis(
      { minimumBackoffMillis: 600_000, maximumBackoffMillis: Number.MAX_SAFE_INTEGER },
      10_000,
    );
    assert.ok(Number.isFinite(delay));
    assert.equal(delay, 600_000 * 2 ** 30);
  });

  it('is always 0 with a zero minimum: redelivery at once', () => {
    const none: RetryPolicy = { minimumBackoffMillis: 0, maximumBackoffMillis: 600_000 };
    for (const failedAttempts of [1, 2, 10, 100]) assert.equal(retryDelayMillis(none, failedAttempts), 0);
  });

  it('never exceeds the maximum, even when the minimum is larger', () => {
    assert.equal(retryDelayMillis({ minimumBackoffMillis: 5_000, maximumBackoffMillis: 1_000 }, 1), 1_000);
  });

  it('equals min and max when they are the same', () => {
    const flat: RetryPolicy = { minimumBackoffMillis: 300, maximumBackoffMillis: 300 };
    for (const failedAttempts of [1, 2, 3, 50]) assert.equal(retryDelayMillis(flat, failedAttempts), 300);
  });
});
