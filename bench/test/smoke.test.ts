import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testKafka } from '@herald/testkit';
import type { BenchReport } from '../src/report';
import { reportFiles } from '../src/report';
import { allScenarios } from '../src/scenarios';

const runScript = path.join(__dirname, '..', 'src', 'run.js');

/** Runs the harness as `make bench` does; resolves with its exit code and everything it printed. */
function runBench(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runScript, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

// Not a benchmark: a tiny run of every scenario, so that the harness cannot rot between benchmark runs.
describe('bench harness (smoke run on the shared test Kafka)', function () {
  this.timeout(240_000);
  let resultsRoot: string;

  before(() => {
    resultsRoot = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-smoke-'));
  });
  after(() => rmSync(resultsRoot, { recursive: true, force: true }));

  it('runs every scenario, profiles the end-to-end one, and writes the report, its JSON and the chart', async () => {
    const { code, output } = await runBench(['--smoke', '--profile', '--results', resultsRoot], {
      ...process.env,
      KAFKA_BROKERS: testKafka().brokers.join(','),
    });
    assert.equal(code, 0, `the smoke run failed:\n${output.slice(-4000)}`);
    const runs = readdirSync(resultsRoot);
    assert.equal(runs.length, 1, `one run folder expected, found ${runs.join(', ')}`);
    const dir = path.join(resultsRoot, runs[0]!);
    for (const file of Object.values(reportFiles)) assert.ok(existsSync(path.join(dir, file)), `${file} missing`);

    const report = JSON.parse(readFileSync(path.join(dir, reportFiles.json), 'utf8')) as BenchReport;
    assert.deepEqual(
      report.scenarios.map((s) => s.name),
      allScenarios.map((s) => s.name),
    );
    for (const scenario of report.scenarios) {
      assert.equal(scenario.error, undefined, `${scenario.name} failed: ${scenario.error}`);
      assert.ok(scenario.result ?? scenario.skipped, `${scenario.name} has neither a result nor a reason to skip`);
      if (scenario.result?.kind === 'throughput') {
        for (const row of scenario.result.rows) {
          assert.ok(row.messages > 0 && row.seconds > 0, `${scenario.name} measured nothing: ${JSON.stringify(row)}`);
        }
      }
    }
    const markdown = readFileSync(path.join(dir, reportFiles.markdown), 'utf8');
    for (const scenario of allScenarios) assert.match(markdown, new RegExp(`^## ${scenario.name}$`, 'm'));
    assert.match(markdown, /^## CPU profile of `herald-end-to-end`$/m);
    assert.deepEqual(report.profiles?.[0]?.summaries.map((s) => s.role).sort(), ['dispatcher', 'publisher']);

    const chart = readFileSync(path.join(dir, reportFiles.chart), 'utf8');
    assert.match(chart, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(chart, /herald-end-to-end/);
  });
});
