import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { heraldHome } from '@herald/local-kafka';
import { ownCluster, testKafka, uniqueName } from '@herald/testkit';
import {
  ChaosDeployment,
  ChaosSecurity,
  type Scenario,
  type ScenarioEnvironment,
  type ScenarioResult,
  brokerKill,
  fuzz,
  markdownReport,
  processKill,
  rollingRestart,
  runScenario,
} from '../src';

/**
 * The short chaos suite of `make test`: scenarios 1, 3 and 5 and the fuzz, in
 * their short versions, on the shared test cluster and one two-of-each Herald
 * deployment, secured as production would be (TLS everywhere, client
 * certificates required, role bindings checked on every rpc). `make chaos`
 * runs the full versions (plaintext; `--secure` for the same security).
 */
describe('chaos, short: faults under load, judged from outside Herald', function () {
  this.timeout(600_000);
  const started = Date.now();
  const prefix = `${uniqueName('chaos')}.`;
  const outDir = path.join(heraldHome, 'test', 'chaos', prefix.slice(0, -1));
  const results: ScenarioResult[] = [];
  let deployment: ChaosDeployment | undefined;
  let security: ChaosSecurity | undefined;

  before(async () => {
    const kafka = testKafka();
    security = ChaosSecurity.create(path.join(outDir, 'certificates'));
    deployment = await ChaosDeployment.start({
      brokers: kafka.brokers,
      cluster: kafka.cluster,
      prefix,
      logDir: path.join(outDir, 'logs'),
      security,
    });
  });

  after(async () => {
    await deployment?.stop();
    security?.remove();
    if (results.length > 0) {
      mkdirSync(outDir, { recursive: true });
      const report = markdownReport(
        {
          startedAt: new Date(started),
          durationMillis: Date.now() - started,
          brokers: testKafka().brokers,
          machine: `${os.cpus().length} cores`,
          loadAverage: os.loadavg(),
          secured: true,
        },
        results,
      );
      writeFileSync(path.join(outDir, 'report.md'), report);
      console.log(`      report: ${path.join(outDir, 'report.md')}`);
    }
  });

  const run = async (scenario: Scenario): Promise<ScenarioResult> => {
    const env: ScenarioEnvironment = {
      brokers: testKafka().brokers,
      cluster: testKafka().cluster,
      shared: deployment,
      logDir: path.join(outDir, 'logs'),
      outDir,
      short: true,
      log: (line) => console.log(`      ${line}`),
    };
    const result = await runScenario(scenario, env);
    results.push(result);
    return result;
  };

  it('kill -9 of the busiest partition leader, then its restart: nothing acknowledged lost, keys in order', async function () {
    ownCluster(this);
    const result = await run(brokerKill);
    assert.deepEqual(result.failures, []);
    assert.ok(result.verdict!.acknowledged > 0);
  });

  it('kill -9 of a dispatcher holding leases and of a publisher mid-PublishStream: nothing lost, retries delivered once', async () => {
    const result = await run(processKill);
    assert.deepEqual(result.failures, []);
    // The PublishStream client had to write unanswered requests again through the other publisher.
    assert.ok((result.counters['process-kill-stream: requests resent'] ?? 0) > 0, JSON.stringify(result.counters));
  });

  it('rolling SIGTERM of every service: exits 0, nothing lost, duplicates within what was in flight', async () => {
    const result = await run(rollingRestart);
    assert.deepEqual(result.failures, []);
  });

  it('malformed and extreme requests, floods and thousands of streams: services stay up, memory bounded, nothing lost', async () => {
    const result = await run(fuzz);
    assert.deepEqual(result.failures, []);
  });
});
