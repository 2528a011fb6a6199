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
import { describeClients } from './client-versions';
import { summarizeProfile } from './cpu-profile';
import { type BenchReport, type ScenarioOutcome, type ScenarioProfiles, writeReport } from './report';
import { parseRunOptions } from './run-options';
import type { Scenario, ScenarioContext } from './scenario';
import { allScenarios as scenarios } from './scenarios';

const runStarted = Date.now();
const say = (line: string) =>
  console.log(`[bench ${((Date.now() - runStarted) / 1000).toFixed(0).padStart(4)}s] ${line}`);

async function main(): Promise<number> {
  const options = parseRunOptions(
    process.argv.slice(2),
    scenarios.map((s) => s.name),
  );
  const plan = benchPlan(options.mode);
  const selected = scenarios.filter((s) => options.only === undefined || options.only.includes(s.name));
  const startedAt = new Date(runStarted).toISOString().replace(/\.\d+Z$/, 'Z');
  const resultsDir = path.join(options.resultsRoot, startedAt.replace(/:/g, '-'));
  say(`mode ${plan.mode}: ${selected.map((s) => s.name).join(', ')}; results in ${resultsDir}`);

  stopOnSignals();
  const env = await BenchEnvironment.start({
    logDir: path.join(resultsDir, 'logs'),
    heraldStack: selected.some((s) => s.usesHeraldStack === true && s.skippedBy?.(plan) === undefined),
    dispatchers: plan.dispatchers,
    profileDir: options.profile ? path.join(resultsDir, 'profiles') : undefined,
    log: say,
  });
  running = env;
  const outcomes: ScenarioOutcome[] = [];
  const profiles: ScenarioProfiles[] = [];
  try {
    const context: ScenarioContext = {
      env,
      plan,
      runId: `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`,
      log: say,
      resultOf: (name) => outcomes.find((o) => o.name === name)?.result,
    };
    for (const scenario of selected) {
      const outcome: ScenarioOutcome = {
        name: scenario.name,
        description: scenario.description,
        baselines: scenario.baselines,
      };
      outcomes.push(outcome);
      outcome.skipped = scenario.skippedBy?.(plan);
      if (outcome.skipped !== undefined) {
        say(`${scenario.name}: skipped (${outcome.skipped})`);
        continue;
      }
      say(`${scenario.name}`);
      const profiling = options.profile && scenario.profiled === true;
      if (profiling) env.startProfiling();
      try {
        outcome.result = await scenario.run(context);
      } catch (error) {
        outcome.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
        say(`${scenario.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        if (profiling) profiles.push(await collectProfiles(env, scenario));
        await env.endScenario(say);
      }
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
    ...(options.profile ? { profiles } : {}),
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
    describeClients(),
    (env.stack
      ? `Herald: 1 registry, 1 publisher, ${plural(env.dispatchers.length, 'dispatcher')}, default settings, ` +
        `topic prefix \`${benchTopicPrefix}\``
      : 'no Herald stack (no scenario of this run uses one)') +
      `; every topic has ${plan.partitions} partitions; \`herald-publish\`: ` +
      `${plan.publishCallers} Publish callers over ${plan.publishChannels} connections; end to end: SDK Publisher ` +
      `with ${plan.endToEnd.publishCallers} concurrent callers and batches of up to ${plan.endToEnd.batchMessages}, ` +
      `SDK Subscriber with flow control ${plan.endToEnd.maxOutstandingMessages} messages` +
      (env.profileDir ? '; the publisher and dispatcher run with the profiling hook (`--profile`)' : ''),
    `logs of the services: ${env.logDir}`,
  ];
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Stops the profiles of a scenario and summarizes them; a profile that cannot be read is left out. */
async function collectProfiles(env: BenchEnvironment, scenario: Scenario): Promise<ScenarioProfiles> {
  const files = await env.stopProfiling();
  const summaries = files.flatMap(({ role, file }) => {
    try {
      return [summarizeProfile(role, file)];
    } catch (error) {
      say(`could not read the profile ${file}: ${(error as Error).message}`);
      return [];
    }
  });
  say(`profiles of ${scenario.name}: ${files.map((f) => path.basename(f.file)).join(', ') || 'none'}`);
  return { scenario: scenario.name, summaries };
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
