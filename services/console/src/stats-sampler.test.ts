import assert from 'node:assert/strict';
import { SubscriptionStats } from '@herald/api';
import { StatsSampler } from './stats-sampler';

describe('console stats sampler', () => {
  it('reads every watched subscription in one call, keeps a bounded window, and says why a read failed', async () => {
    let now = 1_000_000;
    const calls: string[][] = [];
    let failWith: Error | undefined = undefined;
    const sampler = new StatsSampler({
      intervalMillis: 2_000,
      keep: 3,
      now: () => now,
      read: async (names) => {
        calls.push(names);
        if (failWith) throw failWith;
        return names
          .filter((name) => name !== 'gone')
          .map((name) =>
            SubscriptionStats.fromPartial({
              subscription: name,
              numUndeliveredMessages: String(now / 1000),
              oldestUnackedMessageAge: { seconds: '2', nanos: 500_000_000 },
            }),
          );
      },
    });
    const first = await sampler.history('a');
    assert.equal(first.samples.length, 1);
    assert.equal(first.samples[0]!.backlog, 1000);
    assert.equal(first.samples[0]!.oldestUnackedAgeMillis, 2500);
    await sampler.history('b');
    assert.deepEqual(calls.at(-1), ['a', 'b']);
    for (let i = 0; i < 5; i++) {
      now += 2_000;
      await sampler.sampleAll();
    }
    assert.deepEqual(
      (await sampler.history('a')).samples.map((s) => s.backlog),
      [1006, 1008, 1010],
    );
    const gone = await sampler.history('gone');
    assert.match(gone.error ?? '', /NOT_FOUND/);
    failWith = Object.assign(new Error('x'), { details: 'no instance serves it' });
    now += 2_000;
    assert.equal((await sampler.history('a')).error, 'no instance serves it');
  });

  it('stops reading a subscription nobody asked about for a while', async () => {
    let now = 0;
    const calls: string[][] = [];
    const sampler = new StatsSampler({
      intervalMillis: 1_000,
      idleMillis: 10_000,
      now: () => now,
      read: async (names) => {
        calls.push(names);
        return [];
      },
    });
    await sampler.history('old');
    now = 20_000;
    await sampler.history('new');
    assert.deepEqual(calls.at(-1), ['new']);
  });
});
