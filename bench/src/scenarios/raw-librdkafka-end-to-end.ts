import type { LatencyTarget, SizePlan } from '../bench-plan';
import { produce, rawProduceSettings } from '../closed-loop-produce';
import { DeliveryTracker } from '../delivery-tracker';
import { LatencyHistogram } from '../latency-histogram';
import { LibrdkafkaConsumer } from '../librdkafka-consumer';
import { LibrdkafkaProducer } from '../librdkafka-producer';
import { fixedRateVariant, sendOnSchedule, targetNote, waitForAnswers } from '../open-loop';
import { formatSize } from '../payloads';
import { ProcessMeter } from '../process-stats';
import { benchKafka, createRawTopics, deleteRawTopics, rawTopicPrefix } from '../raw-topics';
import { formatLatencySummary } from '../report';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { StampedPayloads } from '../stamped-payloads';
import { rawKafkajsEndToEnd } from './raw-kafkajs-end-to-end';
import { rawLibrdkafkaProduce } from './raw-librdkafka-produce';

/** What Herald's pipeline could reach on librdkafka: its producer and consumer in one process, nothing between. */
export const rawLibrdkafkaEndToEnd: Scenario = {
  name: 'raw-librdkafka-end-to-end',
  baselines: [{ scenario: rawKafkajsEndToEnd.name }],
  description:
    `librdkafka in this process: the producer of \`${rawLibrdkafkaProduce.name}\` under the same load ` +
    `(${rawProduceSettings.lanes} batches in flight, each resolved by its delivery reports) while one native ` +
    'KafkaConsumer of its own group reads the topic with batch consume calls (up to 1000 messages each, ' +
    'fetch.wait.max.ms 50, offsets auto-committed every second). Throughput counts messages consumed, from ' +
    'the first measured send to the last measured message consumed; latency is from the send time stamped ' +
    'in each payload (when its batch was made) to its arrival from consume. The `N msg/s` row, at the fixed ' +
    'rate of a latency target, publishes open loop on a fixed schedule as `latency-at-fixed-rates` does ' +
    '(latency from the intended send time), one message per produce call: the reference for Herald there.',
  async run(context) {
    const rows: ThroughputRow[] = [];
    for (const size of context.plan.sizes) rows.push(...(await measureSize(context, size)));
    return { kind: 'throughput', rows };
  },
};

/** The producer, consumer and topic of one size, and what arrived. */
interface Pipeline {
  topic: string;
  producer: LibrdkafkaProducer;
  consumer: LibrdkafkaConsumer;
  tracker: DeliveryTracker;
  payloads: StampedPayloads;
  /** The sequence number of the next message sent. */
  nextSequence: number;
}

async function measureSize(context: ScenarioContext, size: SizePlan): Promise<ThroughputRow[]> {
  const { plan, env, runId } = context;
  const kafka = benchKafka(env.kafkaBrokers, 'herald-bench-raw-librdkafka-e2e');
  const topic = `${rawTopicPrefix}librdkafka-e2e-${size.messageBytes}-${runId}`;
  await createRawTopics(kafka, [{ name: topic, partitions: plan.partitions }]);
  const targets = plan.fixedRates.targets.filter((target) => target.messageBytes === size.messageBytes);
  const tracker = new DeliveryTracker(size.warmupMessages + size.messages);
  let producer: LibrdkafkaProducer | undefined;
  let consumer: LibrdkafkaConsumer | undefined;
  try {
    consumer = await LibrdkafkaConsumer.start(env.kafkaBrokers, `${topic}.e2e`, topic, (value, now) =>
      tracker.record(value, now),
    );
    producer = await LibrdkafkaProducer.connect(env.kafkaBrokers, 'herald-bench-raw-librdkafka-e2e');
    const payloads = new StampedPayloads(size.messageBytes);
    const pipeline: Pipeline = { topic, producer, consumer, tracker, payloads, nextSequence: 0 };
    const rows = [await measureMaximum(context, pipeline, size)];
    for (const target of targets) rows.push(await measureFixedRate(context, pipeline, target));
    return rows;
  } finally {
    await producer?.close();
    await consumer?.close();
    await deleteRawTopics(kafka, [topic], context.log);
  }
}

/** Closed loop, as `raw-kafkajs-end-to-end`: warm-up, then the measured messages as fast as they go. */
async function measureMaximum(context: ScenarioContext, pipeline: Pipeline, size: SizePlan): Promise<ThroughputRow> {
  const { plan, env } = context;
  const { tracker, payloads } = pipeline;
  const load = (first: number) => ({
    sender: pipeline.producer,
    topic: pipeline.topic,
    messageBytes: size.messageBytes,
    valueOf: (index: number) => payloads.make(first + index, process.hrtime.bigint()),
  });
  const drainMillis = plan.endToEnd.drainTimeoutSeconds * 1000;

  const warm = await produce(load(0), size.warmupMessages, plan.maxMeasureSeconds / 5, undefined);
  pipeline.nextSequence = warm;
  if (!(await tracker.waitForDelivered(warm, drainMillis))) {
    throw new Error(`only ${tracker.delivered} of ${warm} warm-up messages consumed after ${drainMillis} ms`);
  }

  const latency = new LatencyHistogram();
  tracker.measure(warm, latency);
  const meter = new ProcessMeter(env.metered());
  meter.begin();
  const startNanos = process.hrtime.bigint();
  const sent = await produce(load(warm), size.messages, plan.maxMeasureSeconds, undefined);
  pipeline.nextSequence += sent;
  const drained = await tracker.waitForMeasured(sent, drainMillis);
  const { processes, machine } = meter.end();
  const consumed = tracker.measuredDelivered;
  const seconds = Number(tracker.lastMeasuredNanos - startNanos) / 1e9;
  context.log(`  ${formatSize(size.messageBytes)}: ${Math.round(consumed / seconds)} msg/s end to end`);
  const notes = [`${sent} measured messages sent, ${consumed} consumed`];
  if (!drained) notes.push(`${sent - consumed} sent messages not consumed within ${drainMillis} ms`);
  notes.push(...problemNotes(pipeline));
  return {
    variant: '',
    messageBytes: size.messageBytes,
    messages: consumed,
    seconds,
    latency: latency.summary(),
    processes,
    machine,
    notes,
  };
}

/**
 * Open loop at a latency target's rate, after the closed-loop row: one produce
 * call per message, its payload stamped with its intended send time.
 */
async function measureFixedRate(
  context: ScenarioContext,
  pipeline: Pipeline,
  target: LatencyTarget,
): Promise<ThroughputRow> {
  const { plan, env } = context;
  const { tracker, payloads, producer, topic } = pipeline;
  const count = Math.max(1, Math.round(target.messagesPerSecond * plan.fixedRates.secondsPerRate));
  const first = pipeline.nextSequence;
  pipeline.nextSequence += count;
  const latency = new LatencyHistogram();
  const acked = new LatencyHistogram();
  tracker.measure(first, latency);
  const meter = new ProcessMeter(env.metered());
  meter.begin();
  const sends = await sendOnSchedule(
    count,
    target.messagesPerSecond,
    (index, intendedNanos) => producer.send(topic, payloads.make(first + index, intendedNanos)),
    acked,
  );
  const drainMillis = plan.endToEnd.drainTimeoutSeconds * 1000;
  const drained = await tracker.waitForMeasured(count, drainMillis);
  await waitForAnswers(sends.answers, drainMillis);
  const { processes, machine } = meter.end();
  const received = tracker.measuredDelivered;
  const seconds = Number(tracker.lastMeasuredNanos - sends.startNanos) / 1e9;
  const variant = fixedRateVariant(target.messagesPerSecond);
  const p99 = latency.summary().p99Millis;
  context.log(`  ${formatSize(target.messageBytes)} at ${variant}: p99 ${p99.toFixed(1)} ms`);
  const notes = [
    `${targetNote(target)}; ${count} messages scheduled over ${plan.fixedRates.secondsPerRate} s, sent in ` +
      `${sends.sendSeconds.toFixed(2)} s`,
    `produce acknowledged (from the intended send to its delivery report; ${acked.summary().count} reports), ` +
      `p50 / p99 / p99.9 / max: ${formatLatencySummary(acked.summary())} ms`,
  ];
  if (sends.lateSends > 0) notes.push(`${sends.lateSends} sends left more than 2 ms after their intended time`);
  if (!drained) notes.push(`${count - received} messages not consumed within ${drainMillis} ms`);
  notes.push(...problemNotes(pipeline));
  return {
    variant,
    messageBytes: target.messageBytes,
    messages: received,
    seconds,
    latency: latency.summary(),
    processes,
    machine,
    notes,
    target,
  };
}

/** Duplicates and failed consume calls so far, if any. */
function problemNotes({ tracker, consumer }: Pipeline): string[] {
  const notes: string[] = [];
  if (tracker.duplicates > 0) notes.push(`${tracker.duplicates} messages consumed twice`);
  if (consumer.failedCalls > 0)
    notes.push(`${consumer.failedCalls} consume calls failed, the last: ${consumer.lastFailure}`);
  return notes;
}
