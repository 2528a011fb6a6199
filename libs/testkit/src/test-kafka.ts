import path from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { LocalKafkaCluster, heraldHome, isAlive } from '@herald/local-kafka';

/** The Kafka the integration tests of this run share. */
export interface TestKafka {
  /** Bootstrap servers. */
  brokers: string[];
  /** The local cluster, to stop, kill or pause brokers; undefined when KAFKA_BROKERS named an external one. */
  cluster: LocalKafkaCluster | undefined;
}

/** Where the shared test cluster lives; `make test` stops leftovers there even if mocha dies. */
export const testClusterDir = path.join(heraldHome, 'test', 'kafka');

let shared: TestKafka | undefined;

/**
 * Starts the run's shared cluster: three brokers (replication factor 3, min
 * ISR 2) on ports 19092-19097, or one with `HERALD_TEST_BROKERS=1`, or none
 * when `KAFKA_BROKERS` names an existing cluster. Called once per run by the
 * mocha global fixture.
 */
export async function startTestKafka(): Promise<TestKafka> {
  if (shared) return shared;
  if (process.env.KAFKA_BROKERS) {
    shared = { brokers: process.env.KAFKA_BROKERS.split(','), cluster: undefined };
    return shared;
  }
  takeLock();
  const brokers = Number(process.env.HERALD_TEST_BROKERS ?? '3');
  const started = Date.now();
  const cluster = await LocalKafkaCluster.start({
    brokers,
    dir: testClusterDir,
    basePort: 19092,
    heapMb: 512,
    log: (line) => console.log(`      [kafka] ${line}`),
  });
  console.log(`      [kafka] ${brokers}-broker cluster up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  shared = { brokers: cluster.bootstrapServers, cluster };
  return shared;
}

/** Stops the shared cluster and removes its data. */
export async function stopTestKafka(): Promise<void> {
  await shared?.cluster?.stop({ removeData: true });
  if (shared?.cluster) releaseLock();
  shared = undefined;
}

const lockFile = path.join(heraldHome, 'test', 'kafka.lock');

/**
 * One test run at a time owns the shared cluster's folder and ports: a second
 * run would wipe the first one's brokers. The lock names its owner's pid, so a
 * lock left by a dead run is taken over.
 */
function takeLock(): void {
  mkdirSync(path.dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      process.once('exit', releaseLock);
      return;
    } catch {
      const owner = Number(readFileSync(lockFile, 'utf8'));
      if (owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(
          `another test run (pid ${owner}) is using the test Kafka in ${testClusterDir}; wait for it, or set KAFKA_BROKERS`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`could not take ${lockFile}`);
}

function releaseLock(): void {
  try {
    if (Number(readFileSync(lockFile, 'utf8')) === process.pid) rmSync(lockFile, { force: true });
  } catch {
    // already gone
  }
}

/** The run's shared Kafka. Throws outside an integration run. */
export function testKafka(): TestKafka {
  if (!shared) throw new Error('no test Kafka: integration tests run under mocha with the testkit fixture');
  return shared;
}

/** The local cluster, or skips the calling test when Kafka is external (faults need our own brokers). */
export function ownCluster(context: Mocha.Context): LocalKafkaCluster {
  const cluster = testKafka().cluster;
  if (!cluster) context.skip();
  return cluster!;
}
