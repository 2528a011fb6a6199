import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ServiceProcess } from '@herald/devstack';
import { KafkaNames } from '@herald/kafka';
import { freePort } from '@herald/local-kafka';
import type { Kafka } from 'kafkajs';
import { sampleProcess } from '../process-stats';
import { benchKafka, createRawTopics, deleteRawTopics } from '../raw-topics';
import { type RegistryLogMessage, subscriptionCreatedMessage, topicCreatedMessage } from '../registry-records';
import type { Scenario, ScenarioContext, StartupRow } from '../scenario';

const replayedLogLine = 'registry state replayed from the log';
const topicName = 'replayed';
const topicPartitions = 3;

/** How long a registry takes to start when its log holds many subscriptions. */
export const registryReplay: Scenario = {
  name: 'registry-replay',
  description:
    'a registry process started on a log written beforehand (one topic and N subscriptions, in the ' +
    "registry's record format, under a prefix of its own); time from spawn until its health check says " +
    'SERVING (polled every 100 ms), and the replay time it logs. The empty log shows the fixed start-up cost.',
  async run(context) {
    const kafka = benchKafka(context.env.kafkaBrokers, 'herald-bench-replay');
    const rows: StartupRow[] = [];
    for (const subscriptions of [0, context.plan.registrySubscriptions]) {
      rows.push(await measureReplay(context, kafka, subscriptions));
    }
    return { kind: 'startup', rows };
  },
};

async function measureReplay(context: ScenarioContext, kafka: Kafka, subscriptions: number): Promise<StartupRow> {
  // Not under the stack's `bench.` prefix: its registry would take these topics for its own.
  const names = new KafkaNames(`benchreplay-${subscriptions}-${context.runId}.`);
  const logTopic = names.registryLog();
  // The topic's Kafka topic exists as the registry would have left it; with an empty log there is none
  // (the registry would delete it at start-up, as the topic of a deleted Herald topic).
  const topics = subscriptions === 0 ? [logTopic] : [logTopic, names.topic(topicName)];
  const replicationFactor = await createRawTopics(
    kafka,
    topics.map((name) =>
      name === logTopic
        ? // As the registry creates its log (RegistryLog.start): one compacted partition.
          { name, partitions: 1, configs: { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1' } }
        : { name, partitions: topicPartitions },
    ),
  );
  let registry: ServiceProcess | undefined;
  try {
    const writeStarted = Date.now();
    const records = subscriptions === 0 ? [] : logMessages(subscriptions, replicationFactor);
    await writeLog(kafka, logTopic, records);
    const writeSeconds = (Date.now() - writeStarted) / 1000;
    const logFile = path.join(context.env.logDir, `registry-replay-${subscriptions}.log`);
    const spawned = Date.now();
    registry = await ServiceProcess.start({
      service: 'subscriber-registry',
      port: await freePort(),
      logFile,
      readyTimeoutMillis: 120_000,
      env: {
        KAFKA_BROKERS: context.env.kafkaBrokers.join(','),
        HERALD_TOPIC_PREFIX: names.prefix,
        HERALD_INSTANCE_ID: `registry-replay-${subscriptions}`,
      },
    });
    const spawnToServingMillis = Date.now() - spawned;
    // Since spawn: the process's whole CPU time and peak memory are those of its start-up.
    const usage = sampleProcess(registry.pid);
    const replayed = await readReplayedLine(logFile);
    if (replayed.subscriptions !== subscriptions || replayed.topics !== (subscriptions === 0 ? 0 : 1)) {
      throw new Error(
        `the registry replayed ${replayed.topics} topic(s) and ${replayed.subscriptions} subscription(s), ` +
          `not ${subscriptions}: has the registry's record format changed? (bench/src/registry-records.ts)`,
      );
    }
    context.log(`  ${subscriptions} subscriptions: SERVING after ${spawnToServingMillis} ms`);
    return {
      variant: subscriptions === 0 ? 'empty log' : `${subscriptions} subscriptions`,
      records: records.length,
      writeSeconds,
      spawnToServingMillis,
      replayMillis: replayed.replayMillis,
      processes: [
        { role: 'registry', pid: registry.pid, cpuSeconds: usage.cpuSeconds, peakRssBytes: usage.peakRssBytes },
      ],
      notes: [],
    };
  } finally {
    await registry?.stop();
    await deleteRawTopics(kafka, topics, context.log);
  }
}

function logMessages(subscriptions: number, replicationFactor: number): RegistryLogMessage[] {
  const now = Date.now();
  const width = String(subscriptions).length;
  return [
    topicCreatedMessage(topicName, topicPartitions, replicationFactor, now),
    ...Array.from({ length: subscriptions }, (_, i) =>
      subscriptionCreatedMessage(`sub-${String(i).padStart(width, '0')}`, topicName, topicPartitions, now),
    ),
  ];
}

/** Plain writes: the registry reads read_committed, which passes non-transactional records. */
async function writeLog(kafka: Kafka, topic: string, records: RegistryLogMessage[]): Promise<void> {
  if (records.length === 0) return;
  const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 1000) {
      await producer.send({ topic, acks: -1, messages: records.slice(i, i + 1000) });
    }
  } finally {
    await producer.disconnect();
  }
}

interface ReplayedLine {
  topics: number;
  subscriptions: number;
  replayMillis: number;
}

/** The registry's log line after replay; its logger writes asynchronously, so it may lag SERVING a little. */
async function readReplayedLine(logFile: string): Promise<ReplayedLine> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const line = readFileSync(logFile, 'utf8')
      .split('\n')
      .find((text) => text.includes(replayedLogLine));
    if (line) return JSON.parse(line) as ReplayedLine;
    if (Date.now() > deadline) throw new Error(`no "${replayedLogLine}" line in ${logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
