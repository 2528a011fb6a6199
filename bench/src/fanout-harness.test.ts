import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { availableMemoryBytes, describeFailures, failureKind, runConcurrently, threadsOf } from './fanout-harness';

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
