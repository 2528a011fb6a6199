import type { SizePlan } from '../bench-plan';
import { HeraldPipe } from '../herald-pipe';
import { LatencyHistogram } from '../latency-histogram';
import { formatSize } from '../payloads';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { measurePipe, throughputPerSize } from './herald-end-to-end';

/** As `herald-end-to-end`, on an exactly-once subscription: a message counts once its ack is confirmed. */
export const heraldExactlyOnceEndToEnd: Scenario = {
  name: 'herald-exactly-once-end-to-end',
  baselines: [{ scenario: 'herald-end-to-end' }],
  usesHeraldStack: true,
  description:
    "as herald-end-to-end (the SDK's Publisher, the same callers and sizes, one Subscriber stream), but the " +
    'subscription has exactly-once delivery: the subscriber acks each message as it arrives and a message counts ' +
    "when ack() resolves confirmed, i.e. once the dispatcher stored it in its slot's transaction (acks=all). " +
    'Throughput is confirmed acks per second; latency is from publish() to the confirmation. The notes give the ' +
    'ack-confirmation latency alone (ack() called to confirmed), p50 and p99.',
  run: (context) => throughputPerSize(context, (size) => measureSize(context, size)),
};

async function measureSize(context: ScenarioContext, size: SizePlan): Promise<ThroughputRow> {
  const pipe = await HeraldPipe.open(
    context,
    `once-${size.messageBytes}`,
    size.messageBytes,
    size.warmupMessages + size.messages,
    'exactly-once',
  );
  // The warm-up's acks include the subscription's first start: measured from there on.
  const row = await measurePipe(context, pipe, size, () => (pipe.ackConfirmation = new LatencyHistogram()));
  const confirmation = pipe.ackConfirmation.summary();
  const ms = (millis: number) => `${millis.toFixed(1)} ms`;
  row.notes = row.notes.map((note) => note.replace('received and acked', 'received, acked and confirmed'));
  row.notes.push(
    `ack-confirmation latency (ack() to confirmed): p50 ${ms(confirmation.p50Millis)}, p99 ${ms(confirmation.p99Millis)}, ` +
      `max ${ms(confirmation.maxMillis)} over ${confirmation.count} acks`,
  );
  if (pipe.ackFailures.size > 0) {
    const failures = [...pipe.ackFailures].map(([reason, count]) => `${reason} ${count}`).join(', ');
    row.notes.push(`acks not taken (their messages came again): ${failures}`);
  }
  context.log(
    `  ${formatSize(size.messageBytes)} exactly once: confirmation p50 ${ms(confirmation.p50Millis)}, p99 ${ms(confirmation.p99Millis)}`,
  );
  return row;
}
