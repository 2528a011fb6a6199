import type { SizePlan } from '../bench-plan';
import { meterTool, startKafkaTool } from '../kafka-tools';
import { formatSize } from '../payloads';
import { benchKafka, createRawTopics, deleteRawTopics, rawTopicPrefix } from '../raw-topics';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { perfProducerTopic, startProducerPerformance } from './kafka-perf-producer';
import { consumeOnlyVariant, rawKafkajsEndToEnd } from './raw-kafkajs-end-to-end';

/** What ConsumerPerformance prints: one line of totals under a header of column names. */
export interface ConsumerPerfSummary {
  /** Records consumed. */
  records: number;
  /** Time spent fetching, without the group join. */
  fetchMillis: number;
  /** Records per second over `fetchMillis`. */
  fetchRecordsPerSecond: number;
  /** Time to join the group and get partitions. */
  rebalanceMillis: number;
}

/** The consumer ceiling: Kafka's own Java consumer, as `kafka-consumer-perf-test` runs it, from the broker's jars. */
export const kafkaPerfConsumer: Scenario = {
  name: 'kafka-perf-consumer',
  baselines: [{ scenario: rawKafkajsEndToEnd.name, variant: consumeOnlyVariant }],
  skippedBy: (plan) => (plan.ceiling ? undefined : 'no JVM tools in this mode'),
  description:
    "Kafka's own org.apache.kafka.tools.ConsumerPerformance (kafka-consumer-perf-test) from the same jars, " +
    'reading the topic `kafka-perf-producer` wrote (or one ProducerPerformance writes first, not measured), ' +
    'its first N records from the earliest offset, in a ' +
    'group of its own, fetch size 1 MiB per partition (its default); figures are its fetch time and rate, ' +
    `without the group join. Compared with the \`${consumeOnlyVariant}\` row of \`${rawKafkajsEndToEnd.name}\`, ` +
    'kafkajs reading a topic already written. With the counts of a quick run the tool reads for about a ' +
    'second in a cold JVM, so it understates the Java consumer; a full run reads several times more.',
  async run(context) {
    const kafka = benchKafka(context.env.kafkaBrokers, 'herald-bench-perf-consumer');
    const rows: ThroughputRow[] = [];
    for (const size of context.plan.sizes) {
      let topic = perfProducerTopic(context, size.messageBytes);
      if (!context.env.takeRawTopic(topic)) {
        topic = `${rawTopicPrefix}perf-consumer-${size.messageBytes}-${context.runId}`;
        await createRawTopics(kafka, [{ name: topic, partitions: context.plan.partitions }]);
        await fill(context, topic, size);
      }
      try {
        rows.push(await measureSize(context, topic, size));
      } finally {
        await deleteRawTopics(kafka, [topic], context.log);
      }
    }
    return { kind: 'throughput', rows };
  },
};

/** Writes `size.messages` records with ProducerPerformance, when `kafka-perf-producer` left no topic to read. */
async function fill(context: ScenarioContext, topic: string, size: SizePlan): Promise<void> {
  const tool = await startProducerPerformance(
    context,
    topic,
    { ...size, warmupMessages: 0 },
    `herald-bench-fill-${size.messageBytes}`,
  );
  // The tool has exited by the time `output` settles; its own timeout kills a stuck one.
  await tool.output;
}

async function measureSize(context: ScenarioContext, topic: string, size: SizePlan): Promise<ThroughputRow> {
  const { env } = context;
  const tool = await startKafkaTool(env.kafkaLibs, 'ConsumerPerformance', [
    '--bootstrap-server',
    env.kafkaBrokers.join(','),
    '--topic',
    topic,
    '--num-records',
    String(size.messages),
    '--group',
    `${topic}.perf`,
    '--timeout',
    '30000',
    '--command-property',
    `client.id=herald-bench-perf-consumer-${size.messageBytes}`,
  ]);
  // The group join is metered too.
  const { processes, machine, output } = await meterTool(tool, (client) => env.metered(client));
  const summary = parseConsumerPerfSummary(output);
  if (!summary) throw new Error(`ConsumerPerformance printed no summary:\n${output.slice(-2000)}`);
  context.log(`  ${formatSize(size.messageBytes)}: ${Math.round(summary.fetchRecordsPerSecond)} msg/s`);
  return {
    variant: '',
    messageBytes: size.messageBytes,
    messages: summary.records,
    seconds: summary.fetchMillis / 1000,
    latency: undefined,
    processes,
    machine,
    notes: [
      `tool summary: ${summary.records} records, fetch ${summary.fetchMillis} ms, group join ${summary.rebalanceMillis} ms`,
      'CPU µs/msg: over the whole tool run (JVM start and group join included), so the client figure is high',
    ],
  };
}

/**
 * Parses ConsumerPerformance's totals: a header line
 * `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec`
 * and the line of values under it.
 */
export function parseConsumerPerfSummary(output: string): ConsumerPerfSummary | undefined {
  const lines = output.split('\n').map((line) => line.trim());
  const headerAt = lines.findIndex((line) => line.includes('fetch.nMsg.sec'));
  if (headerAt < 0) return undefined;
  const header = lines[headerAt]!.split(/,\s*/);
  const values = (lines.slice(headerAt + 1).find((line) => line.length > 0) ?? '').split(/,\s*/);
  if (values.length !== header.length) return undefined;
  const field = (name: string) => Number(values[header.indexOf(name)]);
  const summary = {
    records: field('data.consumed.in.nMsg'),
    fetchMillis: field('fetch.time.ms'),
    fetchRecordsPerSecond: field('fetch.nMsg.sec'),
    rebalanceMillis: field('rebalance.time.ms'),
  };
  return Object.values(summary).every(Number.isFinite) ? summary : undefined;
}
