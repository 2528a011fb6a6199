import type { FanoutTargets } from './bench-plan';
import type { LatencySummary } from './latency-histogram';
import type { FanoutRow, FanoutScaleDispatcher, FanoutScaleRow } from './scenario';

/** Idle dispatcher CPU as a share of one core. */
export function idleCpuShare(row: FanoutRow): number | undefined {
  return row.idle && row.idle.seconds > 0 ? row.idle.dispatcherCpuSeconds / row.idle.seconds : undefined;
}

/** Dispatcher CPU per delivery in the loaded phase, µs. */
export function cpuMicrosPerDelivery(row: FanoutRow): number | undefined {
  return row.loaded && row.loaded.deliveries > 0
    ? (row.loaded.dispatcherCpuSeconds * 1e6) / row.loaded.deliveries
    : undefined;
}

/** Deliveries per second over the loaded phase. */
export function deliveriesPerSecond(row: FanoutRow): number | undefined {
  return row.loaded && row.loaded.seconds > 0 ? row.loaded.deliveries / row.loaded.seconds : undefined;
}

/** When a dispatcher's memory was read: as the attach phase ended, or after the idle wait. */
export type MemoryMoment = 'attached' | 'idle';

/** KB of resident memory per attached subscription at `moment`; undefined without that reading or none attached. */
export function kilobytesPerSubscription(
  dispatcher: FanoutScaleDispatcher,
  moment: MemoryMoment = 'idle',
): number | undefined {
  const after = moment === 'idle' ? dispatcher.rssIdleBytes : dispatcher.rssAfterBytes;
  if (dispatcher.attached === 0 || !after) return undefined;
  return (after - dispatcher.rssBeforeBytes) / 1024 / dispatcher.attached;
}

/** KB per attached subscription by which its V8 heap grew (total, used) by `moment`; undefined without both readings. */
export function heapKilobytesPerSubscription(
  dispatcher: FanoutScaleDispatcher,
  moment: MemoryMoment = 'idle',
): { total: number; used: number } | undefined {
  const { heapBefore: before, attached } = dispatcher;
  const after = moment === 'idle' ? dispatcher.heapIdle : dispatcher.heapAfter;
  if (!before || !after || attached === 0) return undefined;
  return {
    total: (after.totalBytes - before.totalBytes) / 1024 / attached,
    used: (after.usedBytes - before.usedBytes) / 1024 / attached,
  };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
const fixed = (value: number | undefined, digits: number) => (value === undefined ? '–' : value.toFixed(digits));
const count = (value: number | undefined) => (value === undefined ? '–' : Math.round(value).toLocaleString('en-US'));

/** The table of `fanout`: one line per N. */
export function fanoutTable(rows: FanoutRow[]): string[] {
  const header = [
    'subscriptions',
    'attached',
    'attach s',
    'publish msg/s',
    'deliveries/s',
    'idle CPU % of a core',
    'CPU µs/delivery',
    'Kafka connections idle / loaded',
    'broker fetch/s idle / loaded',
    'RSS MB idle / loaded peak',
    'latency p50 / p99 / max (ms)',
    'grpc-js floor p50 / p99 / max (ms)',
    'other load %',
  ];
  const body = rows.map((row) => {
    const share = idleCpuShare(row);
    return [
      row.subscriptions.toLocaleString('en-US'),
      `${row.attached.toLocaleString('en-US')} of ${row.created.toLocaleString('en-US')}`,
      row.attachSeconds.toFixed(1),
      row.publishRate >= 10 ? count(row.publishRate) : row.publishRate.toFixed(1),
      count(deliveriesPerSecond(row)),
      share === undefined ? '–' : (share * 100).toFixed(1),
      fixed(cpuMicrosPerDelivery(row), 1),
      `${count(row.idle?.kafkaConnections)} / ${count(row.loaded?.kafkaConnections)}`,
      `${fixed(row.idle?.brokerFetchesPerSecond, 1)} / ${fixed(row.loaded?.brokerFetchesPerSecond, 1)}`,
      `${row.idle ? mb(row.idle.dispatcherRssBytes) : '–'} / ${row.loaded ? mb(row.loaded.dispatcherPeakRssBytes) : '–'}`,
      latencyCell(row.loaded?.latency),
      latencyCell(row.floor?.latency),
      row.loaded ? (row.loaded.machine.otherShare * 100).toFixed(0) : '–',
    ];
  });
  return markdownTable(header, body);
}

/** The table of `fanout-scale`: the run's counts and times, then one line per dispatcher. */
export function fanoutScaleTables(row: FanoutScaleRow): string[] {
  const overview = markdownTable(
    ['subscriptions', 'created (s)', 'attached (s)', 'streams open', 'message delivered to (s)'],
    [
      [
        row.subscriptions.toLocaleString('en-US'),
        `${row.created.toLocaleString('en-US')} (${row.createSeconds.toFixed(1)})`,
        `${row.attached.toLocaleString('en-US')} (${row.attachSeconds.toFixed(1)})`,
        row.openStreams.toLocaleString('en-US'),
        row.deliverTarget > 0 || row.delivered > 0
          ? `${row.delivered.toLocaleString('en-US')} of ${row.deliverTarget.toLocaleString('en-US')} (${row.deliverSeconds.toFixed(1)})`
          : '–',
      ],
    ],
  );
  const perDispatcher = markdownTable(
    [
      'dispatcher',
      'streams',
      'attached',
      'RSS MB before / attached / idle',
      'KB per subscription attached / idle',
      'V8 heap KB per subscription attached: total / used',
      'idle: total / used',
      'Kafka connections',
      'threads',
      'running',
    ],
    row.dispatchers.map((d) => [
      d.role,
      d.streams.toLocaleString('en-US'),
      d.attached.toLocaleString('en-US'),
      `${mb(d.rssBeforeBytes)} / ${mb(d.rssAfterBytes)} / ${d.rssIdleBytes ? mb(d.rssIdleBytes) : '–'}`,
      `${fixed(kilobytesPerSubscription(d, 'attached'), 1)} / ${fixed(kilobytesPerSubscription(d, 'idle'), 1)}`,
      heapCell(heapKilobytesPerSubscription(d, 'attached')),
      heapCell(heapKilobytesPerSubscription(d, 'idle')),
      count(d.kafkaConnections),
      d.threads.toLocaleString('en-US'),
      d.running ? 'yes' : '**no**',
    ]),
  );
  return [...overview, '', ...perDispatcher];
}

/** p50 / p99 / max; a percentile of an HDR histogram can read above the exact max, so none is shown above it. */
const latencyCell = (latency: LatencySummary | undefined) =>
  latency
    ? [latency.p50Millis, latency.p99Millis, latency.maxMillis]
        .map((v) => Math.min(v, latency.maxMillis).toFixed(1))
        .join(' / ')
    : '–';

const heapCell = (heap: { total: number; used: number } | undefined) =>
  heap ? `${heap.total.toFixed(1)} / ${heap.used.toFixed(1)}` : '–';

const verdict = (met: boolean) => (met ? 'met' : '**missed**');

/**
 * How far the connection count may move and still count as "not growing with
 * N": a client opens a connection to another broker when a coordinator or a
 * leader moves, which is no growth with N.
 */
const connectionSlack = { share: 0.25, count: 2 };

/** Summary lines of `fanout`: each target of the issue, at the largest N measured (against the smallest). */
export function fanoutSummary(rows: FanoutRow[], targets: FanoutTargets): string[] {
  const measured = rows.filter((row) => row.loaded && row.idle);
  const smallest = measured[0];
  const largest = measured[measured.length - 1];
  const lines: string[] = [];
  const missingN = rows.filter((row) => !row.loaded).map((row) => row.subscriptions.toLocaleString('en-US'));
  if (missingN.length > 0) lines.push(`- \`fanout\`: no loaded phase at N = ${missingN.join(', ')} (see its notes)`);
  if (!smallest || !largest) return lines;
  const n =
    `N = ${largest.subscriptions.toLocaleString('en-US')}` +
    (largest.attached < largest.subscriptions ? ` (only ${largest.attached.toLocaleString('en-US')} attached)` : '');
  const idle = idleCpuShare(largest)!;
  lines.push(
    `- \`fanout\` idle dispatcher CPU at ${n}: ${(idle * 100).toFixed(1)}% of a core; target < ` +
      `${targets.idleCpuShare * 100}%: ${verdict(idle < targets.idleCpuShare)}`,
  );
  const small = cpuMicrosPerDelivery(smallest);
  const large = cpuMicrosPerDelivery(largest);
  if (small !== undefined && large !== undefined && largest !== smallest) {
    lines.push(
      `- \`fanout\` dispatcher CPU per delivery: ${small.toFixed(1)} µs at N = ${smallest.subscriptions}, ` +
        `${large.toFixed(1)} µs at ${n} (${(large / small).toFixed(2)}×); target ≤ ${targets.cpuPerDeliveryGrowth}×: ` +
        verdict(large <= targets.cpuPerDeliveryGrowth * small),
    );
  }
  const connections = (row: FanoutRow) => Math.max(row.idle?.kafkaConnections ?? 0, row.loaded?.kafkaConnections ?? 0);
  if (largest !== smallest) {
    lines.push(
      `- \`fanout\` Kafka connections of the dispatcher: ${measured.map((r) => connections(r)).join(' → ')} ` +
        `(N = ${measured.map((r) => r.subscriptions).join(', ')}); target: not growing with N (at most ` +
        `${connectionSlack.share * 100}% + ${connectionSlack.count} over the smallest N's): ` +
        verdict(connections(largest) <= connections(smallest) * (1 + connectionSlack.share) + connectionSlack.count),
    );
  }
  const p99 = largest.loaded!.latency.p99Millis;
  const floor = largest.floor?.latency.p99Millis;
  lines.push(
    `- \`fanout\` publish-to-delivery p99 at ${n}: ${p99.toFixed(1)} ms` +
      (floor === undefined
        ? ''
        : ` (the same streams from a bare grpc-js server, no Kafka and no Herald, in this run: ${floor.toFixed(1)} ms; ` +
          `Herald ${(p99 / floor).toFixed(2)}× that floor)`) +
      `; target < ${targets.p99Millis} ms: ${verdict(p99 < targets.p99Millis)}`,
  );
  return lines;
}

/** Summary lines of `fanout-scale`: how many received the message, and memory per idle subscription. */
export function fanoutScaleSummary(row: FanoutScaleRow, targets: FanoutTargets): string[] {
  const perSubscription = row.dispatchers.map((d) => kilobytesPerSubscription(d)).filter((v) => v !== undefined);
  const atAttach = row.dispatchers.map((d) => kilobytesPerSubscription(d, 'attached')).filter((v) => v !== undefined);
  const delivery =
    row.deliverTarget > 0
      ? `the message reached ${row.delivered.toLocaleString('en-US')} of them in ${row.deliverSeconds.toFixed(1)} s`
      : 'no message was published to them (see the notes)';
  const lines = [
    `- \`fanout-scale\`: ${row.attached.toLocaleString('en-US')} of ${row.subscriptions.toLocaleString('en-US')} ` +
      `subscriptions attached in ${row.attachSeconds.toFixed(1)} s, ${delivery}; target: every one: ` +
      verdict(row.delivered === row.subscriptions),
  ];
  if (perSubscription.length > 0) {
    const worst = Math.max(...perSubscription);
    lines.push(
      `- \`fanout-scale\` memory per idle subscription: ${perSubscription.map((v) => v.toFixed(1)).join(', ')} KB ` +
        `(per dispatcher, over the ${row.attached.toLocaleString('en-US')} attached; ` +
        `${atAttach.map((v) => v.toFixed(1)).join(', ')} KB as the attach phase ended); target < ` +
        `${targets.kilobytesPerIdleSubscription} KB: ${verdict(worst < targets.kilobytesPerIdleSubscription)}`,
    );
  }
  return lines;
}

function markdownTable(header: string[], body: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...body.map((row) => `| ${row.join(' | ')} |`),
  ];
}
