import assert from 'node:assert/strict';
import { benchPlan } from './bench-plan';
import { renderChart } from './chart';
import {
  cpuMicrosPerDelivery,
  fanoutScaleSummary,
  fanoutScaleTables,
  fanoutSummary,
  fanoutTable,
  idleCpuShare,
  heapKilobytesPerSubscription,
  kilobytesPerSubscription,
} from './fanout-report';
import type { BenchReport } from './report';
import { renderMarkdown } from './report';
import type { FanoutPhase, FanoutRow, FanoutScaleRow } from './scenario';

const machine = { cores: 2, busyShare: 0.5, otherShare: 0.05 };

function phase(seconds: number, cpu: number, connections: number, fetches: number): FanoutPhase {
  return {
    seconds,
    dispatcherCpuSeconds: cpu,
    dispatcherRssBytes: 100 * 2 ** 20,
    dispatcherPeakRssBytes: 120 * 2 ** 20,
    kafkaConnections: connections,
    brokerFetchesPerSecond: fetches,
    processes: [],
    machine,
  };
}

function latency(p99: number) {
  return { count: 40_000, p50Millis: 3, p99Millis: p99, p999Millis: p99 * 2, maxMillis: p99 * 3 };
}

function row(n: number, idleCpu: number, loadedCpu: number, connections: number, p99: number): FanoutRow {
  return {
    subscriptions: n,
    created: n,
    attached: n,
    messageBytes: 1024,
    publishRate: 2000 / n,
    createSeconds: 1,
    attachSeconds: 1,
    idle: phase(10, idleCpu, connections, 2),
    loaded: {
      ...phase(20, loadedCpu, connections, 40),
      published: (2000 / n) * 20,
      deliveries: 40_000,
      expectedDeliveries: 40_000,
      latency: latency(p99),
    },
    notes: [],
  };
}

const targets = benchPlan('full').fanout.targets;

describe('fan-out figures', () => {
  it('works out idle CPU as a share of a core, and CPU per delivery in µs', () => {
    const measured = row(10, 0.2, 4, 3, 10);
    assert.equal(idleCpuShare(measured), 0.02);
    assert.equal(cpuMicrosPerDelivery(measured), 100);
    assert.equal(idleCpuShare({ ...measured, idle: undefined }), undefined);
  });

  it('says each target of the issue is met when the largest N is within them', () => {
    const lines = fanoutSummary([row(10, 0.1, 4, 3, 10), row(1000, 0.3, 5, 3, 30)], targets);
    assert.equal(lines.length, 4);
    assert.ok(
      lines.every((line) => line.endsWith(': met')),
      lines.join('\n'),
    );
  });

  it('says which targets are missed: idle CPU, CPU growth, connections growing, p99', () => {
    const lines = fanoutSummary([row(10, 0.1, 4, 3, 10), row(1000, 2, 8, 2000, 900)], targets);
    assert.equal(lines.filter((line) => line.endsWith('**missed**')).length, 4, lines.join('\n'));
    assert.match(lines[0]!, /20\.0% of a core/);
    assert.match(lines[1]!, /2\.00×/);
    assert.match(lines[2]!, /3 → 2000/);
  });

  it('takes a connection or two more at the largest N for no growth, and a quarter more plus three for growth', () => {
    const steady = fanoutSummary([row(10, 0.1, 4, 16, 10), row(1000, 0.1, 4, 17, 10)], targets);
    assert.match(steady[2]!, /16 → 17 .*: met$/);
    const growing = fanoutSummary([row(10, 0.1, 4, 16, 10), row(1000, 0.1, 4, 23, 10)], targets);
    assert.match(growing[2]!, /16 → 23 .*\*\*missed\*\*$/);
  });

  it('says which N had no loaded phase, and names a largest N with fewer attached', () => {
    const partial = { ...row(1000, 0.1, 4, 3, 10), attached: 120 };
    const lines = fanoutSummary(
      [row(10, 0.1, 4, 3, 10), partial, { ...row(5000, 0, 0, 0, 0), loaded: undefined }],
      targets,
    );
    assert.match(lines[0]!, /no loaded phase at N = 5,000/);
    assert.match(lines[1]!, /N = 1,000 \(only 120 attached\)/);
  });

  it('sets the p99 beside the grpc-js floor of the same run when it was measured', () => {
    const floor = { deliveries: 40_000, expectedDeliveries: 40_000, latency: { ...latency(40), maxMillis: 60 } };
    const lines = fanoutSummary([row(10, 0.1, 4, 3, 10), { ...row(1000, 0.3, 5, 3, 100), floor }], targets);
    assert.match(
      lines[3]!,
      /p99 at N = 1,000: 100\.0 ms \(.*bare grpc-js server.*: 40\.0 ms; Herald 2\.50× that floor\); .*\*\*missed\*\*$/,
    );
    const table = fanoutTable([{ ...row(1000, 0.3, 5, 3, 100), floor }]);
    assert.match(table[2]!, /\| 3\.0 \/ 100\.0 \/ 300\.0 \| 3\.0 \/ 40\.0 \/ 60\.0 \|/);
    assert.match(fanoutTable([row(1000, 0.3, 5, 3, 100)])[2]!, /\| 3\.0 \/ 100\.0 \/ 300\.0 \| – \|/);
  });

  it('has one table line per N', () => {
    const table = fanoutTable([row(10, 0.1, 4, 3, 10), row(100, 0.2, 4, 3, 10)]);
    assert.equal(table.length, 4);
    assert.match(table[2]!, /^\| 10 \| 10 of 10 \|/);
  });
});

describe('fan-out scale figures', () => {
  const dispatcher = {
    role: 'dispatcher-1',
    pid: 1,
    streams: 100,
    attached: 100,
    rssBeforeBytes: 100 * 2 ** 20,
    rssAfterBytes: 100 * 2 ** 20 + 100 * 10 * 1024,
    rssIdleBytes: 100 * 2 ** 20 + 100 * 6 * 1024,
    kafkaConnections: 3,
    threads: 20,
    running: true,
  };
  const scale: FanoutScaleRow = {
    subscriptions: 300,
    created: 300,
    createSeconds: 2,
    openStreams: 300,
    attached: 300,
    attachSeconds: 3,
    delivered: 300,
    deliverTarget: 300,
    deliverSeconds: 0.2,
    dispatchers: [dispatcher, { ...dispatcher, role: 'dispatcher-2', attached: 0 }],
    notes: [],
  };

  it('divides the RSS growth by the subscriptions attached on each dispatcher, as attached and once idle', () => {
    assert.equal(kilobytesPerSubscription(dispatcher, 'attached'), 10);
    assert.equal(kilobytesPerSubscription(dispatcher), 6);
    assert.equal(kilobytesPerSubscription({ ...dispatcher, attached: 0 }), undefined);
    assert.equal(kilobytesPerSubscription({ ...dispatcher, rssIdleBytes: undefined }), undefined, 'not measured idle');
  });

  it('divides the V8 heap growth the same way, when the dispatcher answered both times', () => {
    const heaps = {
      heapBefore: { totalBytes: 50 * 2 ** 20, usedBytes: 30 * 2 ** 20 },
      heapAfter: { totalBytes: 50 * 2 ** 20 + 100 * 8 * 1024, usedBytes: 30 * 2 ** 20 + 100 * 3 * 1024 },
      heapIdle: { totalBytes: 50 * 2 ** 20 + 100 * 4 * 1024, usedBytes: 30 * 2 ** 20 + 100 * 2 * 1024 },
    };
    assert.deepEqual(heapKilobytesPerSubscription({ ...dispatcher, ...heaps }, 'attached'), { total: 8, used: 3 });
    assert.deepEqual(heapKilobytesPerSubscription({ ...dispatcher, ...heaps }), { total: 4, used: 2 });
    assert.equal(
      heapKilobytesPerSubscription({ ...dispatcher, ...heaps, heapAfter: undefined }, 'attached'),
      undefined,
    );
    assert.equal(heapKilobytesPerSubscription(dispatcher), undefined);
  });

  it('says whether every subscription got the message and memory stayed under the target', () => {
    const lines = fanoutScaleSummary(scale, targets);
    assert.match(lines[0]!, /the message reached 300 of them.*: met$/);
    assert.match(lines[1]!, /memory per idle subscription: 6\.0 KB .*; 10\.0 KB as the attach phase ended\).*: met$/);
    const short = fanoutScaleSummary({ ...scale, attached: 120, delivered: 120 }, targets);
    assert.match(short[0]!, /\*\*missed\*\*$/);
    const stopped = fanoutScaleSummary({ ...scale, attached: 0, delivered: 0, deliverTarget: 0 }, targets);
    assert.match(stopped[0]!, /0 of 300 subscriptions attached .* no message was published to them .*\*\*missed\*\*$/);
  });

  it('renders both scenarios into the report and the chart', () => {
    const report: BenchReport = {
      startedAt: '2026-12-02T00:00:00Z',
      durationSeconds: 1,
      plan: benchPlan('quick'),
      setting: [],
      scenarios: [
        {
          name: 'fanout',
          description: 'd',
          result: { kind: 'fanout', rows: [row(10, 0.1, 4, 3, 10)], notes: ['n'], backgroundFetchesPerSecond: 2 },
        },
        { name: 'fanout-scale', description: 'd', result: { kind: 'fanout-scale', rows: [scale] } },
      ],
    };
    const markdown = renderMarkdown(report);
    assert.match(markdown, /^## fanout$/m);
    assert.match(markdown, /^\| dispatcher-1 \| 100 \| 100 \| 100 \/ 101 \/ 101 \| 10\.0 \/ 6\.0 \|/m);
    assert.match(markdown, /other clients\): 2\.0/);
    assert.equal(fanoutScaleTables(scale).filter((line) => line.startsWith('| dispatcher-')).length, 2);
    const chart = renderChart(report);
    assert.match(chart, /idle dispatcher CPU, % of a core/);
    assert.match(chart, /dispatcher-1 KB per idle subscription/);
  });
});
