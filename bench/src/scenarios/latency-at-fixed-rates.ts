import type { LatencyTarget } from '../bench-plan';
import { HeraldPipe } from '../herald-pipe';
import { LatencyHistogram } from '../latency-histogram';
import { fixedRateVariant, sendOnSchedule, targetNote, waitForAnswers } from '../open-loop';
import { formatSize } from '../payloads';
import { ProcessMeter } from '../process-stats';
import { formatLatencySummary } from '../report';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { heraldEndToEnd, measureMaximum, warmUp } from './herald-end-to-end';

/**
 * Herald's publish-to-delivery latency at fixed rates below its maximum, and
 * at the fixed rates of the plan's latency targets, open loop: each message
 * has an intended send time on a fixed schedule, and its latency runs from
 * that time, so a stall delays every message scheduled during it and all of
 * that delay is counted (no coordinated omission).
 */
export const latencyAtFixedRates: Scenario = {
  name: 'latency-at-fixed-rates',
  profiled: false,
  usesHeraldStack: true,
  description:
    `Herald end to end as in \`${heraldEndToEnd.name}\` (same SDK settings, one topic and subscription per size), ` +
    'but open loop: messages are published on a fixed schedule at a share of the maximum end-to-end ' +
    `throughput \`${heraldEndToEnd.name}\` measured for that size in this run, and at the fixed rate of each ` +
    'latency target (`N msg/s` rows, the target in the summary), without waiting for earlier ' +
    'publishes; each payload carries its intended send time, and latency runs from that time to the ' +
    "message's arrival at the subscriber, so queueing delay anywhere, in the sender too, is counted. " +
    'msg/s is the rate achieved: messages received over the time from the first intended send to the last arrival.',
  async run(context) {
    const { fixedRates } = context.plan;
    const sizes = [...new Set([...fixedRates.sizes, ...fixedRates.targets.map((target) => target.messageBytes)])];
    const rows: ThroughputRow[] = [];
    for (const messageBytes of sizes) rows.push(...(await measureSize(context, messageBytes)));
    return { kind: 'throughput', rows };
  },
};

/** One rate to publish at, and what the report says about it. */
interface Rate {
  messagesPerSecond: number;
  variant: string;
  /** Why this rate, for the row's first note. */
  why: string;
  target?: LatencyTarget;
}

async function measureSize(context: ScenarioContext, messageBytes: number): Promise<ThroughputRow[]> {
  const { fixedRates } = context.plan;
  const size = context.plan.sizes.find((s) => s.messageBytes === messageBytes);
  if (!size) throw new Error(`the plan has no ${formatSize(messageBytes)} size`);
  const pipe = await HeraldPipe.open(
    context,
    `rates-${messageBytes}`,
    messageBytes,
    size.warmupMessages + size.messages,
  );
  try {
    await warmUp(context, pipe, size.warmupMessages);
    const rates: Rate[] = [];
    if (fixedRates.sizes.includes(messageBytes)) {
      let maximum = maximumFromThisRun(context, messageBytes);
      let source = `\`${heraldEndToEnd.name}\` in this run`;
      if (maximum === undefined) {
        const row = await measureMaximum(context, pipe, messageBytes, size.messages);
        maximum = row.messages / row.seconds;
        source = `measured here first (\`${heraldEndToEnd.name}\` did not run)`;
      }
      for (const share of fixedRates.shares) {
        const percent = Math.round(share * 100);
        const rate = share * maximum;
        rates.push({
          messagesPerSecond: rate,
          variant: `${percent}% of max`,
          why:
            `target ${Math.round(rate).toLocaleString('en-US')} msg/s = ${percent}% of ` +
            `${Math.round(maximum).toLocaleString('en-US')} msg/s, the maximum ${source}`,
        });
      }
    }
    for (const target of fixedRates.targets.filter((t) => t.messageBytes === messageBytes)) {
      rates.push({
        messagesPerSecond: target.messagesPerSecond,
        variant: fixedRateVariant(target.messagesPerSecond),
        why: targetNote(target),
        target,
      });
    }
    const rows: ThroughputRow[] = [];
    for (const rate of rates) rows.push(await measureRate(context, pipe, messageBytes, rate));
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
  rate: Rate,
): Promise<ThroughputRow> {
  const { plan, env } = context;
  const count = Math.max(1, Math.round(rate.messagesPerSecond * plan.fixedRates.secondsPerRate));
  const first = pipe.nextSequence;
  pipe.nextSequence += count;
  const latency = new LatencyHistogram();
  const acked = new LatencyHistogram();
  pipe.tracker.measure(first, latency);
  const meter = new ProcessMeter(env.metered());
  meter.begin();
  // A publish that fails 3 times is missing at the drain and reported there. When its answer came is recorded
  // apart: it splits the latency into publishing and delivery.
  const sends = await sendOnSchedule(
    count,
    rate.messagesPerSecond,
    (index, intendedNanos) => pipe.publish(first + index, intendedNanos),
    acked,
  );
  const drainMillis = plan.endToEnd.drainTimeoutSeconds * 1000;
  const drained = await pipe.tracker.waitForMeasured(count, drainMillis);
  await waitForAnswers(sends.answers, drainMillis);
  const { processes, machine } = meter.end();
  pipe.checkSubscriber();
  const received = pipe.tracker.measuredDelivered;
  const seconds = Number(pipe.tracker.lastMeasuredNanos - sends.startNanos) / 1e9;
  const p99 = latency.summary().p99Millis;
  context.log(`  ${formatSize(messageBytes)} at ${rate.variant}: p99 ${p99.toFixed(1)} ms`);
  const notes = [
    `${rate.why}; ${count} messages scheduled over ${plan.fixedRates.secondsPerRate} s, sent in ` +
      `${sends.sendSeconds.toFixed(2)} s`,
    `publish acknowledged (from the intended send to the answer of the SDK; ${acked.summary().count} ` +
      `answers), p50 / p99 / p99.9 / max: ${formatLatencySummary(acked.summary())} ms`,
  ];
  if (sends.lateSends > 0) notes.push(`${sends.lateSends} sends left more than 2 ms after their intended time`);
  if (!drained) notes.push(`${count - received} messages not received within ${drainMillis} ms`);
  notes.push(...pipe.failureNotes());
  return {
    variant: rate.variant,
    messageBytes,
    messages: received,
    seconds,
    latency: latency.summary(),
    processes,
    machine,
    notes,
    ...(rate.target ? { target: rate.target } : {}),
  };
}
