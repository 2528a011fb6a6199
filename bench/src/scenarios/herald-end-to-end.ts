import type { SizePlan } from '../bench-plan';
import { HeraldPipe } from '../herald-pipe';
import { LatencyHistogram } from '../latency-histogram';
import { formatSize } from '../payloads';
import { ProcessMeter } from '../process-stats';
import type { Scenario, ScenarioContext, ScenarioResult, ThroughputRow } from '../scenario';

/** Herald end to end: SDK publisher → publisher service → Kafka → dispatcher → SDK subscriber, which acks. */
export const heraldEndToEnd: Scenario = {
  name: 'herald-end-to-end',
  baselines: [{ scenario: 'raw-kafkajs-end-to-end' }, { scenario: 'raw-librdkafka-end-to-end' }],
  usesHeraldStack: true,
  profiled: true,
  description:
    "the SDK's Publisher (many concurrent callers, each awaiting its message before publishing the next; " +
    'the SDK batches them into Publish calls) on the publisher service, and the SDK Subscriber on the ' +
    'dispatcher (one StreamingPull stream), acking each message as it arrives; one topic and one subscription ' +
    'per size, created through the registry. Throughput counts messages received and acked, from the first ' +
    'measured publish to the last measured message received; latency is from the moment publish() was called ' +
    "(stamped in the payload) to the message's arrival in the subscriber's handler.",
  async run(context) {
    return throughputPerSize(context, async (size) =>
      measurePipe(
        context,
        await HeraldPipe.open(
          context,
          `e2e-${size.messageBytes}`,
          size.messageBytes,
          size.warmupMessages + size.messages,
        ),
        size,
      ),
    );
  },
};

/** One row per size of the plan, measured in turn. */
export async function throughputPerSize(
  context: ScenarioContext,
  measure: (size: SizePlan) => Promise<ThroughputRow>,
): Promise<ScenarioResult> {
  const rows: ThroughputRow[] = [];
  for (const size of context.plan.sizes) rows.push(await measure(size));
  return { kind: 'throughput', rows };
}

/**
 * Warms `pipe` up, measures its maximum with `size` ({@link measureMaximum}) and closes it;
 * `measuring` runs between the two, for what a variant counts from there on.
 */
export async function measurePipe(
  context: ScenarioContext,
  pipe: HeraldPipe,
  size: SizePlan,
  measuring?: () => void,
): Promise<ThroughputRow> {
  try {
    await warmUp(context, pipe, size.warmupMessages);
    measuring?.();
    return await measureMaximum(context, pipe, size.messageBytes, size.messages);
  } finally {
    await pipe.close();
  }
}

/**
 * Publishes `count` messages and waits for all of them: the dispatcher's
 * consumer joins its group meanwhile, and connections and JIT warm up.
 */
export async function warmUp(context: ScenarioContext, pipe: HeraldPipe, count: number): Promise<void> {
  const { plan } = context;
  const { published } = await pipe.publishClosedLoop(count, plan.endToEnd.publishCallers, plan.maxMeasureSeconds / 5);
  // The group join and the first fetches take a few seconds: more than a drain.
  const timeoutMillis = (plan.endToEnd.drainTimeoutSeconds + 30) * 1000;
  if (!(await pipe.tracker.waitForDelivered(published, timeoutMillis))) {
    pipe.checkSubscriber();
    throw new Error(`only ${pipe.tracker.delivered} of ${published} warm-up messages arrived in ${timeoutMillis} ms`);
  }
}

/**
 * The most messages per second end to end: `count` messages (or as many as
 * `maxMeasureSeconds` allows) published by the plan's closed-loop callers,
 * then waits for the rest to arrive.
 */
export async function measureMaximum(
  context: ScenarioContext,
  pipe: HeraldPipe,
  messageBytes: number,
  count: number,
): Promise<ThroughputRow> {
  const { plan, env } = context;
  const latency = new LatencyHistogram();
  pipe.tracker.measure(pipe.nextSequence, latency);
  const meter = new ProcessMeter(env.metered());
  meter.begin();
  const startNanos = process.hrtime.bigint();
  const { published } = await pipe.publishClosedLoop(count, plan.endToEnd.publishCallers, plan.maxMeasureSeconds);
  const drainMillis = plan.endToEnd.drainTimeoutSeconds * 1000;
  const drained = await pipe.tracker.waitForMeasured(published, drainMillis);
  const { processes, machine } = meter.end();
  pipe.checkSubscriber();
  const received = pipe.tracker.measuredDelivered;
  const seconds = Number(pipe.tracker.lastMeasuredNanos - startNanos) / 1e9;
  context.log(`  ${formatSize(messageBytes)}: ${Math.round(received / seconds)} msg/s end to end`);
  const { publishCallers, batchMessages, maxOutstandingMessages } = plan.endToEnd;
  const notes = [
    `${publishCallers} publish() callers, SDK batches of up to ${batchMessages}, subscriber flow control ` +
      `${maxOutstandingMessages} messages; ${env.dispatchers.length} dispatcher${env.dispatchers.length === 1 ? '' : 's'}`,
    `${published} measured messages published, ${received} received and acked`,
  ];
  if (!drained) notes.push(`${published - received} published messages not received within ${drainMillis} ms`);
  if (pipe.tracker.duplicates > 0) notes.push(`${pipe.tracker.duplicates} messages delivered twice`);
  notes.push(...pipe.failureNotes());
  return {
    variant: '',
    messageBytes,
    messages: received,
    seconds,
    latency: latency.summary(),
    processes,
    machine,
    notes,
  };
}
