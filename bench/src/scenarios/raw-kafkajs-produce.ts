import type { Kafka } from 'kafkajs';
import { LatencyHistogram } from '../latency-histogram';
import { formatSize, randomPayloads } from '../payloads';
import { ProcessMeter } from '../process-stats';
import { RawProducers } from '../raw-producers';
import { benchKafka, createRawTopics, deleteRawTopics, rawTopicPrefix } from '../raw-topics';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';

/**
 * How the baseline produces: the most messages per second one Node.js process
 * got from kafkajs on the 2-core benchmark machine with Herald's durability
 * (idempotent, acks=all), among 2 to 8 producers and batches of 250 to 2000
 * messages. Small messages gain most from big batches (100 B: 2000 per send
 * ran about twice as fast as 500); from 1 KB on, the 1 MiB cap decides.
 *
 * One send in flight per producer, as Herald's publisher does: with two sends
 * in flight, kafkajs idempotent producers failed with
 * OUT_OF_ORDER_SEQUENCE_NUMBER within seconds in the tuning runs.
 */
export const rawProduceSettings = {
  /** Idempotent producers, each with its own connection and one `sendBatch` in flight. */
  producers: 4,
  /** Messages per `sendBatch`, unless that would exceed {@link rawProduceSettings.maxBatchBytes}. */
  batchMessages: 2000,
  /** Payload bytes per `sendBatch`: the broker takes at most 1 MiB per partition in one request. */
  maxBatchBytes: 1024 * 1024,
};

/** Messages per `sendBatch` for one message size. */
export function rawBatchMessages(messageBytes: number): number {
  return Math.max(
    1,
    Math.min(rawProduceSettings.batchMessages, Math.floor(rawProduceSettings.maxBatchBytes / messageBytes)),
  );
}

/** The baseline: the best one Node.js process gets from kafkajs with acks=all and idempotence. */
export const rawKafkajsProduce: Scenario = {
  name: 'raw-kafkajs-produce',
  description:
    `kafkajs in this process: ${rawProduceSettings.producers} idempotent producers, each with one sendBatch ` +
    `(acks=-1) of up to ${rawProduceSettings.batchMessages} messages and 1 MiB in flight, onto one topic; ` +
    'latency is per sendBatch.',
  async run(context) {
    const kafka = benchKafka(context.env.kafkaBrokers, 'herald-bench-raw');
    const rows: ThroughputRow[] = [];
    for (const size of context.plan.sizes) {
      rows.push(await measureSize(context, kafka, size.messageBytes, size.messages, size.warmupMessages));
    }
    return { kind: 'throughput', rows };
  },
};

async function measureSize(
  context: ScenarioContext,
  kafka: Kafka,
  messageBytes: number,
  messages: number,
  warmupMessages: number,
): Promise<ThroughputRow> {
  const topic = `${rawTopicPrefix}kafkajs-${messageBytes}-${context.runId}`;
  await createRawTopics(kafka, [{ name: topic, partitions: context.plan.partitions }]);
  let producers: RawProducers | undefined;
  try {
    producers = await RawProducers.connect(kafka, rawProduceSettings.producers);
    const payloads = randomPayloads(messageBytes);
    const valueOf = (index: number) => payloads[index % payloads.length]!;
    const maxSeconds = context.plan.maxMeasureSeconds;
    await produce({ producers, topic, messageBytes, valueOf }, warmupMessages, maxSeconds / 5, undefined);
    const meter = new ProcessMeter(context.env.metered());
    const latency = new LatencyHistogram();
    meter.begin();
    const sent = await produce({ producers, topic, messageBytes, valueOf }, messages, maxSeconds, latency);
    const { seconds, processes, machine } = meter.end();
    context.log(`  ${formatSize(messageBytes)}: ${Math.round(sent / seconds)} msg/s`);
    return {
      variant: '',
      messageBytes,
      messages: sent,
      seconds,
      latency: latency.summary(),
      processes,
      machine,
      notes: replacedNote(producers),
    };
  } finally {
    await producers?.disconnect();
    await deleteRawTopics(kafka, [topic], context.log);
  }
}

/** A note for the report when producers had to be replaced (see {@link RawProducers}). */
export function replacedNote(producers: RawProducers): string[] {
  return producers.replaced > 0
    ? [
        `${producers.replaced} producer(s) replaced after OUT_OF_ORDER_SEQUENCE_NUMBER (kafkajs), their batch sent again`,
      ]
    : [];
}

/** Where {@link produce} sends, and what. */
export interface ProduceLoad {
  /** Idempotent producers, each with one `sendBatch` in flight. */
  producers: RawProducers;
  topic: string;
  messageBytes: number;
  /** The value of the `index`-th message of this call (0 to count - 1), made when its batch is sent. */
  valueOf: (index: number) => Buffer;
}

/**
 * Sends up to `count` messages in batches, every producer taking the next batch
 * as soon as its last one is acknowledged, for at most `maxSeconds`. Resolves
 * with the messages acknowledged.
 */
export async function produce(
  load: ProduceLoad,
  count: number,
  maxSeconds: number,
  latency: LatencyHistogram | undefined,
): Promise<number> {
  const batchMessages = rawBatchMessages(load.messageBytes);
  const deadline = Date.now() + maxSeconds * 1000;
  let next = 0;
  let acknowledged = 0;
  const sendLoop = async (producer: number) => {
    while (next < count && Date.now() < deadline) {
      const first = next;
      const size = Math.min(batchMessages, count - first);
      next += size;
      const batch = Array.from({ length: size }, (_, i) => ({ value: load.valueOf(first + i) }));
      const started = process.hrtime.bigint();
      await load.producers.sendBatch(producer, load.topic, batch);
      latency?.recordSince(started);
      acknowledged += size;
    }
  };
  await Promise.all(Array.from({ length: load.producers.count }, (_, producer) => sendLoop(producer)));
  return acknowledged;
}
