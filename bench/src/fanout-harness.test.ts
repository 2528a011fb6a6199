import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { status } from '@grpc/grpc-js';
import { StampedPayloads } from './stamped-payloads';
import { FanoutDeliveries } from './fanout-deliveries';
import {
  attach,
  attachWave,
  freeze,
  availableMemoryBytes,
  describeFailures,
  failureKind,
  machineThreads,
  openInWaves,
  rssOf,
  runConcurrently,
  threadLimit,
  threadsOf,
} from './fanout-harness';

describe('runConcurrently', () => {
  it('calls every item, never more than `concurrency` at once, and counts failures by kind', async () => {
    let running = 0;
    let most = 0;
    const outcome = await runConcurrently(
      Array.from({ length: 20 }, (_, i) => `s${i}`),
      4,
      10_000,
      async (item) => {
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
        if (item.endsWith('7')) throw Object.assign(new Error('no room'), { code: status.RESOURCE_EXHAUSTED });
      },
    );
    assert.equal(most, 4);
    assert.equal(outcome.done.length, 18);
    assert.deepEqual([...outcome.failures], [['RESOURCE_EXHAUSTED: no room', 2]]);
    assert.deepEqual(outcome.failed.sort(), ['s17', 's7']);
    assert.equal(outcome.notTried, 0);
  });

  it('starts no call after the timeout and says how many were not tried', async () => {
    const outcome = await runConcurrently(
      Array.from({ length: 100 }, (_, i) => `s${i}`),
      2,
      30,
      () => new Promise((resolve) => setTimeout(resolve, 10)),
    );
    assert.ok(outcome.done.length > 0 && outcome.done.length < 100, `${outcome.done.length} done`);
    assert.equal(outcome.done.length + outcome.notTried, 100);
  });
});

describe('failureKind', () => {
  it('groups deadline failures that differ only by the timings and address grpc-js appends', () => {
    const first = Object.assign(
      new Error(
        'Deadline exceeded after 20.003s,metadata filters: 0.001s,LB pick: 0.001s,remote_addr=127.0.0.1:43831 ' +
          '(subscriber-registry, gave up after 1 attempt in 20.0 s)',
      ),
      { code: status.DEADLINE_EXCEEDED },
    );
    const second = Object.assign(new Error('Deadline exceeded after 19.997s,remote_addr=127.0.0.1:43831 (...)'), {
      code: status.DEADLINE_EXCEEDED,
    });
    assert.equal(failureKind(first), 'DEADLINE_EXCEEDED: Deadline exceeded');
    assert.equal(failureKind(second), failureKind(first));
    assert.equal(failureKind(new Error('plain')), 'plain');
  });

  it('lists failures most frequent first', () => {
    assert.equal(
      describeFailures(
        new Map([
          ['a', 1],
          ['b', 3],
        ]),
      ),
      '3 × b; 1 × a',
    );
  });
});

describe('availableMemoryBytes and threadsOf', () => {
  it('reads MemAvailable from a meminfo text, and this machine has some', () => {
    assert.equal(availableMemoryBytes('MemTotal: 100 kB\nMemAvailable:    2048 kB\n'), 2048 * 1024);
    assert.equal(availableMemoryBytes('MemTotal: 100 kB\n'), Number.POSITIVE_INFINITY);
    assert.ok(availableMemoryBytes() > 0);
  });

  it('counts the threads of a live process, 0 for none', () => {
    assert.ok(threadsOf(process.pid) >= 1);
    assert.equal(threadsOf(2 ** 22 + 1), 0);
  });
});

describe('machineThreads and threadLimit', () => {
  it("reads the machine's task count from /proc/loadavg's running/total field", () => {
    assert.equal(machineThreads('0.52 0.58 0.59 3/1234 56789\n'), 1234);
    assert.equal(machineThreads('garbage'), 0);
    assert.ok(machineThreads() > 1);
  });

  it('gives a positive kernel thread limit and the resident memory of a live process', () => {
    assert.ok(threadLimit() > 1_000);
    assert.ok(rssOf(process.pid) > 1024 * 1024);
    assert.equal(rssOf(2 ** 22 + 1), 0);
  });
});

describe('openInWaves', () => {
  it('opens everything a wave at a time while the guard says nothing', async () => {
    const waves: number[] = [];
    const fleet = {
      opened: 0,
      openNext(count: number) {
        waves.push(count);
        this.opened = Math.min(1_200, this.opened + count);
      },
    };
    assert.equal(await openInWaves(fleet, 1_200, () => undefined), undefined);
    assert.equal(fleet.opened, 1_200);
    assert.deepEqual(waves, [attachWave.streams, attachWave.streams, attachWave.streams]);
  });

  it('stops opening as soon as the guard gives a reason', async () => {
    const fleet = {
      opened: 0,
      openNext(count: number) {
        this.opened += count;
      },
    };
    let looks = 0;
    const why = await openInWaves(fleet, 10 * attachWave.streams, () =>
      ++looks === 2 ? 'too many threads' : undefined,
    );
    assert.equal(why, 'too many threads');
    assert.equal(fleet.opened, 2 * attachWave.streams);
  });
});

describe('attach', () => {
  const payloads = new StampedPayloads(16);
  const fleet = () => ({
    opened: 0,
    open: 0,
    openNext(count: number) {
      this.opened = Math.min(3, this.opened + count);
      this.open = this.opened;
    },
  });

  it('opens every stream, publishes the probe and waits until every subscription received it', async () => {
    const deliveries = new FanoutDeliveries(3);
    const streams = fleet();
    const outcome = await attach({
      fleet: streams,
      subscriptions: 3,
      deliveries,
      probe: 0,
      publishProbe: async () => {
        for (const subscription of [0, 1, 2]) {
          setTimeout(() => deliveries.record(subscription, payloads.make(0, 0n), 1n), 10 * subscription);
        }
      },
      pids: [],
      alive: () => true,
      timeoutMillis: 5_000,
    });
    assert.equal(streams.opened, 3);
    assert.deepEqual({ ...outcome, seconds: 0 }, { seconds: 0, attached: 3, complete: true });
  });

  it('reports what attached when the time runs out, and a probe it could not publish', async () => {
    const deliveries = new FanoutDeliveries(3);
    const partial = await attach({
      fleet: fleet(),
      subscriptions: 3,
      deliveries,
      probe: 0,
      publishProbe: async () => deliveries.record(1, payloads.make(0, 0n), 1n),
      pids: [],
      alive: () => true,
      timeoutMillis: 100,
    });
    assert.equal(partial.attached, 1);
    assert.equal(partial.complete, false);
    assert.ok(partial.seconds >= 0.1);
    const unpublished = await attach({
      fleet: fleet(),
      subscriptions: 3,
      deliveries: new FanoutDeliveries(3),
      probe: 0,
      publishProbe: () => Promise.reject(Object.assign(new Error('no publisher'), { code: status.UNAVAILABLE })),
      pids: [],
      alive: () => true,
      timeoutMillis: 5_000,
    });
    assert.equal(unpublished.publishFailure, 'UNAVAILABLE: no publisher');
    assert.equal(unpublished.complete, false);
  });

  it('stops waiting once the dispatchers are gone', async () => {
    const started = Date.now();
    const outcome = await attach({
      fleet: fleet(),
      subscriptions: 3,
      deliveries: new FanoutDeliveries(3),
      probe: 0,
      publishProbe: async () => undefined,
      pids: [],
      alive: () => false,
      timeoutMillis: 10_000,
    });
    assert.equal(outcome.attached, 0);
    assert.ok(Date.now() - started < 2_000);
  });
});

describe('freeze', () => {
  it('stops a process at once (state T), and passes over one that is gone', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      freeze([child.pid!, 2 ** 22 + 1]);
      const state = () => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      const deadline = Date.now() + 2_000;
      while (state() !== 'T' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(state(), 'T');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
