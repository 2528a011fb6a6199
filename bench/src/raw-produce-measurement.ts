import type { Kafka } from 'kafkajs';
import type { SizePlan } from './bench-plan';
import { type BatchSender, produce } from './closed-loop-produce';
import { LatencyHistogram } from './latency-histogram';
import { formatSize, randomPayloads } from './payloads';
import { ProcessMeter } from './process-stats';
import { benchKafka, createRawTopics, deleteRawTopics, rawTopicPrefix } from './raw-topics';
import type { ScenarioContext, ThroughputRow } from './scenario';

/** A raw Kafka client, connected, as the raw produce scenarios measure it. */
export interface RawProducerClient extends BatchSender {
  /** Facts for the report about what happened while sending (producers replaced...). */
  notes(): string[];
  close(): Promise<void>;
}

/** What differs between the raw produce scenarios: the client, and what to call its topics. */
export interface RawProducerKind {
  /** Part of the topic names, and of the admin's client id: `kafkajs`, `librdkafka`... */
  name: string;
  connect(brokers: string[]): Promise<RawProducerClient>;
}

/**
 * Measures one raw client producing at every size of the plan, each on a
 * topic of its own: a warm-up, then {@link produce}'s closed loop of batches,
 * the processes metered meanwhile. Latency is per batch.
 */
export async function measureRawProduce(context: ScenarioContext, kind: RawProducerKind): Promise<ThroughputRow[]> {
  const kafka = benchKafka(context.env.kafkaBrokers, `herald-bench-raw-${kind.name}`);
  const rows: ThroughputRow[] = [];
  for (const size of context.plan.sizes) rows.push(await measureSize(context, kafka, kind, size));
  return rows;
}

async function measureSize(
  context: ScenarioContext,
  kafka: Kafka,
  kind: RawProducerKind,
  size: SizePlan,
): Promise<ThroughputRow> {
  const { messageBytes } = size;
  const topic = `${rawTopicPrefix}${kind.name}-${messageBytes}-${context.runId}`;
  await createRawTopics(kafka, [{ name: topic, partitions: context.plan.partitions }]);
  let client: RawProducerClient | undefined;
  try {
    client = await kind.connect(context.env.kafkaBrokers);
    const payloads = randomPayloads(messageBytes);
    const load = {
      sender: client,
      topic,
      messageBytes,
      valueOf: (index: number) => payloads[index % payloads.length]!,
    };
    const maxSeconds = context.plan.maxMeasureSeconds;
    await produce(load, size.warmupMessages, maxSeconds / 5, undefined);
    const meter = new ProcessMeter(context.env.metered());
    const latency = new LatencyHistogram();
    meter.begin();
    const sent = await produce(load, size.messages, maxSeconds, latency);
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
      notes: client.notes(),
    };
  } finally {
    await client?.close();
    await deleteRawTopics(kafka, [topic], context.log);
  }
}
