import type { Consumer, Kafka } from 'kafkajs';
import type { SizePlan } from '../bench-plan';
import { DeliveryTracker } from '../delivery-tracker';
import { LatencyHistogram } from '../latency-histogram';
import { formatSize } from '../payloads';
import { ProcessMeter } from '../process-stats';
import { benchKafka, createRawTopics, deleteRawTopics, rawTopicPrefix } from '../raw-topics';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { StampedPayloads } from '../stamped-payloads';
import { RawProducers } from '../raw-producers';
import { produce, rawProduceSettings } from '../closed-loop-produce';

/** The variant of the row that reads a topic already written, for the consumer ceiling's ratio. */
export const consumeOnlyVariant = 'consume only';

/**
 * As the dispatcher reads: one fetch in flight, a fetch waiting at most 50 ms
 * for data, offsets committed every second.
 */
const consumerSettings = { maxWaitTimeInMs: 50, autoCommitInterval: 1_000 };

/** The end-to-end baseline: kafkajs producers and a kafkajs consumer in this process, nothing in between. */
export const rawKafkajsEndToEnd: Scenario = {
  name: 'raw-kafkajs-end-to-end',
  description:
    `kafkajs in this process, producing as \`raw-kafkajs-produce\` does (${rawProduceSettings.lanes} ` +
    'idempotent producers, acks=-1, one sendBatch each in flight) while one consumer of its own group reads ' +
    'the topic with eachBatch (maxWaitTimeInMs 50, offsets auto-committed every second). Throughput counts ' +
    'messages consumed, from the first measured send to the last measured message consumed; latency is from ' +
    'the send time stamped in each payload (when its batch was sent) to its arrival in eachBatch. The ' +
    `\`${consumeOnlyVariant}\` row then reads the same topic again with a new group, from the first message ` +
    'received to the last (without the group join): what a kafkajs consumer alone reaches.',
  async run(context) {
    const kafka = benchKafka(context.env.kafkaBrokers, 'herald-bench-raw-e2e');
    const rows: ThroughputRow[] = [];
    for (const size of context.plan.sizes) rows.push(...(await measureSize(context, kafka, size)));
    return { kind: 'throughput', rows };
  },
};

async function measureSize(context: ScenarioContext, kafka: Kafka, size: SizePlan): Promise<ThroughputRow[]> {
  const { plan, env, runId } = context;
  const topic = `${rawTopicPrefix}e2e-${size.messageBytes}-${runId}`;
  await createRawTopics(kafka, [{ name: topic, partitions: plan.partitions }]);
  const total = size.warmupMessages + size.messages;
  const tracker = new DeliveryTracker(total);
  let producers: RawProducers | undefined;
  const consumers: Consumer[] = [];
  try {
    await startConsumer(kafka, consumers, `${topic}.e2e`, topic, plan.partitions, (value, now) =>
      tracker.record(value, now),
    );
    const connected = await RawProducers.connect(kafka, rawProduceSettings.lanes);
    producers = connected;
    const payloads = new StampedPayloads(size.messageBytes);
    const load = (first: number) => ({
      sender: connected,
      topic,
      messageBytes: size.messageBytes,
      valueOf: (index: number) => payloads.make(first + index, process.hrtime.bigint()),
    });
    const drainMillis = plan.endToEnd.drainTimeoutSeconds * 1000;

    const warm = await produce(load(0), size.warmupMessages, plan.maxMeasureSeconds / 5, undefined);
    if (!(await tracker.waitForDelivered(warm, drainMillis))) {
      throw new Error(`only ${tracker.delivered} of ${warm} warm-up messages consumed after ${drainMillis} ms`);
    }

    const latency = new LatencyHistogram();
    tracker.measure(warm, latency);
    const meter = new ProcessMeter(env.metered());
    meter.begin();
    const startNanos = process.hrtime.bigint();
    const sent = await produce(load(warm), size.messages, plan.maxMeasureSeconds, undefined);
    const drained = await tracker.waitForMeasured(sent, drainMillis);
    const { processes, machine } = meter.end();
    const consumed = tracker.measuredDelivered;
    const seconds = Number(tracker.lastMeasuredNanos - startNanos) / 1e9;
    context.log(`  ${formatSize(size.messageBytes)}: ${Math.round(consumed / seconds)} msg/s end to end`);
    const notes = [`${sent} measured messages sent, ${consumed} consumed`, ...connected.notes()];
    if (!drained) notes.push(`${sent - consumed} sent messages not consumed within ${drainMillis} ms`);
    if (tracker.duplicates > 0) notes.push(`${tracker.duplicates} messages consumed twice`);
    const endToEnd: ThroughputRow = {
      variant: '',
      messageBytes: size.messageBytes,
      messages: consumed,
      seconds,
      latency: latency.summary(),
      processes,
      machine,
      notes,
    };

    const reread = await consumeOnly(context, kafka, topic, consumers);
    return [endToEnd, { ...reread, messageBytes: size.messageBytes }];
  } finally {
    await producers?.close();
    await Promise.all(consumers.map((consumer) => consumer.disconnect().catch(() => undefined)));
    await deleteRawTopics(kafka, [topic], context.log);
  }
}

/** Reads the whole topic again with a new group: the consumer alone, from first to last record. */
async function consumeOnly(
  context: ScenarioContext,
  kafka: Kafka,
  topic: string,
  consumers: Consumer[],
): Promise<ThroughputRow> {
  const { plan, env } = context;
  // Records, not messages: a batch sent again after OUT_OF_ORDER_SEQUENCE_NUMBER may be in the log twice.
  const count = await recordsIn(kafka, topic);
  let consumed = 0;
  let firstNanos = 0n;
  let lastNanos = 0n;
  const meter = new ProcessMeter(env.metered());
  meter.begin();
  await startConsumer(kafka, consumers, `${topic}.reread`, topic, plan.partitions, (_value, now) => {
    if (consumed++ === 0) firstNanos = now;
    lastNanos = now;
  });
  const deadline = Date.now() + (plan.maxMeasureSeconds + plan.endToEnd.drainTimeoutSeconds) * 1000;
  while (consumed < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const { processes, machine } = meter.end();
  const seconds = Number(lastNanos - firstNanos) / 1e9;
  context.log(`  ${consumeOnlyVariant}: ${Math.round(consumed / seconds)} msg/s`);
  const notes = [`${consumed} of the topic's ${count} records read; CPU over the whole read, the group join included`];
  return {
    variant: consumeOnlyVariant,
    messageBytes: 0,
    messages: consumed,
    seconds,
    latency: undefined,
    processes,
    machine,
    notes,
  };
}

/** Records in a topic: the sum of its partitions' high watermarks (the topic starts at offset 0). */
async function recordsIn(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/**
 * A consumer of its own group, reading `topic` from the beginning; `onMessage`
 * gets each value with the time it reached eachBatch. Added to `consumers` at
 * once (for the caller to disconnect); resolves once it has its partitions.
 */
async function startConsumer(
  kafka: Kafka,
  consumers: Consumer[],
  groupId: string,
  topic: string,
  partitions: number,
  onMessage: (value: Buffer | null, nowNanos: bigint) => void,
): Promise<void> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: consumerSettings.maxWaitTimeInMs });
  consumers.push(consumer);
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommitInterval: consumerSettings.autoCommitInterval,
    partitionsConsumedConcurrently: partitions,
    eachBatch: async ({ batch, heartbeat }) => {
      for (const message of batch.messages) onMessage(message.value, process.hrtime.bigint());
      await heartbeat();
    },
  });
  await joined;
}
