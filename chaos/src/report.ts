import type { FanoutVerdict } from './checker';
import type { ScenarioResult } from './scenario';

/** What the report says about the run as a whole. */
export interface RunInfo {
  startedAt: Date;
  durationMillis: number;
  brokers: string[];
  machine: string;
  /** The load of the machine when the run began (1, 5, 15 minutes). */
  loadAverage: number[];
  /** Whether the deployments ran with TLS, client certificates and role bindings (`--secure`). */
  secured?: boolean;
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
      'Herald service; load clients that know every instance' +
      (info.secured
        ? ' (secured: TLS on every listener and between services, client certificates required, every rpc checked ' +
          'against role bindings)'
        : ' (plaintext)') +
      '. Definitions of every column are in chaos/README.md.',
  );
  lines.push('');
  lines.push(
    '| scenario | result | acknowledged | delivered | lost | duplicates | reordered keys | heal time (longest) | fan-out: subscriptions, acknowledged, lost, duplicates |',
  );
  lines.push('| --- | --- | --: | --: | --: | --: | --: | --: | --: |');
  for (const r of results) {
    const v = r.verdict;
    const result = r.skipped ? 'skipped' : r.ok ? 'pass' : 'FAIL';
    const f = v?.fanout;
    const fanout = f ? `${f.subscriptions}, ${f.acknowledged}, ${f.lost}, ${f.duplicates}` : '';
    lines.push(
      v
        ? `| ${r.name} | ${result} | ${v.acknowledged} | ${v.delivered} | ${v.lost} | ${v.duplicates} | ${v.reorderedKeys} | ${seconds(v.healMillis)} | ${fanout} |`
        : `| ${r.name} | ${result} | | | | | | | |`,
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
    for (const s of v.subscriptions) {
      const once = s.exactlyOnce;
      if (!once) continue;
      const failed = Object.entries(once.ackFailures)
        .map(([reason, count]) => `${reason} ${count}`)
        .join(', ');
      lines.push(
        '',
        `**Exactly once** (\`${s.name}\`): ${once.confirmed} messages with a confirmed ack; ` +
          `**${once.deliveriesAfterConfirm} deliveries after a confirmed ack**; ` +
          `${once.duplicatesBeforeConfirm} duplicates before any confirmation; ` +
          `${once.neverConfirmed} delivered but never confirmed; acks not taken: ${failed || 'none'}.`,
        ...once.afterConfirmExamples.map((e) => `- after a confirmed ack: ${e}`),
      );
    }
    const examples = v.subscriptions.flatMap((s) => [
      ...s.lostIds.slice(0, 3).map((id) => `lost on ${s.name}: ${id}`),
      ...s.reorderExamples.slice(0, 3).map((why) => `reordered on ${s.name}: ${why}`),
    ]);
    if (examples.length > 0) lines.push('', ...examples.map((e) => `- ${e}`));
    if (v.fanout) lines.push('', ...fanoutSection(v.fanout));
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

/** The fan-out set: one line of figures, and where its streams were at each fault. */
function fanoutSection(f: FanoutVerdict): string[] {
  const dispatchers = (streams: number[]) => streams.map((n, i) => `dispatcher-${i + 1} ${n}`).join(', ');
  const lines = [
    `**Fan-out set** (topic \`${f.topic}\`): ${f.subscriptions} subscriptions, one streaming subscriber each, ` +
      `first opened on ${dispatchers(f.firstDispatchers)}. ${f.acknowledged} messages acknowledged, ` +
      `${f.expected} (subscription, message) deliveries expected, ${f.deliveries} deliveries received. ` +
      `**Lost: ${f.lost}** (${f.lostPairs} deliveries missing on ${f.subscriptionsWithLoss} subscriptions; ` +
      `by path ${JSON.stringify(f.lostByVia)}; ${f.notInKafka} acknowledged ones not in Kafka). ` +
      `Duplicates: ${f.duplicates} in all on ${f.subscriptionsWithDuplicates} subscriptions, at most ${f.maxDuplicates}` +
      `${f.maxDuplicatesSubscription ? ` (\`${f.maxDuplicatesSubscription}\`)` : ''}. ` +
      `Phantom deliveries: ${f.phantoms}; failed publishes delivered all the same: ${f.uncertainDelivered}. ` +
      `Time to the last subscription (${f.fanoutMillis.messages} messages every subscription got): ` +
      `p50 ${seconds(f.fanoutMillis.p50)}, p99 ${seconds(f.fanoutMillis.p99)}, max ${seconds(f.fanoutMillis.max)}.`,
  ];
  if (f.lostExamples.length > 0) lines.push('', ...f.lostExamples.slice(0, 5).map((e) => `- fan-out lost on ${e}`));
  if (f.streamsAtFaults.length > 0) {
    lines.push('', 'Fan-out streams per dispatcher when each fault began:', '');
    for (const { action, streams } of f.streamsAtFaults) lines.push(`- ${action}: ${dispatchers(streams)}`);
  }
  return lines;
}
