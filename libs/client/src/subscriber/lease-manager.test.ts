import assert from 'node:assert/strict';
import { fakeTimers } from '../testing/fake-timers';
import { LeaseManager } from './lease-manager';

describe('LeaseManager', () => {
  function setup(options: { deadlineSeconds?: number; maxExtensionMillis?: number; random?: () => number } = {}) {
    const { clock, timers } = fakeTimers();
    const extensions: Array<{ at: number; ackIds: string[]; seconds: number }> = [];
    const leases = new LeaseManager(
      { deadlineSeconds: options.deadlineSeconds ?? 10, maxExtensionMillis: options.maxExtensionMillis ?? 60_000 },
      (ackIds, seconds) => extensions.push({ at: clock.now - 1_000_000, ackIds, seconds }),
      timers,
      options.random ?? (() => 0.5),
    );
    return { clock, leases, extensions };
  }

  it('extends held messages before their deadline, again and again, with the stream deadline', () => {
    const { clock, leases, extensions } = setup({ deadlineSeconds: 10 });
    leases.add('a', 1);
    leases.add('b', 1);
    leases.start();
    clock.tick(30_000);
    // random 0.5: every 60 % of the 10 s deadline.
    assert.deepEqual(
      extensions.map((e) => e.at),
      [6_000, 12_000, 18_000, 24_000, 30_000],
    );
    assert.deepEqual(extensions[0], { at: 6_000, ackIds: ['a', 'b'], seconds: 10 });
  });

  it('jitters the extension between 40 % and 80 % of the deadline', () => {
    const low = setup({ deadlineSeconds: 10, random: () => 0 });
    const high = setup({ deadlineSeconds: 10, random: () => 0.999_999 });
    assert.equal(low.leases.nextExtensionDelayMillis(), 4_000);
    assert.ok(Math.abs(high.leases.nextExtensionDelayMillis() - 8_000) < 1);
    const random = setup({ deadlineSeconds: 10, random: Math.random });
    const delays = Array.from({ length: 200 }, () => random.leases.nextExtensionDelayMillis());
    assert.ok(delays.every((d) => d >= 4_000 && d < 8_000));
    assert.ok(new Set(delays).size > 100, 'not the same delay every time');
  });

  it('stops extending a message after maxExtensionMillis, and settled messages at once', () => {
    const { clock, leases, extensions } = setup({ deadlineSeconds: 10, maxExtensionMillis: 15_000 });
    leases.start();
    leases.add('old', 1);
    clock.tick(5_000);
    leases.add('young', 1);
    leases.add('settled', 1);
    clock.tick(1_000); // 6 s: both
    leases.remove('settled');
    clock.tick(6_000); // 12 s
    clock.tick(6_000); // 18 s: 'old' is 18 s old, past 15 s
    assert.deepEqual(
      extensions.map((e) => e.ackIds),
      [['old', 'young', 'settled'], ['old', 'young'], ['young']],
    );
  });

  it('removeGeneration forgets the messages of a broken stream only', () => {
    const { leases } = setup();
    leases.add('a', 1);
    leases.add('b', 2);
    leases.removeGeneration(1);
    assert.equal(leases.size, 1);
    assert.ok(leases.has('b'));
  });

  it('waitUntilEmpty resolves when the last message is settled, or at the timeout', async () => {
    const { clock, leases } = setup();
    leases.add('a', 1);
    let done = false;
    const waiting = leases.waitUntilEmpty(10_000).then(() => (done = true));
    await clock.tickAsync(5_000);
    assert.equal(done, false);
    leases.remove('a');
    await waiting;
    leases.add('b', 1);
    let timedOut = false;
    const timing = leases.waitUntilEmpty(10_000).then(() => (timedOut = true));
    await clock.tickAsync(9_999);
    assert.equal(timedOut, false);
    await clock.tickAsync(1);
    await timing;
    assert.equal(leases.size, 1, 'a timeout leaves the message held');
  });

  it('does nothing once stopped, and never starts with extension turned off', () => {
    const stopped = setup();
    stopped.leases.add('a', 1);
    stopped.leases.start();
    stopped.leases.stop();
    stopped.clock.tick(60_000);
    assert.equal(stopped.extensions.length, 0);
    const off = setup({ maxExtensionMillis: 0 });
    off.leases.add('a', 1);
    off.leases.start();
    off.clock.tick(60_000);
    assert.equal(off.extensions.length, 0);
  });
});
