import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchPlan } from './bench-plan';
import { formatSize } from './payloads';
import type { ProcessUsage } from './process-stats';
import type { ScenarioResult, StartupRow, ThroughputRow } from './scenario';

/** The scenario every throughput figure is compared with. */
export const baselineScenario = 'raw-kafkajs-produce';

/** One scenario's outcome: its result, or why it failed. */
export interface ScenarioOutcome {
  name: string;
  description: string;
  result?: ScenarioResult;
  error?: string;
}

/** Everything a run measured, as written to `report.json`. */
export interface BenchReport {
  startedAt: string;
  durationSeconds: number;
  plan: BenchPlan;
  /** One line each: machine, Node.js, Kafka, Herald settings. */
  setting: string[];
  scenarios: ScenarioOutcome[];
}

/** Writes `report.md` and `report.json` into `dir`; returns the Markdown file's path. */
export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const file = path.join(dir, 'report.md');
  writeFileSync(file, renderMarkdown(report));
  return file;
}

/** The report as Markdown: the setting, a summary of the ratios, then a table per scenario. */
export function renderMarkdown(report: BenchReport): string {
  const baseline = baselineRates(report.scenarios);
  const lines = [
    `# Herald benchmark, ${report.startedAt}`,
    '',
    `Mode \`${report.plan.mode}\`, ${formatDuration(report.durationSeconds)} in all.`,
    '',
    ...report.setting.map((line) => `- ${line}`),
    '',
    'How to read it: msg/s and MB/s (MB = 2^20 bytes of payload) over the measured messages, after a warm-up; ' +
      `"× raw" is msg/s divided by that of \`${baselineScenario}\` at the same size in this run. ` +
      'CPU µs/msg is the CPU time (user + system, from /proc) a process used during the measurement, ' +
      'divided by the messages; peak RSS is its highest resident memory then. `client` is the benchmark ' +
      'process itself, which generates the load on the same cores as Kafka and the services.',
    '',
    ...loadWarning(report.scenarios),
    ...summary(report.scenarios, baseline),
  ];
  for (const scenario of report.scenarios) {
    lines.push(`## ${scenario.name}`, '', scenario.description, '');
    if (scenario.error !== undefined) {
      lines.push('**Failed:**', '', '```', scenario.error, '```', '');
      continue;
    }
    if (!scenario.result) continue;
    if (scenario.result.kind === 'throughput') lines.push(...throughputTable(scenario.result.rows, baseline));
    else lines.push(...startupTable(scenario.result.rows));
    const notes = unique(
      scenario.result.kind === 'throughput'
        ? scenario.result.rows.flatMap((row) => row.notes.map((note) => `${rowLabel(row)}: ${note}`))
        : scenario.result.rows.flatMap((row) => row.notes),
    );
    if (notes.length > 0) lines.push('', ...notes.map((note) => `- ${note}`));
    lines.push('');
  }
  return lines.join('\n');
}

/** msg/s of the baseline per message size. */
function baselineRates(scenarios: ScenarioOutcome[]): Map<number, number> {
  const rates = new Map<number, number>();
  const result = scenarios.find((s) => s.name === baselineScenario)?.result;
  if (result?.kind === 'throughput') {
    for (const row of result.rows) rates.set(row.messageBytes, row.messages / row.seconds);
  }
  return rates;
}

function summary(scenarios: ScenarioOutcome[], baseline: Map<number, number>): string[] {
  if (baseline.size === 0) return [];
  const lines: string[] = [];
  for (const scenario of scenarios) {
    if (scenario.name === baselineScenario || scenario.result?.kind !== 'throughput') continue;
    for (const variant of unique(scenario.result.rows.map((row) => row.variant))) {
      const ratios = scenario.result.rows
        .filter((row) => row.variant === variant)
        .map((row) => `${formatSize(row.messageBytes)} ${formatRatio(ratio(row, baseline))}`);
      lines.push(`- \`${scenario.name}\`${variant ? ` (${variant})` : ''} vs raw kafkajs: ${ratios.join(', ')}`);
    }
  }
  return lines.length > 0 ? ['Summary:', '', ...lines, ''] : [];
}

/** Share of the machine beyond which other work is called out: it slows every figure it overlaps. */
const noticeableOtherLoad = 0.1;

function loadWarning(scenarios: ScenarioOutcome[]): string[] {
  const shares = scenarios
    .flatMap((s) => (s.result?.kind === 'throughput' ? s.result.rows : []))
    .map((row) => row.machine.otherShare);
  const worst = Math.max(0, ...shares);
  if (worst < noticeableOtherLoad) return [];
  return [
    `**Other work shared the machine**: processes outside the benchmark used up to ${(worst * 100).toFixed(0)}% ` +
      'of all cores during a measurement (column "other load %"). Those figures are lower, and noisier, ' +
      'than on an idle machine; compare ratios only between rows with little other load.',
    '',
  ];
}

function throughputTable(rows: ThroughputRow[], baseline: Map<number, number>): string[] {
  const roles = unique(rows.flatMap((row) => row.processes.map((p) => p.role)));
  const header = [
    'variant',
    'size',
    'messages',
    'seconds',
    'msg/s',
    'MB/s',
    '× raw',
    'latency p50 / p99 / p99.9 / max (ms)',
    ...roles.flatMap((role) => [`${role} CPU µs/msg`, `${role} peak RSS MB`]),
    'other load %',
  ];
  const body = rows.map((row) => {
    const rate = row.messages / row.seconds;
    // HDR percentiles are the top of their bucket, which may lie just above the exact maximum.
    const max = row.latency?.maxMillis ?? 0;
    const latency = row.latency
      ? [row.latency.p50Millis, row.latency.p99Millis, row.latency.p999Millis, max]
          .map((millis) => formatMillis(Math.min(millis, max)))
          .join(' / ')
      : '–';
    return [
      row.variant || '–',
      formatSize(row.messageBytes),
      row.messages.toLocaleString('en-US'),
      row.seconds.toFixed(2),
      Math.round(rate).toLocaleString('en-US'),
      ((rate * row.messageBytes) / 2 ** 20).toFixed(1),
      formatRatio(ratio(row, baseline)),
      latency,
      ...roles.flatMap((role) => {
        const usage = row.processes.find((p) => p.role === role);
        return usage ? [((usage.cpuSeconds * 1e6) / row.messages).toFixed(1), megabytes(usage)] : ['–', '–'];
      }),
      (row.machine.otherShare * 100).toFixed(0),
    ];
  });
  return table(header, body);
}

function startupTable(rows: StartupRow[]): string[] {
  const header = [
    'log',
    'records',
    'write s',
    'spawn → SERVING ms',
    'replay ms (logged)',
    'registry CPU s',
    'registry peak RSS MB',
  ];
  const body = rows.map((row) => {
    const registry = row.processes.find((p) => p.role === 'registry');
    return [
      row.variant,
      row.records.toLocaleString('en-US'),
      row.writeSeconds.toFixed(2),
      String(row.spawnToServingMillis),
      row.replayMillis === undefined ? '–' : String(row.replayMillis),
      registry ? registry.cpuSeconds.toFixed(2) : '–',
      registry ? megabytes(registry) : '–',
    ];
  });
  return table(header, body);
}

/** A Markdown table: the first column (what a row is) left-aligned, the figures right-aligned. */
function table(header: string[], body: string[][]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...body.map((row) => `| ${row.join(' | ')} |`),
  ];
}

function ratio(row: ThroughputRow, baseline: Map<number, number>): number | undefined {
  const base = baseline.get(row.messageBytes);
  return base === undefined ? undefined : row.messages / row.seconds / base;
}

function rowLabel(row: ThroughputRow): string {
  return [formatSize(row.messageBytes), row.variant].filter(Boolean).join(' ');
}

function formatRatio(value: number | undefined): string {
  return value === undefined ? '–' : `${value.toFixed(2)}×`;
}

function formatMillis(millis: number): string {
  return millis >= 100 ? millis.toFixed(0) : millis >= 10 ? millis.toFixed(1) : millis.toFixed(2);
}

function megabytes(usage: ProcessUsage): string {
  return (usage.peakRssBytes / 2 ** 20).toFixed(0);
}

function formatDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${seconds.toFixed(1)} s`;
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
