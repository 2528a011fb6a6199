import type { ScenarioResult } from './scenario';

/** What the report says about the run as a whole. */
export interface RunInfo {
  startedAt: Date;
  durationMillis: number;
  brokers: string[];
  machine: string;
  /** The load of the machine when the run began (1, 5, 15 minutes). */
  loadAverage: number[];
}

const seconds = (millis: number) => `${(millis / 1000).toFixed(1)} s`;

/** The Markdown report of a chaos run: a summary, then a section with its tables per scenario. */
export function markdownReport(info: RunInfo, results: ScenarioResult[]): string {
  const lines: string[] = [];
  const failed = results.filter((r) => !r.ok);
  lines.push(`# Herald chaos report, ${info.startedAt.toISOString()}`);
  lines.push('');
  lines.push(
    `${failed.length === 0 ? '**PASS**' : `**FAIL** (${failed.map((r) => r.name).join(', ')})`}: ` +
      `${results.length} scenarios in ${seconds(info.durationMillis)}, Kafka ${info.brokers.join(',')}, ` +
      `${info.machine}, load average at start ${info.loadAverage.map((l) => l.toFixed(2)).join(' ')}.`,
  );
  lines.push('');
  lines.push(
    'Deployment: three Kafka brokers (replication factor 3, min ISR 2, unclean election off), two instances of each ' +
      'Herald service; load clients that know every instance. Definitions of every column are in chaos/README.md.',
  );
  lines.push('');
  lines.push(
    '| scenario | result | acknowledged | delivered | lost | duplicates | reordered keys | heal time (longest) |',
  );
  lines.push('| --- | --- | --: | --: | --: | --: | --: | --: |');
  for (const r of results) {
    const v = r.verdict;
    const result = r.skipped ? 'skipped' : r.ok ? 'pass' : 'FAIL';
    lines.push(
      v
        ? `| ${r.name} | ${result} | ${v.acknowledged} | ${v.delivered} | ${v.lost} | ${v.duplicates} | ${v.reorderedKeys} | ${seconds(v.healMillis)} |`
        : `| ${r.name} | ${result} | | | | | | |`,
    );
  }
  for (const r of results) lines.push('', ...scenarioSection(r));
  return lines.join('\n') + '\n';
}

function scenarioSection(r: ScenarioResult): string[] {
  const lines = [`## ${r.name}: ${r.title}`, '', r.description, ''];
  if (r.skipped) return [...lines, `Skipped: ${r.skipped}`];
  lines.push(`Result: **${r.ok ? 'pass' : 'FAIL'}** in ${seconds(r.durationMillis)}.`);
  for (const failure of r.failures) lines.push(`- ${failure}`);
  lines.push('');
  const v = r.verdict;
  if (v) {
    lines.push('| acknowledged | delivered | lost | duplicates | reordered keys | heal time |');
    lines.push('| --: | --: | --: | --: | --: | --: |');
    lines.push(
      `| ${v.acknowledged} | ${v.delivered} | ${v.lost} | ${v.duplicates} | ${v.reorderedKeys} | ${seconds(v.healMillis)} |`,
    );
    lines.push('');
    lines.push(
      `Publishes: ${v.sent} sent, ${v.acknowledged} acknowledged, ${v.failed} failed, ${v.pending} unanswered; ` +
        `${v.uncertainDelivered} failed ones delivered all the same. Kafka: ${v.kafkaRecords} records read from offset 0, ` +
        `${v.notInKafka} acknowledged messages missing, ${v.kafkaCopies} extra copies of a message (publisher retries), ` +
        `${v.kafkaReorderedKeys} keys out of publish order. Lost by path: ${JSON.stringify(v.lostByVia)}. ` +
        `Delivered with another message id than the publisher acknowledged: ${v.messageIdMismatches}. ` +
        `Phantom deliveries: ${v.phantoms}. Duplicates ${v.duplicates}, bound (in flight at the faults) ${v.duplicateBound}. ` +
        `Slow threshold for heal times: ${seconds(v.slowThresholdMillis)}.`,
    );
    const failedBy = Object.entries(v.failedByError ?? {}).sort((a, b) => b[1] - a[1]);
    if (failedBy.length > 0) {
      lines.push(
        '',
        'Failed publishes by error:',
        '',
        ...failedBy.map(([error, count]) => `- ${count} x \`${error}\``),
      );
    }
    if (v.notInKafkaIds.length > 0)
      lines.push('', `Acknowledged but not in Kafka, e.g.: ${v.notInKafkaIds.slice(0, 5).join(', ')}`);
    lines.push('');
    lines.push(
      '| subscription | ordered | expected | delivered | lost | deliveries | duplicates | of which after an ack | replays asked by a seek | reordered keys |',
    );
    lines.push('| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |');
    for (const s of v.subscriptions) {
      lines.push(
        `| ${s.name} | ${s.ordered ? 'yes' : 'no'} | ${s.expected} | ${s.delivered} | ${s.lost} | ${s.deliveries} | ${s.duplicates} | ${s.duplicatesAfterAck} | ${s.replays} | ${s.reorderedKeys} |`,
      );
    }
    const examples = v.subscriptions.flatMap((s) => [
      ...s.lostIds.slice(0, 3).map((id) => `lost on ${s.name}: ${id}`),
      ...s.reorderExamples.slice(0, 3).map((why) => `reordered on ${s.name}: ${why}`),
    ]);
    if (examples.length > 0) lines.push('', ...examples.map((e) => `- ${e}`));
    if (v.faults.length > 0) {
      lines.push('');
      lines.push(
        '| at | fault | took | heal time | publishes failed | longest without a publish ack | longest without a delivery | in flight |',
      );
      lines.push('| --: | --- | --: | --: | --: | --: | --: | --: |');
      for (const f of v.faults) {
        lines.push(
          `| ${seconds(f.at)} | ${f.kind === 'repair' ? 'repair: ' : ''}${f.action} | ${seconds(f.actionMillis)} | ${seconds(f.healMillis)} | ${f.publishFailures} | ${seconds(f.maxPublishGapMillis)} | ${seconds(f.maxDeliveryGapMillis)} | ${f.inflight} |`,
        );
      }
    }
  }
  if (Object.keys(r.peakRssMb).length > 0) {
    lines.push(
      '',
      `Peak RSS (MiB): ${Object.entries(r.peakRssMb)
        .map(([n, mb]) => `${n} ${mb}`)
        .join(', ')}.`,
    );
  }
  const counters = Object.entries(r.counters).filter(([, count]) => count > 0);
  if (counters.length > 0)
    lines.push('', `Client counters: ${counters.map(([name, count]) => `${name} ${count}`).join(', ')}.`);
  for (const note of r.notes) lines.push('', note);
  if (r.historyFile) lines.push('', `History: \`${r.historyFile}\``);
  return lines;
}
