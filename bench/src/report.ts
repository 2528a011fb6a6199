import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchPlan, LatencyTarget } from './bench-plan';
import { renderChart } from './chart';
import type { ProfileSummary, SelfTime } from './cpu-profile';
import type { LatencySummary } from './latency-histogram';
import { formatSize } from './payloads';
import type { ProcessUsage } from './process-stats';
import { fanoutScaleSummary, fanoutScaleTables, fanoutSummary, fanoutTable } from './fanout-report';
import type { Baseline, ScenarioResult, StartupRow, ThroughputRow } from './scenario';

/** One scenario's outcome: its result, why it failed, or why it did not run. */
export interface ScenarioOutcome {
  name: string;
  description: string;
  baselines?: Baseline[];
  result?: ScenarioResult;
  error?: string;
  skipped?: string;
}

/** The CPU profiles of the services taken while one scenario ran. */
export interface ScenarioProfiles {
  scenario: string;
  summaries: ProfileSummary[];
}

/** Everything a run measured, as written to `report.json`. */
export interface BenchReport {
  startedAt: string;
  durationSeconds: number;
  plan: BenchPlan;
  /** One line each: machine, Node.js, Kafka, Herald settings. */
  setting: string[];
  scenarios: ScenarioOutcome[];
  /** Present in `--profile` runs. */
  profiles?: ScenarioProfiles[];
}

/** The files {@link writeReport} writes into the run's folder. */
export const reportFiles = { markdown: 'report.md', json: 'report.json', chart: 'chart.svg' };

/** Writes `report.md`, `report.json` and `chart.svg` into `dir`; returns the Markdown file's path. */
export function writeReport(dir: string, report: BenchReport): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, reportFiles.json), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(path.join(dir, reportFiles.chart), renderChart(report));
  const file = path.join(dir, reportFiles.markdown);
  writeFileSync(file, renderMarkdown(report));
  return file;
}

/** The report as Markdown: the setting, a summary of the ratios, a table per scenario, then the profiles. */
export function renderMarkdown(report: BenchReport): string {
  const lines = [
    `# Herald benchmark, ${report.startedAt}`,
    '',
    `Mode \`${report.plan.mode}\`, ${formatDuration(report.durationSeconds)} in all.`,
    '',
    ...report.setting.map((line) => `- ${line}`),
    '',
    'How to read it: msg/s and MB/s (MB = 2^20 bytes of payload) over the measured messages, after a warm-up; ' +
      'each "× name" column is msg/s divided by that of the scenario it names (its main row, or the variant in ' +
      'parentheses), at the same size in this run. ' +
      'Each process column is the CPU time (user + system, from /proc) the process used during the ' +
      'measurement divided by the messages, in µs per message, then its highest resident memory then, in MB. ' +
      '`client` is the benchmark process itself (or the Kafka tool), which generates the load on the same ' +
      'cores as Kafka and the services.',
    '',
    ...loadWarning(report.scenarios),
    `![throughput and latency per scenario](${reportFiles.chart})`,
    '',
    ...summary(report.scenarios, report.plan),
  ];
  for (const scenario of report.scenarios) {
    lines.push(`## ${scenario.name}`, '', scenario.description, '');
    if (scenario.skipped !== undefined) {
      lines.push(`_Skipped: ${scenario.skipped}._`, '');
      continue;
    }
    if (scenario.error !== undefined) {
      lines.push('**Failed:**', '', '```', scenario.error, '```', '');
      continue;
    }
    if (!scenario.result) continue;
    lines.push(...resultTables(scenario, scenario.result, report.scenarios));
    const notes = unique(resultNotes(scenario.result));
    if (notes.length > 0) lines.push('', ...notes.map((note) => `- ${note}`));
    lines.push('');
  }
  for (const profiles of report.profiles ?? []) lines.push(...profileSection(profiles));
  return lines.join('\n');
}

function resultTables(scenario: ScenarioOutcome, result: ScenarioResult, scenarios: ScenarioOutcome[]): string[] {
  switch (result.kind) {
    case 'throughput':
      return throughputTable(scenario, result.rows, scenarios);
    case 'startup':
      return startupTable(result.rows);
    case 'fanout':
      return fanoutTable(result.rows);
    case 'fanout-scale':
      return result.rows.flatMap((row) => fanoutScaleTables(row));
  }
}

function resultNotes(result: ScenarioResult): string[] {
  switch (result.kind) {
    case 'throughput':
      return result.rows.flatMap((row) => row.notes.map((note) => `${rowLabel(row)}: ${note}`));
    case 'startup':
      return result.rows.flatMap((row) => row.notes);
    case 'fanout':
      return [
        ...result.notes,
        ...(result.backgroundFetchesPerSecond === undefined
          ? []
          : [
              `broker fetch requests per second once the last dispatcher under test had stopped (other clients): ` +
                result.backgroundFetchesPerSecond.toFixed(1),
            ]),
        ...result.rows.flatMap((row) => row.notes.map((note) => `N = ${row.subscriptions}: ${note}`)),
      ];
    case 'fanout-scale':
      return result.rows.flatMap((row) => row.notes);
  }
}

/** The scenario's baselines, none for a baseline itself. */
function baselinesOf(scenario: ScenarioOutcome): Baseline[] {
  return scenario.baselines ?? [];
}

/** msg/s of a row of the baseline, at a size, in this run. */
function baselineRate(baseline: Baseline, messageBytes: number, scenarios: ScenarioOutcome[]): number | undefined {
  const result = scenarios.find((s) => s.name === baseline.scenario)?.result;
  if (result?.kind !== 'throughput') return undefined;
  const row = result.rows.find((r) => r.messageBytes === messageBytes && r.variant === (baseline.variant ?? ''));
  return row && row.seconds > 0 ? row.messages / row.seconds : undefined;
}

function ratio(baseline: Baseline, row: ThroughputRow, scenarios: ScenarioOutcome[]): number | undefined {
  // A row at a target's fixed rate goes as fast as its schedule: no throughput to compare.
  if (row.target) return undefined;
  const base = baselineRate(baseline, row.messageBytes, scenarios);
  return base === undefined || row.seconds <= 0 ? undefined : row.messages / row.seconds / base;
}

function summary(scenarios: ScenarioOutcome[], plan: BenchPlan): string[] {
  const lines: string[] = [];
  for (const scenario of scenarios) {
    if (scenario.result?.kind !== 'throughput') continue;
    const { rows } = scenario.result;
    for (const baseline of baselinesOf(scenario)) {
      for (const variant of unique(rows.filter((row) => !row.target).map((row) => row.variant))) {
        const sized = rows.filter((row) => row.variant === variant);
        // A baseline that did not run (skipped, failed, left out by --only) would only fill the summary with dashes.
        if (sized.every((row) => ratio(baseline, row, scenarios) === undefined)) continue;
        const ratios = sized.map(
          (row) => `${formatSize(row.messageBytes)} ${formatRatio(ratio(baseline, row, scenarios))}`,
        );
        lines.push(
          `- \`${scenario.name}\`${variant ? ` (${variant})` : ''} vs ${baselineLabel(baseline)}: ` + ratios.join(', '),
        );
      }
    }
  }
  for (const scenario of scenarios) {
    if (scenario.result?.kind === 'fanout') lines.push(...fanoutSummary(scenario.result.rows, plan.fanout.targets));
    if (scenario.result?.kind === 'fanout-scale') {
      for (const row of scenario.result.rows) lines.push(...fanoutScaleSummary(row, plan.fanoutScale.targets));
    }
  }
  for (const scenario of scenarios) {
    if (!endToEndScenarios.includes(scenario.name) || scenario.result?.kind !== 'throughput') continue;
    const cpu = scenario.result.rows
      .filter((row) => row.variant === '' && row.messages > 0)
      .map((row) => `${formatSize(row.messageBytes)} ${cpuMicrosPerMessage(row).toFixed(1)} µs`);
    if (cpu.length > 0) lines.push(`- CPU per message end to end of \`${scenario.name}\`: ${cpu.join(', ')}`);
  }
  for (const scenario of scenarios) {
    if (scenario.result?.kind !== 'throughput') continue;
    const fixedRates = scenario.name === 'latency-at-fixed-rates';
    for (const row of scenario.result.rows) {
      if (!row.latency || !(fixedRates || row.target)) continue;
      lines.push(
        `- publish-to-delivery latency of \`${scenario.name}\` at ${row.variant}, ${formatSize(row.messageBytes)} ` +
          `(${Math.round(row.messages / row.seconds).toLocaleString('en-US')} msg/s): p50 / p99 / p99.9 / max ` +
          `${formatLatency(row)} ms` +
          (row.target ? `; ${targetVerdict(row.latency, row.target)}` : ''),
      );
    }
  }
  return lines.length > 0 ? ['## Summary', '', ...lines, ''] : [];
}

/** The scenarios whose whole CPU per message the summary gives: the cost of a message from producer to consumer. */
const endToEndScenarios = ['raw-kafkajs-end-to-end', 'raw-librdkafka-end-to-end', 'herald-end-to-end'];

/** CPU time of every measured process together (idle Herald services included) per message. */
function cpuMicrosPerMessage(row: ThroughputRow): number {
  return (row.processes.reduce((sum, usage) => sum + usage.cpuSeconds, 0) * 1e6) / row.messages;
}

/** Whether a row's latency is within its target: `target p50 ≤ 8 ms, p99 ≤ 20 ms: met`. */
function targetVerdict(latency: LatencySummary, target: LatencyTarget): string {
  const met = latency.p50Millis <= target.p50Millis && latency.p99Millis <= target.p99Millis;
  return `target p50 ≤ ${target.p50Millis} ms, p99 ≤ ${target.p99Millis} ms: ${met ? 'met' : '**missed**'}`;
}

/** Share of the machine beyond which other work is called out: it slows every figure it overlaps. */
const noticeableOtherLoad = 0.1;

function loadWarning(scenarios: ScenarioOutcome[]): string[] {
  const shares = scenarios.flatMap((s) => {
    if (s.result?.kind === 'throughput') return s.result.rows.map((row) => row.machine.otherShare);
    if (s.result?.kind === 'fanout') {
      return s.result.rows.flatMap((row) => [row.idle, row.loaded].flatMap((p) => (p ? [p.machine.otherShare] : [])));
    }
    return [];
  });
  const worst = Math.max(0, ...shares);
  if (worst < noticeableOtherLoad) return [];
  return [
    `**Other work shared the machine**: processes outside the benchmark used up to ${(worst * 100).toFixed(0)}% ` +
      'of all cores during a measurement (column "other load %"). Those figures are lower, and noisier, ' +
      'than on an idle machine; compare ratios only between rows with little other load.',
    '',
  ];
}

function throughputTable(scenario: ScenarioOutcome, rows: ThroughputRow[], scenarios: ScenarioOutcome[]): string[] {
  const roles = unique(rows.flatMap((row) => row.processes.map((p) => p.role)));
  const withLatency = rows.some((row) => row.latency);
  const header = [
    'variant',
    'size',
    'messages',
    'seconds',
    'msg/s',
    'MB/s',
    ...baselinesOf(scenario).map((baseline) => `× ${baselineLabel(baseline)}`),
    ...(withLatency ? ['latency p50 / p99 / p99.9 / max (ms)'] : []),
    ...roles.map((role) => `${role} µs/msg · MB`),
    'other load %',
  ];
  const body = rows.map((row) => {
    const rate = row.seconds > 0 ? row.messages / row.seconds : 0;
    return [
      row.variant || '–',
      formatSize(row.messageBytes),
      row.messages.toLocaleString('en-US'),
      row.seconds.toFixed(2),
      Math.round(rate).toLocaleString('en-US'),
      ((rate * row.messageBytes) / 2 ** 20).toFixed(1),
      ...baselinesOf(scenario).map((baseline) => formatRatio(ratio(baseline, row, scenarios))),
      ...(withLatency ? [row.latency ? formatLatency(row) : '–'] : []),
      ...roles.map((role) => {
        const usage = row.processes.find((p) => p.role === role);
        return usage
          ? `${((usage.cpuSeconds * 1e6) / Math.max(1, row.messages)).toFixed(1)} · ${megabytes(usage)}`
          : '–';
      }),
      (row.machine.otherShare * 100).toFixed(0),
    ];
  });
  return table(header, body);
}

/** p50 / p99 / p99.9 / max in ms. */
export function formatLatency(row: ThroughputRow): string {
  return row.latency ? formatLatencySummary(row.latency) : '–';
}

/** p50 / p99 / p99.9 / max in ms. */
export function formatLatencySummary(latency: LatencySummary): string {
  // HDR percentiles are the top of their bucket, which may lie just above the exact maximum.
  const max = latency.maxMillis;
  return [latency.p50Millis, latency.p99Millis, latency.p999Millis, max]
    .map((millis) => formatMillis(Math.min(millis, max)))
    .join(' / ');
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

function profileSection({ scenario, summaries }: ScenarioProfiles): string[] {
  const lines = [
    `## CPU profile of \`${scenario}\``,
    '',
    "V8's sampling profiler (1 ms interval, the one `--cpu-prof` uses), started in the publisher and the " +
      'dispatcher when the scenario began and stopped when it ended; self time is the time a function was on ' +
      "top of the main thread's stack. Shares are of the busy time (idle left out). The `.cpuprofile` files " +
      'open in Chrome DevTools or speedscope. What these profiles have shown so far, and the wins they point ' +
      'to: `bench/README.md`.',
    '',
  ];
  if (summaries.length === 0) lines.push('_No profile was written._', '');
  for (const profile of summaries) {
    const seconds = profile.profiledMillis / 1000;
    lines.push(
      `### ${profile.role}`,
      '',
      `Busy ${(profile.busyMillis / 1000).toFixed(1)} s of ${seconds.toFixed(1)} s profiled ` +
        `(${((profile.busyMillis / Math.max(1, profile.profiledMillis)) * 100).toFixed(0)}% of one core on ` +
        `the main thread); \`${path.basename(profile.file)}\`.`,
      '',
      ...table(
        ['part of the code', 'self ms', 'share'],
        profile.byPart.slice(0, 12).map((entry) => [entry.name, ...timeCells(entry)]),
      ),
      '',
      ...table(
        ['function', 'where', 'self ms', 'share'],
        profile.topFunctions.map((entry) => [`\`${entry.name}\``, entry.location || '–', ...timeCells(entry)]),
        2,
      ),
      '',
    );
  }
  return lines;
}

function timeCells(entry: SelfTime): string[] {
  return [entry.selfMillis.toFixed(0), `${(entry.share * 100).toFixed(1)}%`];
}

/** A Markdown table: the first `textColumns` columns (what a row is) left-aligned, the figures right-aligned. */
function table(header: string[], body: string[][], textColumns = 1): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i < textColumns ? '---' : '---:')).join(' | ')} |`,
    ...body.map((row) => `| ${row.join(' | ')} |`),
  ];
}

/** The baseline in Markdown: the scenario's name as code, and the variant if any. */
function baselineLabel(baseline: Baseline): string {
  return `\`${baseline.scenario}\`` + (baseline.variant ? ` (${baseline.variant})` : '');
}

/** `1 KB 10% of max`: what a row is, for notes and the chart. */
export function rowLabel(row: ThroughputRow): string {
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
