#!/usr/bin/env node
/**
 * `make chaos`: starts a three-broker Kafka of its own (unless KAFKA_BROKERS
 * names one: then broker faults are skipped), runs every scenario against a
 * fresh two-of-each Herald deployment, writes `chaos/reports/<timestamp>.md`
 * (history files and service logs beside it, in `chaos/reports/<timestamp>/`),
 * and stops everything it started, also on failure or Ctrl-C. As root it
 * first re-runs itself in a network namespace of its own and puts each broker
 * in another (broker-network.ts), for the network partition.
 *
 * Options: `--only name,name` runs some scenarios; `--short` runs the short
 * versions; `--budget-minutes N` (default 19, plus the time the fan-out sets
 * take to create) skips scenarios that would not fit; `--fanout-subscriptions N`
 * sizes the fan-out set (default `CHAOS_FANOUT_SUBSCRIPTIONS`, or 200; 20
 * short; 0 runs none); `--secure` runs every deployment with TLS, client
 * certificates required and role bindings checked (security.ts).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ServiceProcess } from '@herald/devstack';
import { LocalKafkaCluster, ensureKafkaJars, heraldHome, repoRoot } from '@herald/local-kafka';
import { BrokerNetwork, runInOwnNetworkNamespace } from './broker-network';
import { fanoutRateSetting, fanoutSubscriptionsSetting } from './fanout';
import { markdownReport } from './report';
import { ChaosSecurity } from './security';
import { type ScenarioResult, emptyResult, runScenario } from './scenario';
import { allScenarios } from './scenarios';

/** Where `make chaos` keeps its Kafka: apart from `make run` (9092), the tests (19092) and the bench (31492); all below
 * the kernel's ephemeral range (32768 and up), where an outgoing connection may hold the port a broker needs. */
export const chaosKafkaDir = path.join(heraldHome, 'chaos', 'kafka');
export const chaosKafkaPort = 29492;

/** A rough duration of each full scenario without its fan-out set, to stay within the time budget. */
const estimateMillis = 150_000;

/**
 * What each subscription of the fan-out set adds to a scenario: the registry
 * writes one command at a time and answers once it has read it back from its
 * log. Measured 2026-12-02: 512 ms each until the registry stopped waiting for
 * its own commit markers, then 200 in 15 s on a machine loaded 4 times over.
 */
const fanoutMillisPerSubscription = 100;

const runStarted = Date.now();
const say = (line: string) =>
  console.log(`[chaos ${((Date.now() - runStarted) / 1000).toFixed(0).padStart(4)}s] ${line}`);

let cluster: LocalKafkaCluster | undefined;
let network: BrokerNetwork | undefined;

async function main(): Promise<number> {
  if (!process.env.KAFKA_BROKERS) {
    // Fetched here: inside the namespace there is no network to fetch them from.
    await ensureKafkaJars(say);
    const delegated = await runInOwnNetworkNamespace(say);
    if (delegated !== undefined) return delegated;
  }
  const args = process.argv.slice(2);
  const only = valueOf(args, '--only')?.split(',');
  const short = args.includes('--short');
  const secure = args.includes('--secure');
  const unknown = only?.filter((name) => !allScenarios.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0)
    throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${allScenarios.map((s) => s.name).join(', ')}`);
  const selected = allScenarios.filter((s) => !only || only.includes(s.name));
  const fanoutFlag = valueOf(args, '--fanout-subscriptions');
  const fanoutSubscriptions = fanoutFlag === undefined ? fanoutSubscriptionsSetting(short) : Number(fanoutFlag);
  if (!Number.isInteger(fanoutSubscriptions) || fanoutSubscriptions < 0) {
    throw new Error(`--fanout-subscriptions ${fanoutFlag}: expected a whole number >= 0`);
  }
  const fanoutRate = fanoutRateSetting();
  const scenarioEstimate =
    (short ? estimateMillis / 2 : estimateMillis) + fanoutSubscriptions * fanoutMillisPerSubscription;
  const budgetFlag = valueOf(args, '--budget-minutes');
  // The default budget grows by the fan-out sets' creation, which the registry's write rate fixes, not the machine.
  const budgetMillis =
    budgetFlag !== undefined
      ? Number(budgetFlag) * 60_000
      : 19 * 60_000 + selected.length * fanoutSubscriptions * fanoutMillisPerSubscription;
  const startedAt = new Date(runStarted);
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  const reportsDir = path.join(repoRoot, 'chaos', 'reports');
  const runDir = path.join(reportsDir, stamp);
  mkdirSync(runDir, { recursive: true });
  const loadAverage = os.loadavg();
  say(
    `${selected.map((s) => s.name).join(', ')}${short ? ' (short)' : ''}${secure ? ', secured (TLS, mTLS, role bindings)' : ''}; output in ${runDir}`,
  );
  const security = secure ? ChaosSecurity.create(path.join(runDir, 'certificates')) : undefined;
  say(
    fanoutSubscriptions > 0
      ? `fan-out set: ${fanoutSubscriptions} subscriptions at ${fanoutRate} msg/s; time budget ${(budgetMillis / 60_000).toFixed(1)} minutes`
      : `fan-out set: off (0 subscriptions); time budget ${(budgetMillis / 60_000).toFixed(1)} minutes`,
  );
  if (loadAverage[0]! > os.cpus().length) {
    say(`warning: load average ${loadAverage[0]!.toFixed(1)} on ${os.cpus().length} cores; timings will suffer`);
  }
  stopOnSignals();
  let brokers: string[];
  let networkUnavailable: string | undefined;
  if (process.env.KAFKA_BROKERS) {
    brokers = process.env.KAFKA_BROKERS.split(',');
    say(`using the Kafka at ${brokers.join(',')}; broker faults are skipped`);
  } else {
    networkUnavailable = BrokerNetwork.unavailableReason();
    if (networkUnavailable === undefined) {
      network = await BrokerNetwork.create(3).catch((error: unknown) => {
        networkUnavailable = `could not make it: ${(error as Error).message}`;
        return undefined;
      });
    }
    if (network) {
      say(`brokers in network namespaces of their own at ${network.hosts.join(', ')}`);
    } else {
      say(`brokers on loopback (${networkUnavailable}): the network partition is skipped`);
    }
    const own = network;
    cluster = await LocalKafkaCluster.start({
      brokers: 3,
      dir: chaosKafkaDir,
      basePort: chaosKafkaPort,
      hosts: own?.hosts,
      launchPrefix: own && ((id) => own.launchPrefix(id)),
      log: say,
    });
    brokers = cluster.bootstrapServers;
  }
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of selected) {
      const elapsed = Date.now() - runStarted;
      if (elapsed + scenarioEstimate > budgetMillis) {
        const skipped = `time budget: ${(elapsed / 60_000).toFixed(1)} of ${(budgetMillis / 60_000).toFixed(1)} minutes used`;
        say(`[${scenario.name}] skipped: ${skipped}`);
        results.push({ ...emptyResult(scenario), skipped, ok: false, failures: [skipped] });
        continue;
      }
      if (cluster) await healCluster(cluster);
      results.push(
        await runScenario(scenario, {
          brokers,
          cluster,
          network,
          networkUnavailable,
          logDir: path.join(runDir, 'logs'),
          outDir: runDir,
          short,
          security,
          fanoutSubscriptions,
          fanoutRate,
          log: say,
        }),
      );
    }
  } finally {
    await stopEverything();
    security?.remove();
  }
  const report = markdownReport(
    {
      startedAt,
      durationMillis: Date.now() - runStarted,
      brokers,
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      loadAverage,
      secured: secure,
    },
    results,
  );
  const reportFile = path.join(reportsDir, `${stamp}.md`);
  writeFileSync(reportFile, report);
  say(`report: ${reportFile}`);
  const failed = results.filter((r) => !r.ok);
  say(failed.length === 0 ? 'PASS' : `FAIL: ${failed.map((r) => r.name).join(', ')}`);
  return failed.length === 0 ? 0 : 1;
}

/** Every broker running, not paused and on the network, whatever the previous scenario left. */
async function healCluster(kafka: LocalKafkaCluster): Promise<void> {
  for (const id of kafka.nodeIds) {
    await network?.heal(id);
    kafka.resumeBroker(id);
    if (!kafka.isRunning(id)) {
      say(`broker ${id} was down; starting it`);
      await kafka.startBroker(id, 120_000);
    }
  }
  await kafka.waitReady(120_000);
}

function valueOf(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Ctrl-C and SIGTERM stop every service and broker this run started before exiting. */
function stopOnSignals(): void {
  let stopping = false;
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: a second signal (one to the process group and one passed on by the runner
    // outside the namespace) must not kill this process in the middle of its cleanup.
    process.on(name, () => {
      if (stopping) return;
      stopping = true;
      say(`${name}: stopping everything`);
      void stopEverything().finally(() => process.exit(130));
    });
  }
}

/**
 * Stops every service and broker of the run, then removes the brokers' network;
 * also what a start-up interrupted half-way left (from the cluster's state file
 * and the namespaces named after this process).
 */
async function stopEverything(): Promise<void> {
  ServiceProcess.killAll();
  const stopping = cluster
    ? cluster.stop({ removeData: true })
    : process.env.KAFKA_BROKERS
      ? Promise.resolve()
      : LocalKafkaCluster.stopLeftovers(chaosKafkaDir);
  await stopping.catch((error: unknown) => say(`stopping Kafka: ${String(error)}`));
  cluster = undefined;
  await (network?.remove() ?? BrokerNetwork.removeOwn());
  network = undefined;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error);
    await stopEverything();
    process.exit(1);
  },
);
