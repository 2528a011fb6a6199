import assert from 'node:assert/strict';
import { LeaseFailureReason } from '@herald/api';
import { fakeTimers } from '../testing/fake-timers';
import { Confirmations, type SettleResult } from './confirmations';

describe('Confirmations', () => {
  const failure = (ackId: string, reason: LeaseFailureReason) => ({ ackId, reason, detail: `why ${ackId}` });

  describe('answer', () => {
    it('resolves confirmed ids and failed ids with their reason, per kind', async () => {
      const confirmations = new Confirmations();
      const a = confirmations.expect('ack', 'a', 1);
      const b = confirmations.expect('ack', 'b', 1);
      const c = confirmations.expect('ack', 'c', 1);
      const d = confirmations.expect('ack', 'd', 1);
      const e = confirmations.expect('ack', 'e', 1);
      const nackOfA = confirmations.expect('nack', 'a', 1);
      confirmations.answer('ack', {
        ackIds: ['a'],
        failures: [
          failure('b', LeaseFailureReason.LEASE_FAILURE_REASON_INVALID),
          failure('c', LeaseFailureReason.LEASE_FAILURE_REASON_EXPIRED),
          failure('d', LeaseFailureReason.LEASE_FAILURE_REASON_LEASE_MOVED),
          failure('e', LeaseFailureReason.LEASE_FAILURE_REASON_UNAVAILABLE),
        ],
      });
      assert.deepEqual(await a, { ok: true, confirmed: true });
      assert.deepEqual(await b, { ok: false, reason: 'invalid', detail: 'why b' });
      assert.deepEqual(await c, { ok: false, reason: 'expired', detail: 'why c' });
      assert.deepEqual(await d, { ok: false, reason: 'lease-moved', detail: 'why d' });
      assert.deepEqual(await e, { ok: false, reason: 'unavailable', detail: 'why e' });
      assert.equal(confirmations.size, 1, 'the nack of the same id still waits for its own answer');
      confirmations.answer('nack', { ackIds: ['a'], failures: [] });
      assert.deepEqual(await nackOfA, { ok: true, confirmed: true });
      assert.equal(confirmations.size, 0);
    });

    it('ignores answers nobody waits for, such as automatic lease extensions', () => {
      const confirmations = new Confirmations();
      confirmations.answer('modify-deadline', { ackIds: ['x'], failures: [] });
      confirmations.answer('ack', undefined);
      assert.equal(confirmations.size, 0);
    });

    it('gives one answer to both waiters of the same id', async () => {
      const confirmations = new Confirmations();
      const first = confirmations.expect('modify-deadline', 'a', 1);
      const second = confirmations.expect('modify-deadline', 'a', 1);
      confirmations.answer('modify-deadline', { ackIds: ['a'], failures: [] });
      assert.deepEqual(await Promise.all([first, second]), [
        { ok: true, confirmed: true },
        { ok: true, confirmed: true },
      ]);
    });
  });

  describe('failGeneration', () => {
    it('fails as unavailable only what the ended stream carried', async () => {
      const confirmations = new Confirmations();
      const old = confirmations.expect('ack', 'a', 1);
      const current = confirmations.expect('ack', 'b', 2);
      let currentResult: SettleResult | undefined;
      void current.then((result) => (currentResult = result));
      confirmations.failGeneration(1);
      const result = await old;
      assert.equal(result.ok, false);
      assert.equal(result.ok === false && result.reason, 'unavailable');
      await Promise.resolve();
      assert.equal(currentResult, undefined);
      assert.equal(confirmations.size, 1);
    });
  });

  describe('waitUntilEmpty', () => {
    it('resolves when the last answer comes', async () => {
      const { timers } = fakeTimers();
      const confirmations = new Confirmations();
      void confirmations.expect('ack', 'a', 1);
      let done = false;
      const waiting = confirmations.waitUntilEmpty(10_000, timers).then(() => (done = true));
      await Promise.resolve();
      assert.equal(done, false);
      confirmations.answer('ack', { ackIds: ['a'], failures: [] });
      await waiting;
      assert.equal(done, true);
    });

    it('gives up after the timeout', async () => {
      const { clock, timers } = fakeTimers();
      const confirmations = new Confirmations();
      void confirmations.expect('ack', 'a', 1);
      const waiting = confirmations.waitUntilEmpty(1_000, timers);
      clock.tick(1_000);
      await waiting;
      assert.equal(confirmations.size, 1);
    });
  });
});
