import assert from 'node:assert/strict';
import { AdaptiveConcurrency, type PushOutcome } from './adaptive-concurrency';

describe('AdaptiveConcurrency', () => {
  it('grows by one per success up to its ceiling', () => {
    const limiter = new AdaptiveConcurrency(3);
    assert.equal(limiter.limit, 1);
    for (const expected of [2, 3, 3]) assert.equal(limiter.finished(limiter.started(), 'ok'), expected);
  });

  for (const outcome of ['throttled', 'server-error', 'timeout', 'network-error'] as PushOutcome[]) {
    it(`halves on ${outcome}, never below 1`, () => {
      const limiter = new AdaptiveConcurrency(100, 40);
      assert.equal(limiter.finished(limiter.started(), outcome), 20);
      assert.equal(limiter.finished(limiter.started(), outcome), 10);
      const small = new AdaptiveConcurrency(100, 1);
      assert.equal(small.finished(small.started(), outcome), 1);
    });
  }

  for (const outcome of ['rejected', 'refused'] as PushOutcome[]) {
    it(`leaves the limit alone on ${outcome}: the endpoint is not overloaded`, () => {
      const limiter = new AdaptiveConcurrency(100, 8);
      assert.equal(limiter.finished(limiter.started(), outcome), 8);
    });
  }

  it('halves once for the requests in flight when the endpoint started failing', () => {
    const limiter = new AdaptiveConcurrency(100, 32);
    const inFlight = Array.from({ length: 32 }, () => limiter.started());
    for (const request of inFlight) limiter.finished(request, 'throttled');
    assert.equal(limiter.limit, 16);
    // A request started after that decrease that fails again halves again.
    assert.equal(limiter.finished(limiter.started(), 'timeout'), 8);
  });

  it('recovers additively after a decrease', () => {
    const limiter = new AdaptiveConcurrency(10, 10);
    limiter.finished(limiter.started(), 'server-error');
    assert.equal(limiter.limit, 5);
    for (let i = 0; i < 3; i++) limiter.finished(limiter.started(), 'ok');
    assert.equal(limiter.limit, 8);
  });
});
