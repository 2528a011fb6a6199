import { cpuMicrosPerDelivery, idleCpuShare, kilobytesPerSubscription } from './fanout-report';
import { formatSize } from './payloads';
import { type BenchReport, type ScenarioOutcome, rowLabel } from './report';
import type { FanoutRow, ThroughputRow } from './scenario';

/** Scenarios whose latency is publish to delivery, drawn in the latency panel. */
const deliveryLatencyScenarios = [
  'raw-kafkajs-end-to-end',
  'raw-librdkafka-end-to-end',
  'herald-end-to-end',
  'latency-at-fixed-rates',
];

/**
 * The throughput panel's groups, each with its own scale: what a producer
 * alone, a whole pipeline and a consumer alone reach differ by orders of
 * magnitude, and ratios make sense within a group. Rows at fixed rates
 * (`latency-at-fixed-rates`, and the `N msg/s` row of `raw-librdkafka-end-to-end`)
 * are in none: their rates are set by their schedule.
 */
const throughputGroups: Array<{ title: string; rows: (scenario: string, variant: string) => boolean }> = [
  {
    title: 'publish / produce',
    rows: (scenario) =>
      [
        'raw-kafkajs-produce',
        'raw-librdkafka-produce',
        'raw-platformatic-produce',
        'herald-publish',
        'kafka-perf-producer',
      ].includes(scenario),
  },
  {
    title: 'end to end',
    rows: (scenario, variant) =>
      (['raw-kafkajs-end-to-end', 'raw-librdkafka-end-to-end'].includes(scenario) && variant === '') ||
      scenario === 'herald-end-to-end',
  },
  {
    title: 'consume alone',
    rows: (scenario, variant) =>
      (scenario === 'raw-kafkajs-end-to-end' && variant !== '') || scenario === 'kafka-perf-consumer',
  },
];

const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#9c755f', '#bab0ac'];

const width = 980;
const labelWidth = 330;
const plotLeft = labelWidth + 10;
const plotWidth = width - plotLeft - 90;
const rowHeight = 18;
const font = 'font-family="Helvetica, Arial, sans-serif"';

interface Bar {
  label: string;
  scenario: string;
  value: number;
  /** The value as written beside the bar. @defaultValue rounded, with thousands separators */
  text?: string;
}

interface LatencyLine {
  label: string;
  scenario: string;
  /** p50, p99, p99.9, max in ms. */
  points: [number, number, number, number];
}

/**
 * The run as one SVG, written as text: throughput as horizontal bars, one
 * block per message size (each with its own linear scale), then the
 * publish-to-delivery latency percentiles of the end-to-end scenarios on a
 * log scale. Colours stand for scenarios.
 */
export function renderChart(report: BenchReport): string {
  const colours = new Map(report.scenarios.map((s, i) => [s.name, palette[i % palette.length]!]));
  const body: string[] = [];
  let y = 30;
  body.push(
    text(12, y, `Herald benchmark ${report.startedAt} (${report.plan.mode})`, 'font-size="16" font-weight="bold"'),
  );
  y += 28;
  // A run of only scenarios without throughput rows (`--only fanout`) gets no empty throughput heading.
  const anyThroughput = sizes(report).some((messageBytes) =>
    throughputGroups.some((group) => throughputBars(report.scenarios, messageBytes, group.rows).length > 0),
  );
  if (anyThroughput) {
    body.push(
      text(12, y, 'Throughput, msg/s (higher is better; each size and group has its own scale)', 'font-size="14"'),
    );
  }
  y += anyThroughput ? 10 : -28;
  for (const messageBytes of sizes(report)) {
    const groups = throughputGroups
      .map((group) => ({ title: group.title, bars: throughputBars(report.scenarios, messageBytes, group.rows) }))
      .filter((group) => group.bars.length > 0);
    if (groups.length === 0) continue;
    y += 22;
    body.push(text(12, y, formatSize(messageBytes), 'font-size="13" font-weight="bold"'));
    for (const group of groups) {
      y += 16;
      body.push(text(24, y, group.title, 'font-size="12" font-style="italic" fill="#555"'));
      y += 2;
      y = drawBars(body, group.bars, colours, y);
    }
  }
  const lines = latencyLines(report.scenarios);
  if (lines.length > 0) {
    y += 34;
    body.push(
      text(12, y, 'Publish-to-delivery latency, ms (log scale; lower is better)', 'font-size="14"'),
      ...legend(plotLeft, y),
    );
    y += 14;
    const values = lines.flatMap((line) => line.points).filter((v) => v > 0);
    const low = Math.pow(10, Math.floor(Math.log10(Math.max(0.01, Math.min(...values)))));
    const high = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, low * 10))));
    const scale = (ms: number) =>
      plotLeft + ((Math.log10(Math.max(ms, low)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * plotWidth;
    const top = y;
    const bottom = y + lines.length * rowHeight;
    for (let decade = low; decade <= high * 1.0001; decade *= 10) {
      const x = scale(decade).toFixed(1);
      body.push(
        `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#ddd"/>`,
        text(Number(x), bottom + 14, formatMillis(decade), 'font-size="11" text-anchor="middle"'),
      );
    }
    for (const line of lines) {
      const [p50, p99, p999, max] = line.points.map(scale) as [number, number, number, number];
      const mid = y + rowHeight / 2;
      const colour = colours.get(line.scenario);
      body.push(
        text(labelWidth, y + 13, line.label, 'font-size="12" text-anchor="end"'),
        `<line x1="${p50.toFixed(1)}" y1="${mid}" x2="${max.toFixed(1)}" y2="${mid}" stroke="${colour}" stroke-width="2"/>`,
        ...markers(p50, p99, p999, max, mid, colour!),
        text(max + 8, y + 13, formatMillis(line.points[3]), 'font-size="11"'),
      );
      y += rowHeight;
    }
    y += 20;
  }
  y = drawFanout(body, report.scenarios, colours, y);
  const height = y + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${font}>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * The fan-out panel: each figure of `fanout` by N (a block of bars each, its
 * own scale), then what `fanout-scale` got. Returns the `y` below it.
 */
function drawFanout(body: string[], scenarios: ScenarioOutcome[], colours: Map<string, string>, top: number): number {
  let y = top;
  const fanout = scenarios.find((s) => s.result?.kind === 'fanout');
  const rows = fanout?.result?.kind === 'fanout' ? fanout.result.rows : [];
  const scale = scenarios.find((s) => s.result?.kind === 'fanout-scale');
  const scaleRows = scale?.result?.kind === 'fanout-scale' ? scale.result.rows : [];
  if (rows.length === 0 && scaleRows.length === 0) return y;
  y += 34;
  body.push(
    text(12, y, 'Fan-out: one dispatcher, N subscriptions with a stream each, same deliveries/s', 'font-size="14"'),
  );
  y += 6;
  const figures: Array<{ title: string; value: (row: FanoutRow) => number | undefined; digits: number }> = [
    { title: 'idle dispatcher CPU, % of a core', value: (r) => percent(idleCpuShare(r)), digits: 1 },
    { title: 'dispatcher CPU per delivery, µs (loaded)', value: cpuMicrosPerDelivery, digits: 1 },
    {
      title: "dispatcher's Kafka connections (highest of idle, loaded)",
      value: (r) =>
        r.idle || r.loaded ? Math.max(r.idle?.kafkaConnections ?? 0, r.loaded?.kafkaConnections ?? 0) : undefined,
      digits: 0,
    },
    { title: 'broker fetch requests/s, idle', value: (r) => r.idle?.brokerFetchesPerSecond, digits: 1 },
    { title: 'broker fetch requests/s, loaded', value: (r) => r.loaded?.brokerFetchesPerSecond, digits: 1 },
    { title: 'dispatcher RSS MB, idle', value: (r) => r.idle && r.idle.dispatcherRssBytes / 2 ** 20, digits: 0 },
    {
      title: 'dispatcher RSS MB, loaded (peak)',
      value: (r) => r.loaded && r.loaded.dispatcherPeakRssBytes / 2 ** 20,
      digits: 0,
    },
    { title: 'publish-to-delivery p50, ms', value: (r) => r.loaded?.latency.p50Millis, digits: 1 },
    { title: 'publish-to-delivery p99, ms', value: (r) => r.loaded?.latency.p99Millis, digits: 1 },
    {
      title: 'the same from a bare grpc-js server (floor, no Kafka, no Herald): p99, ms',
      value: (r) => r.floor?.latency.p99Millis,
      digits: 1,
    },
  ];
  for (const figure of figures) {
    const bars = rows.flatMap((row): Bar[] => {
      const value = figure.value(row);
      return value === undefined
        ? []
        : [
            {
              label:
                `N = ${row.subscriptions.toLocaleString('en-US')}` +
                (row.attached < row.subscriptions ? ` (${row.attached.toLocaleString('en-US')} attached)` : ''),
              scenario: 'fanout',
              value,
              text: value.toLocaleString('en-US', {
                minimumFractionDigits: figure.digits,
                maximumFractionDigits: figure.digits,
              }),
            },
          ];
    });
    if (bars.length === 0) continue;
    y += 16;
    body.push(text(24, y, figure.title, 'font-size="12" font-style="italic" fill="#555"'));
    y += 2;
    y = drawBars(body, bars, colours, y);
  }
  for (const row of scaleRows) {
    y += 16;
    body.push(
      text(
        24,
        y,
        `fanout-scale: ${row.subscriptions.toLocaleString('en-US')} subscriptions over ${row.dispatchers.length} dispatchers`,
        'font-size="12" font-style="italic" fill="#555"',
      ),
    );
    y += 2;
    y = drawBars(
      body,
      [
        { label: 'created', scenario: 'fanout-scale', value: row.created },
        { label: `attached (${row.attachSeconds.toFixed(1)} s)`, scenario: 'fanout-scale', value: row.attached },
        {
          label: `message received (${row.deliverSeconds.toFixed(1)} s)`,
          scenario: 'fanout-scale',
          value: row.delivered,
        },
      ],
      colours,
      y,
    );
    const memory = row.dispatchers.flatMap((d): Bar[] => {
      const kb = kilobytesPerSubscription(d);
      return kb === undefined
        ? []
        : [{ label: `${d.role} KB per idle subscription`, scenario: 'fanout-scale', value: kb, text: kb.toFixed(1) }];
    });
    if (memory.length > 0) y = drawBars(body, memory, colours, y + 4);
  }
  return y;
}

function percent(share: number | undefined): number | undefined {
  return share === undefined ? undefined : share * 100;
}

/** Horizontal bars scaled to the largest of them, from `y` down; returns the `y` below them. */
function drawBars(body: string[], bars: Bar[], colours: Map<string, string>, top: number): number {
  const max = Math.max(...bars.map((bar) => bar.value));
  let y = top;
  for (const bar of bars) {
    const barWidth = max > 0 ? (Math.max(0, bar.value) / max) * plotWidth : 0;
    body.push(
      text(labelWidth, y + 13, bar.label, 'font-size="12" text-anchor="end"'),
      `<rect x="${plotLeft}" y="${y + 2}" width="${barWidth.toFixed(1)}" height="${rowHeight - 4}" ` +
        `fill="${colours.get(bar.scenario)}"/>`,
      text(
        plotLeft + barWidth + 4,
        y + 13,
        bar.text ?? Math.round(bar.value).toLocaleString('en-US'),
        'font-size="11"',
      ),
    );
    y += rowHeight;
  }
  return y;
}

function sizes(report: BenchReport): number[] {
  return [...new Set(report.plan.sizes.map((size) => size.messageBytes))];
}

function throughputRows(outcome: ScenarioOutcome): ThroughputRow[] {
  return outcome.result?.kind === 'throughput' ? outcome.result.rows : [];
}

function throughputBars(
  scenarios: ScenarioOutcome[],
  messageBytes: number,
  inGroup: (scenario: string, variant: string) => boolean,
): Bar[] {
  return scenarios.flatMap((s) =>
    throughputRows(s)
      .filter((row) => row.messageBytes === messageBytes && row.seconds > 0 && inGroup(s.name, row.variant))
      .map((row) => ({
        label: row.variant ? `${s.name} (${row.variant})` : s.name,
        scenario: s.name,
        value: row.messages / row.seconds,
      })),
  );
}

function latencyLines(scenarios: ScenarioOutcome[]): LatencyLine[] {
  return scenarios
    .filter((s) => deliveryLatencyScenarios.includes(s.name))
    .flatMap((s) =>
      throughputRows(s).flatMap((row): LatencyLine[] => {
        const latency = row.latency;
        if (!latency || latency.count === 0) return [];
        const max = latency.maxMillis;
        return [
          {
            label: `${s.name} ${rowLabel(row)}`,
            scenario: s.name,
            points: [latency.p50Millis, latency.p99Millis, latency.p999Millis, max].map((v) => Math.min(v, max)) as [
              number,
              number,
              number,
              number,
            ],
          },
        ];
      }),
    );
}

/** p50 a dot, p99 a square, p99.9 a diamond, max a bar. */
function markers(p50: number, p99: number, p999: number, max: number, y: number, colour: string): string[] {
  return [
    `<circle cx="${p50.toFixed(1)}" cy="${y}" r="4" fill="${colour}"/>`,
    `<rect x="${(p99 - 4).toFixed(1)}" y="${y - 4}" width="8" height="8" fill="white" stroke="${colour}" stroke-width="2"/>`,
    `<path d="M ${p999.toFixed(1)} ${y - 5} l 5 5 l -5 5 l -5 -5 z" fill="${colour}"/>`,
    `<line x1="${max.toFixed(1)}" y1="${y - 6}" x2="${max.toFixed(1)}" y2="${y + 6}" stroke="${colour}" stroke-width="3"/>`,
  ];
}

function legend(x: number, y: number): string[] {
  const entries: Array<[string, (at: number) => string]> = [
    ['p50', (at) => `<circle cx="${at}" cy="${y - 4}" r="4" fill="#555"/>`],
    [
      'p99',
      (at) => `<rect x="${at - 4}" y="${y - 8}" width="8" height="8" fill="white" stroke="#555" stroke-width="2"/>`,
    ],
    ['p99.9', (at) => `<path d="M ${at} ${y - 9} l 5 5 l -5 5 l -5 -5 z" fill="#555"/>`],
    ['max', (at) => `<line x1="${at}" y1="${y - 10}" x2="${at}" y2="${y + 2}" stroke="#555" stroke-width="3"/>`],
  ];
  return entries.flatMap(([label, marker], i) => {
    const at = x + 230 + i * 70;
    return [marker(at), text(at + 9, y, label, 'font-size="11"')];
  });
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y}" ${attributes}>${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function formatMillis(millis: number): string {
  if (millis >= 1000) return `${(millis / 1000).toFixed(millis >= 10_000 ? 0 : 1)} s`;
  return millis >= 10
    ? `${Math.round(millis)} ms`
    : millis >= 1
      ? `${millis.toFixed(1)} ms`
      : `${millis.toFixed(2)} ms`;
}
