import type { SizePlan } from '../bench-plan';
import { meterTool, startKafkaTool } from '../kafka-tools';
import { formatSize } from '../payloads';
import { benchKafka, createRawTopics, deleteRawTopics, rawTopicPrefix } from '../raw-topics';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';

/** What ProducerPerformance prints last: its totals. */
export interface PerfSummary {
  records: number;
  recordsPerSecond: number;
  avgLatencyMillis: number;
  maxLatencyMillis: number;
  p50Millis: number;
  p99Millis: number;
  p999Millis: number;
}

/** The ceiling: Kafka's own Java producer, as `kafka-producer-perf-test` runs it, from the broker's jars. */
export const kafkaPerfProducer: Scenario = {
  name: 'kafka-perf-producer',
  baselines: [{ scenario: 'raw-kafkajs-produce' }],
  skippedBy: (plan) => (plan.ceiling ? undefined : 'no JVM tools in this mode'),
  description:
    "Kafka's own org.apache.kafka.tools.ProducerPerformance (kafka-producer-perf-test) from the same jars, " +
    'acks=all, idempotent, no throttle, batch.size 1 MiB (linger.ms its default, 5); figures are its ' +
    'steady-state line, after the warm-up records; latency is per record, as the tool reports it.',
  async run(context) {
    const kafka = benchKafka(context.env.kafkaBrokers, 'herald-bench-perf');
    const rows: ThroughputRow[] = [];
    for (const size of context.plan.sizes) {
      const topic = perfProducerTopic(context, size.messageBytes);
      await createRawTopics(kafka, [{ name: topic, partitions: context.plan.partitions }]);
      try {
        rows.push(await measureSize(context, topic, size));
        // `kafka-perf-consumer` reads it next, which spares it a JVM start and a write per size.
        context.env.keepRawTopic(topic);
      } catch (error) {
        await deleteRawTopics(kafka, [topic], context.log);
        throw error;
      }
    }
    return { kind: 'throughput', rows };
  },
};

/** The topic the tool writes `messages + warmupMessages` records of one size to, in this run. */
export function perfProducerTopic(context: ScenarioContext, messageBytes: number): string {
  return `${rawTopicPrefix}perf-${messageBytes}-${context.runId}`;
}

async function measureSize(context: ScenarioContext, topic: string, size: SizePlan): Promise<ThroughputRow> {
  const { env } = context;
  const tool = await startProducerPerformance(context, topic, size, `herald-bench-perf-${size.messageBytes}`);
  const { processes, machine, output } = await meterTool(tool, (client) => env.metered(client));
  const summary = parsePerfSummary(output);
  if (!summary) throw new Error(`ProducerPerformance printed no summary:\n${output.slice(-2000)}`);
  const seconds = summary.records / summary.recordsPerSecond;
  context.log(`  ${formatSize(size.messageBytes)}: ${Math.round(summary.recordsPerSecond)} msg/s`);
  // The metered CPU covers the warm-up records too: scale it to the measured ones.
  const measuredShare = summary.records / (size.messages + size.warmupMessages);
  return {
    variant: '',
    messageBytes: size.messageBytes,
    messages: summary.records,
    seconds,
    latency: {
      count: summary.records,
      p50Millis: summary.p50Millis,
      p99Millis: summary.p99Millis,
      p999Millis: summary.p999Millis,
      maxMillis: summary.maxLatencyMillis,
    },
    processes: processes.map((usage) => ({ ...usage, cpuSeconds: usage.cpuSeconds * measuredShare })),
    machine,
    notes: [
      `tool summary: ${summaryLine(output) ?? '(none)'}`,
      'client CPU: the JVM from its start, scaled to the measured share of the records, sampled every 200 ms',
    ],
  };
}

/**
 * Starts ProducerPerformance writing `size.messages` records after
 * `size.warmupMessages` warm-up ones, with Herald's durability.
 */
export function startProducerPerformance(context: ScenarioContext, topic: string, size: SizePlan, clientId: string) {
  const { env } = context;
  return startKafkaTool(env.kafkaLibs, 'ProducerPerformance', [
    '--bootstrap-server',
    env.kafkaBrokers.join(','),
    '--topic',
    topic,
    '--num-records',
    String(size.messages + size.warmupMessages),
    '--warmup-records',
    String(size.warmupMessages),
    '--record-size',
    String(size.messageBytes),
    '--throughput',
    '-1',
    '--command-property',
    'acks=all',
    'enable.idempotence=true',
    // Batches of up to 1 MiB, as large as the Node.js scenarios send; the 16 KiB default halves the rate or worse.
    'batch.size=1048576',
    `client.id=${clientId}`,
  ]);
}

const summaryPattern =
  /(\d+) (?:steady state )?records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/;

/** The last line with percentiles: with warm-up records, the steady-state one (the warm-up left out). */
function summaryLine(output: string): string | undefined {
  return output
    .split('\n')
    .filter((line) => summaryPattern.test(line))
    .at(-1)
    ?.trim();
}

/** Parses the tool's final line, e.g. `1000 records sent, 5000.0 records/sec (0.48 MB/sec), 3.1 ms avg latency, ...`. */
export function parsePerfSummary(output: string): PerfSummary | undefined {
  const line = summaryLine(output);
  const match = line === undefined ? null : summaryPattern.exec(line);
  if (!match) return undefined;
  const number = (i: number) => Number(match[i]);
  return {
    records: number(1),
    recordsPerSecond: number(2),
    avgLatencyMillis: number(4),
    maxLatencyMillis: number(5),
    p50Millis: number(6),
    p99Millis: number(8),
    p999Millis: number(9),
  };
}
