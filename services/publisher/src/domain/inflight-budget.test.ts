import assert from 'node:assert/strict';
import { isRetryable, ResourceExhaustedError } from '@herald/errors';
import { InflightBudget } from './inflight-budget';

describe('InflightBudget', () => {
  describe('acquire', () => {
    it('takes bytes up to the limit, the limit included', () => {
      const budget = new InflightBudget(1_000);
      budget.acquire(400);
      budget.acquire(600);
      assert.equal(budget.usedBytes, 1_000);
    });

    it('refuses what would go over the limit with a retryable RESOURCE_EXHAUSTED naming the variable', () => {
      const budget = new InflightBudget(1_000);
      budget.acquire(600);
      assert.throws(
        () => budget.acquire(401),
        (error: unknown) => {
          assert.ok(error instanceof ResourceExhaustedError);
          assert.equal(error.limit, 'PUBLISHER_MAX_INFLIGHT_BYTES');
          assert.match(error.message, /^PUBLISHER_MAX_INFLIGHT_BYTES: 600 bytes are already waiting for Kafka/);
          assert.ok(isRetryable(error));
          return true;
        },
      );
      assert.equal(budget.usedBytes, 600, 'a refused acquire takes nothing');
    });

    it('lets a request larger than the whole budget through when nothing else is waiting', () => {
      const budget = new InflightBudget(1_000);
      budget.acquire(5_000);
      assert.equal(budget.usedBytes, 5_000);
      assert.throws(() => budget.acquire(1), ResourceExhaustedError, 'and nothing else while it waits');
    });

    it('refuses a request larger than the whole budget while anything is waiting', () => {
      const budget = new InflightBudget(1_000);
      budget.acquire(1);
      assert.throws(() => budget.acquire(5_000), ResourceExhaustedError);
    });

    it('takes zero bytes even when full', () => {
      const budget = new InflightBudget(1_000);
      budget.acquire(1_000);
      budget.acquire(0);
      assert.equal(budget.usedBytes, 1_000);
    });
  });

  describe('release', () => {
    it('gives bytes back, so that a refused size fits again', () => {
      const budget = new InflightBudget(1_000);
      budget.acquire(700);
      assert.throws(() => budget.acquire(400), ResourceExhaustedError);
      budget.release(700);
      assert.equal(budget.usedBytes, 0);
      budget.acquire(400);
      assert.equal(budget.usedBytes, 400);
    });

    it('never goes below zero', () => {
      const budget = new InflightBudget(1_000);
      budget.acquire(100);
      budget.release(300);
      assert.equal(budget.usedBytes, 0);
      budget.acquire(1_000);
      assert.equal(budget.usedBytes, 1_000);
    });

    it('balances many acquires and releases', () => {
      const budget = new InflightBudget(10_000);
      const sizes = Array.from({ length: 50 }, (_, i) => 10 + i * 3);
      for (const size of sizes) budget.acquire(size);
      assert.equal(
        budget.usedBytes,
        sizes.reduce((a, b) => a + b, 0),
      );
      for (const size of sizes) budget.release(size);
      assert.equal(budget.usedBytes, 0);
    });
  });
});
