import { HeraldPipe } from '../herald-pipe';
import { LatencyHistogram } from '../latency-histogram';
import { formatSize } from '../payloads';
import { ProcessMeter } from '../process-stats';
import { formatLatencySummary } from '../report';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { heraldEndToEnd, measureMaximum, warmUp } from './herald-end-to-end';

/** How often the open-loop scheduler wakes up to send what has become due. */
const schedulerTickMillis = 1;

/**
 * Herald's publish-to-delivery latency at fixed rates below its maximum, open
 * loop: each message has an intended send time on a fixed schedule, and its
 * latency runs from that time, so a stall delays every message scheduled
 * during it and all of that delay is counted (no coordinated omission).
 */
export const latencyAtFixedRates: Scenario = {
  name: 'latency-at-fixed-rates',
  profiled: false,
  description:
    `Herald end to end as in \`${heraldEndToEnd.name}\` (same SDK settings, one topic and subscription per size), ` +
    'but open loop: messages are published on a fixed schedule at a share of the maximum end-to-end ' +
    `throughput \`${heraldEndToEnd.name}\` measured for that size in this run, without waiting for earlier ` +
    'publishes; each payload carries its intended send time, and latency runs from that time to the ' +
    "message's arrival at the subscriber, so queueing delay anywhere, in the sender too, is counted. " +
    'msg/s is the rate achieved: messages received over the time from the first intended send to the last arrival.',
  async run(context) {
    const rows: ThroughputRow[] = [];
    for (const messageBytes of context.plan.fixedRates.sizes) rows.push(...(await measureSize(context, messageBytes)));
    return { kind: 'throughput', rows };
  },
};

async function measureSize(context: ScenarioContext, messageBytes: number): Promise<ThroughputRow[]> {
  const size = context.plan.sizes.find((s) => s.messageBytes === messageBytes);
  if (!size) throw new Error(`the plan has no ${formatSize(messageBytes)} size`);
  const measured = maximumFromThisRun(context, messageBytes);
  const pipe = await HeraldPipe.open(
    context,
    `rates-${messageBytes}`,
    messageBytes,
    size.warmupMessages + size.messages,
  );
  try {
    await warmUp(context, pipe, size.warmupMessages);
    let maximum = measured;
    let source = `\`${heraldEndToEnd.name}\` in this run`;
    if (maximum === undefined) {
      const row = await measureMaximum(context, pipe, messageBytes, size.messages);
      maximum = row.messages / row.seconds;
      source = `measured here first (\`${heraldEndToEnd.name}\` did not run)`;
    }
    const rows: ThroughputRow[] = [];
    for (const share of context.plan.fixedRates.shares) {
      rows.push(await measureRate(context, pipe, messageBytes, share, maximum, source));
    }
    return rows;
  } finally {
    await pipe.close();
  }
}

/** msg/s of `herald-end-to-end` at this size earlier in this run, if it ran. */
function maximumFromThisRun(context: ScenarioContext, messageBytes: number): number | undefined {
  const result = context.resultOf(heraldEndToEnd.name);
  if (result?.kind !== 'throughput') return undefined;
  const row = result.rows.find((r) => r.messageBytes === messageBytes && r.variant === '');
  return row && row.messages > 0 ? row.messages / row.seconds : undefined;
}

async function measureRate(
  context: ScenarioContext,
  pipe: HeraldPipe,
  messageBytes: number,
  share: number,
  maximum: number,
  source: string,
): Promise<ThroughputRow> {
  const { plan, env } = context;
  const rate = share * maximum;
  const count = Math.max(1, Math.round(rate * plan.fixedRates.secondsPerRate));
  const first = pipe.nextSequence;
  pipe.nextSequence += count;
  const latency = new LatencyHistogram();
  const acked = new LatencyHistogram();
  const publishes: Array<Promise<void>> = [];
  pipe.tracker.measure(first, latency);
  const meter = new ProcessMeter(env.metered());
  meter.begin();
  const intervalNanos = 1e9 / rate;
  const startNanos = process.hrtime.bigint();
  let sent = 0;
  let lateSends = 0;
  while (sent < count) {
    const now = process.hrtime.bigint();
    for (;;) {
      if (sent >= count) break;
      const intendedNanos = startNanos + BigInt(Math.round(sent * intervalNanos));
      if (intendedNanos > now) break;
      // More than a tick behind: the sender itself fell behind its schedule.
      if (now - intendedNanos > BigInt(2 * schedulerTickMillis * 1e6)) lateSends++;
      // Not awaited (open loop); a publish that fails 3 times is missing at the drain and reported there.
      // When its answer came is recorded apart: it splits the latency into publishing and delivery.
      publishes.push(
        pipe.publish(first + sent, intendedNanos).then(
          () => acked.recordSince(intendedNanos),
          () => undefined,
        ),
      );
      sent++;
    }
    if (sent < count) await new Promise((resolve) => setTimeout(resolve, schedulerTickMillis));
  }
  const sendSeconds = Number(process.hrtime.bigint() - startNanos) / 1e9;
  const drainMillis = plan.endToEnd.drainTimeoutSeconds * 1000;
  const drained = await pipe.tracker.waitForMeasured(count, drainMillis);
  // Deliveries often come before the publisher's answer: wait for the answers too, or the slowest are missed.
  let answersTimer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(publishes),
    new Promise((resolve) => (answersTimer = setTimeout(resolve, drainMillis))),
  ]);
  clearTimeout(answersTimer);
  const { processes, machine } = meter.end();
  pipe.checkSubscriber();
  const received = pipe.tracker.measuredDelivered;
  const seconds = Number(pipe.tracker.lastMeasuredNanos - startNanos) / 1e9;
  const percent = Math.round(share * 100);
  const p99 = latency.summary().p99Millis;
  context.log(`  ${formatSize(messageBytes)} at ${percent}% (${Math.round(rate)} msg/s): p99 ${p99.toFixed(1)} ms`);
  const notes = [
    `target ${Math.round(rate).toLocaleString('en-US')} msg/s = ${percent}% of ` +
      `${Math.round(maximum).toLocaleString('en-US')} msg/s, the maximum ${source}; ${count} messages ` +
      `scheduled over ${plan.fixedRates.secondsPerRate} s, sent in ${sendSeconds.toFixed(2)} s`,
  ];
  notes.push(
    `publish acknowledged (from the intended send to the answer of the SDK; ${acked.summary().count} ` +
      `answers), p50 / p99 / p99.9 / max: ${formatLatencySummary(acked.summary())} ms`,
  );
  if (lateSends > 0) notes.push(`${lateSends} sends left more than 2 ms after their intended time`);
  if (!drained) notes.push(`${count - received} messages not received within ${drainMillis} ms`);
  notes.push(...pipe.failureNotes());
  return {
    variant: `${percent}% of max`,
    messageBytes,
    messages: received,
    seconds,
    latency: latency.summary(),
    processes,
    machine,
    notes,
  };
}
