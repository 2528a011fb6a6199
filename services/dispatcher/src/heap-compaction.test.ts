import assert from 'node:assert/strict';
import { createLogger } from '@herald/logging';
import { HeapCompaction, type HeapCompactionOptions, type HeapProbes, processHeapProbes } from './heap-compaction';

const MiB = 1024 * 1024;

/** A heap that grows when told and shrinks to its live bytes (plus a little room) when compacted. */
class FakeHeap implements HeapProbes {
  totalBytes = 40 * MiB;
  usedBytes = 30 * MiB;
  liveBytes = 30 * MiB;
  utilization = 0;
  compactions = 0;
  releases = 0;
  clock = 0;

  heap() {
    return { totalBytes: this.totalBytes, usedBytes: this.usedBytes };
  }

  loopUtilization() {
    return this.utilization;
  }

  compact() {
    this.compactions++;
    this.usedBytes = this.liveBytes;
    this.totalBytes = this.liveBytes + 4 * MiB;
  }

  releaseNative() {
    this.releases++;
    return true;
  }

  residentBytes() {
    return this.totalBytes + 50 * MiB;
  }

  now() {
    return this.clock;
  }
}

function compaction(heap: FakeHeap, options: Partial<HeapCompactionOptions> = {}) {
  return new HeapCompaction({
    intervalMillis: 5_000,
    maxLoopUtilization: 0.05,
    minReclaimBytes: 64 * MiB,
    minGrowthFactor: 2,
    minSpacingMillis: 600_000,
    logger: createLogger({ service: 'test', level: 'silent' }),
    probes: heap,
    ...options,
  });
}

/** A compactor that has compacted once, a 400 MiB heap down to its 100 MiB live, at time 0. */
function compactedOnce() {
  const heap = new FakeHeap();
  const compactor = compaction(heap);
  heap.totalBytes = 400 * MiB;
  heap.liveBytes = 100 * MiB;
  assert.equal(compactor.check(), true);
  return { heap, compactor };
}

describe('HeapCompaction', () => {
  it('compacts once an idle heap grew past its size at start by both bounds, and then not again', () => {
    const heap = new FakeHeap();
    const compactor = compaction(heap);
    assert.equal(compactor.check(), false, 'nothing grew');
    heap.totalBytes = 100 * MiB; // 60 MiB more than at start: under the 64 MiB bound
    assert.equal(compactor.check(), false);
    heap.totalBytes = 330 * MiB;
    heap.usedBytes = 250 * MiB;
    heap.liveBytes = 130 * MiB;
    assert.equal(compactor.check(), true);
    assert.equal(heap.totalBytes, 134 * MiB);
    heap.clock = 3_600_000;
    assert.equal(compactor.check(), false, 'compacted already');
  });

  it('lets the process drop what it keeps just before each compaction, and only then', () => {
    const heap = new FakeHeap();
    const seen: number[] = [];
    const compactor = compaction(heap, { beforeCompaction: () => seen.push(heap.compactions) });
    assert.equal(compactor.check(), false);
    assert.deepEqual(seen, [], 'no compaction, nothing dropped');
    heap.totalBytes = 400 * MiB;
    assert.equal(compactor.check(), true);
    assert.deepEqual(seen, [0], 'called once, before the collection');
  });

  it('asks native memory back at the look after each compaction, once', () => {
    const { heap, compactor } = compactedOnce();
    assert.equal(heap.releases, 0, 'not within the compaction: finalizers and the sweeper free it later');
    compactor.check();
    assert.equal(heap.releases, 1);
    compactor.check();
    assert.equal(heap.releases, 1, 'nothing compacted since');
  });

  it('never compacts while the event loop is busy, however large the heap', () => {
    const heap = new FakeHeap();
    const compactor = compaction(heap);
    heap.totalBytes = 1_000 * MiB;
    heap.utilization = 0.2;
    assert.equal(compactor.check(), false);
    heap.utilization = 0.05;
    assert.equal(compactor.check(), true, 'at the bound counts as idle');
  });

  it('measures growth from the size after the last compaction: the young generation growing back is no reason', () => {
    const { heap, compactor } = compactedOnce();
    heap.clock = 600_000; // the spacing is not what holds the next ones back
    heap.totalBytes = 104 * MiB + 48 * MiB; // semi-spaces back at their largest under light traffic
    assert.equal(compactor.check(), false);
    heap.totalBytes = 104 * MiB + 70 * MiB; // past the reclaim bound, not yet twice the size
    assert.equal(compactor.check(), false);
    heap.totalBytes = 210 * MiB;
    assert.equal(compactor.check(), true, 'twice the size and 106 MiB more');
    assert.equal(heap.compactions, 2);
  });

  it('lets the spacing pass before it compacts again, however much the heap grew', () => {
    const { heap, compactor } = compactedOnce();
    heap.totalBytes = 800 * MiB;
    heap.clock = 599_999;
    assert.equal(compactor.check(), false);
    heap.clock = 600_000;
    assert.equal(compactor.check(), true);
  });

  it('compacts this process’s heap for real: what a burst left is given back', () => {
    const probes = processHeapProbes();
    const burst = () => {
      const items: object[] = [];
      for (let i = 0; i < 1_500_000; i++) items.push({ i, text: `item ${i}` });
      return items.length;
    };
    assert.equal(burst(), 1_500_000);
    const grown = probes.heap().totalBytes;
    probes.compact();
    const after = probes.heap();
    assert.ok(after.totalBytes < grown - 50 * MiB, `heap ${grown} -> ${after.totalBytes} bytes`);
    assert.ok(after.usedBytes <= after.totalBytes);
  });
});
