#!/usr/bin/env node
/**
 * `make bench` / `make bench-quick`: starts a Kafka (unless KAFKA_BROKERS names
 * one) and a Herald stack, runs every scenario one after the other on them,
 * writes `bench/results/<timestamp>/report.md` and `report.json`, and stops
 * everything it started, also on failure or Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { LocalKafkaCluster } from '@herald/local-kafka';
import { BenchEnvironment, benchKafkaDir, benchTopicPrefix } from './bench-environment';
import { benchPlan, type BenchPlan } from './bench-plan';
import { type BenchReport, type ScenarioOutcome, writeReport } from './report';
import { parseRunOptions } from './run-options';
import type { Scenario } from './scenario';
import { heraldPublish } from './scenarios/herald-publish';
import { kafkaPerfProducer } from './scenarios/kafka-perf-producer';
import { rawKafkajsProduce } from './scenarios/raw-kafkajs-produce';
import { registryReplay } from './scenarios/registry-replay';

/** Every scenario, in the order they run: the baseline first, since the others are compared with it. */
const scenarios: Scenario[] = [rawKafkajsProduce, heraldPublish, kafkaPerfProducer, registryReplay];

const runStarted = Date.now();
const say = (line: string) =>
  console.log(`[bench ${((Date.now() - runStarted) / 1000).toFixed(0).padStart(4)}s] ${line}`);

async function main(): Promise<number> {
  const options = parseRunOptions(
    process.argv.slice(2),
    scenarios.map((s) => s.name),
  );
  const plan = benchPlan(options.mode);
  const selected = scenarios.filter(
    (s) => (options.only === undefined || options.only.includes(s.name)) && (plan.ceiling || s !== kafkaPerfProducer),
  );
  const startedAt = new Date(runStarted).toISOString().replace(/\.\d+Z$/, 'Z');
  const resultsDir = path.join(options.resultsRoot, startedAt.replace(/:/g, '-'));
  say(`mode ${plan.mode}: ${selected.map((s) => s.name).join(', ')}; results in ${resultsDir}`);

  stopOnSignals();
  const env = await BenchEnvironment.start({ logDir: path.join(resultsDir, 'logs'), log: say });
  running = env;
  const outcomes: ScenarioOutcome[] = [];
  try {
    const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    for (const scenario of selected) {
      say(`${scenario.name}`);
      const outcome: ScenarioOutcome = { name: scenario.name, description: scenario.description };
      try {
        outcome.result = await scenario.run({ env, plan, runId, log: say });
      } catch (error) {
        outcome.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
        say(`${scenario.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      outcomes.push(outcome);
    }
  } finally {
    say('stopping the services and Kafka');
    await env.stop(say);
  }
  const report: BenchReport = {
    startedAt,
    durationSeconds: (Date.now() - runStarted) / 1000,
    plan,
    setting: describeSetting(env, plan),
    scenarios: outcomes,
  };
  const file = writeReport(resultsDir, report);
  say(`report: ${file}`);
  return outcomes.some((o) => o.error !== undefined) ? 1 : 0;
}

function describeSetting(env: BenchEnvironment, plan: BenchPlan): string[] {
  const cpus = os.cpus();
  const kafka = env.localKafka
    ? `Kafka ${env.kafkaVersion}, one local broker started for the run (replication factor 1, min ISR 1)`
    : `Kafka at KAFKA_BROKERS=${env.kafkaBrokers.join(',')} (jars ${env.kafkaVersion} for the tools)`;
  return [
    `machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `${os.type()} ${os.release()}`,
    `Node.js ${process.version}; ${kafka}`,
    `Herald: 1 registry, 1 publisher, default settings, topic prefix \`${benchTopicPrefix}\`; every topic has ` +
      `${plan.partitions} partitions; ${plan.publishCallers} Publish callers over ${plan.publishChannels} connections`,
    `logs of the services: ${env.logDir}`,
  ];
}

/** The environment once it is up, for the signal handler. */
let running: BenchEnvironment | undefined;

/**
 * Stops whatever is running. Before the environment is up, a broker already
 * recorded in our Kafka folder is stopped all the same (services started by
 * this process die with it: devstack kills them on exit).
 */
async function stopEverything(): Promise<void> {
  if (running) await running.stop();
  else if (!process.env.KAFKA_BROKERS) await LocalKafkaCluster.stopLeftovers(benchKafkaDir);
}

/** Ctrl-C or a kill stops the services and Kafka before exiting. */
function stopOnSignals(): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the services and Kafka`);
    void stopEverything()
      .catch(() => undefined)
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (!running) await stopEverything().catch(() => undefined);
    process.exit(2);
  },
);
