import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Admin, Publisher, Subscriber } from '@herald/client';
import { HeraldStack, type ServiceName } from '@herald/devstack';
import { heraldHome, repoRoot } from '@herald/local-kafka';
import { testKafka, uniqueName, waitFor } from '@herald/testkit';
import {
  type Query,
  type ScrapedSeries,
  dashboardQueries,
  parseExposition,
  parseQuery,
  ruleExpressions,
  withVariablesReplaced,
} from './promql';

const observability = path.join(repoRoot, 'deploy', 'observability');
const rulesFile = path.join(observability, 'herald-alerts.yaml');
const dashboardFile = path.join(observability, 'herald-dashboard.json');
/** Built by `make observability-check` (deploy/toolchain/go-tool.sh promtool). */
const promtool = path.join(
  heraldHome,
  `promtool-${readFileSync(path.join(repoRoot, 'deploy', 'toolchain', 'promtool-version'), 'utf8').trim()}`,
  'promtool',
);

/** Series Prometheus makes itself for every target, not scraped from it. */
const prometheusOwnSeries = new Set(['up']);
/** Labels Prometheus adds to every scraped series (job, instance) or the ServiceMonitors add (the rest). */
const targetLabels = new Set(['job', 'instance', 'namespace', 'pod', 'container', 'endpoint']);
/** Labels whose values only appear when something fails: a query may name one no healthy scrape shows. */
const failureValueLabels = new Set(['grpc_code', 'reason']);

interface Run {
  status: number | null;
  output: string;
}

function run(command: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(error);
      else resolve({ status: error ? (error.code as number) : 0, output: stdout + stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

// The on-call material in deploy/observability reads the services' metrics by name; this holds it to
// what the services export, against real services on a real Kafka that have published, delivered,
// acknowledged and refused messages, so that every per-topic and per-subscription series exists.
describe('Dashboard and alert rules against what the services export', function () {
  this.timeout(240_000);
  let stack: HeraldStack | undefined;
  const scrapes = new Map<ServiceName, string>();
  let queries: Query[] = [];

  before(async () => {
    assert.ok(readFileSync(promtool), `no promtool at ${promtool}: run \`make observability-check\``);
    queries = [
      ...ruleExpressions(readFileSync(rulesFile, 'utf8')),
      ...dashboardQueries(readFileSync(dashboardFile, 'utf8')).map((q) => ({ ...q, where: `dashboard ${q.where}` })),
    ];

    const prefix = `${uniqueName('observability')}.`;
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir: path.join(heraldHome, 'test', 'logs', prefix),
      env: { HERALD_TOPIC_PREFIX: prefix },
    });
    const registry = [stack.registries[0]!.address];
    const admin = new Admin({ endpoints: registry });
    const publisher = new Publisher({ endpoints: [stack.publishers[0]!.address] });
    try {
      await admin.createTopic({ name: 'orders', partitions: 2 });
      await admin.createSubscription({ name: 'orders-audit', topic: 'orders' });
      await Promise.all(['a', 'b', 'c'].map((data) => publisher.publish('orders', { data })));
      await assert.rejects(publisher.publish('no-such-topic', { data: 'x' }), /not.found|NOT_FOUND|does not exist/i);

      // Pull once and acknowledge: two messages stay unacknowledged, so the backlog and its age exist.
      const subscriber = new Subscriber({
        endpoints: [stack.dispatchers[0]!.address],
        subscription: 'orders-audit',
        flowControl: { maxOutstandingMessages: 1 },
        closeTimeoutMillis: 0,
      });
      for await (const message of subscriber) {
        message.ack();
        break;
      }
    } finally {
      await publisher.close();
      admin.close();
    }

    const scrape = async (service: ServiceName) => {
      const instance = stack!.all.find((p) => p.name === service)!;
      const response = await fetch(instance.metricsUrl);
      assert.equal(response.status, 200, `${service} ${instance.metricsUrl}: HTTP ${response.status}`);
      return response.text();
    };
    scrapes.set('publisher', await scrape('publisher'));
    scrapes.set('subscriber-registry', await scrape('subscriber-registry'));
    // The age of the oldest unacknowledged message is read from Kafka after the stream closed: it may
    // take a scrape or two to show.
    await waitFor(
      async () => {
        const text = await scrape('dispatcher');
        scrapes.set('dispatcher', text);
        return /^herald_subscription_oldest_unacked_age_seconds\{subscription="orders-audit"\} /m.test(text);
      },
      {
        timeoutMillis: 30_000,
        intervalMillis: 500,
        description: 'the dispatcher to report the oldest unacked age of orders-audit',
      },
    );
  });

  after(async () => {
    await stack?.stop();
  });

  it('reads every rule of the rules file (as many expressions as promtool finds rules)', async () => {
    const { status, output } = await run(promtool, ['check', 'rules', rulesFile]);
    assert.equal(status, 0, output);
    const found = /SUCCESS: (\d+) rules found/.exec(output);
    assert.ok(found, output);
    const expressions = queries.filter((q) => !q.where.startsWith('dashboard'));
    assert.equal(expressions.length, Number(found[1]), 'rules whose expr promql.ts did not read');
  });

  it('every dashboard query is valid PromQL (promtool parses it as a recording rule)', async () => {
    const dashboard = queries.filter((q) => q.where.startsWith('dashboard'));
    assert.ok(dashboard.length > 20, `only ${dashboard.length} queries read from the dashboard`);
    const rules = dashboard.map((q, i) => ({ record: `dashboard_query_${i}`, expr: withVariablesReplaced(q.expr) }));
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-dashboard-'));
    try {
      // JSON is YAML: promtool reads it as a rules file.
      const file = path.join(dir, 'dashboard-rules.json');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      const { status, output } = await run(promtool, ['check', 'rules', file]);
      assert.equal(status, 0, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const service of ['publisher', 'subscriber-registry', 'dispatcher'] as const) {
    it(`the ${service}'s scrape passes promtool check metrics`, async () => {
      const { status, output } = await run(promtool, ['check', 'metrics'], scrapes.get(service));
      assert.equal(status, 0, `promtool check metrics on the ${service}'s /metrics (exit ${status}):\n${output}`);
    });
  }

  it('every metric the dashboard and the alert rules use is one a service exports', () => {
    const exported = new Set([...scrapes.values()].flatMap((text) => parseExposition(text).map((s) => s.name)));
    const missing: string[] = [];
    let used = 0;
    for (const query of queries) {
      for (const { metric } of parseQuery(query.expr).selectors) {
        used++;
        if (!metric) missing.push(`${query.where}: a selector without a metric name`);
        else if (!exported.has(metric) && !prometheusOwnSeries.has(metric)) missing.push(`${query.where}: ${metric}`);
      }
    }
    assert.ok(used > 60, `only ${used} metric selectors read`);
    assert.deepEqual(missing, [], `metrics no service exports:\n${missing.join('\n')}`);
  });

  it('every label they select on or group by is on those metrics, and every value they ask for is reported', () => {
    const byName = new Map<string, ScrapedSeries[]>();
    for (const text of scrapes.values()) {
      for (const series of parseExposition(text)) byName.set(series.name, [...(byName.get(series.name) ?? []), series]);
    }
    const problems: string[] = [];
    for (const query of queries) {
      const { selectors, groupingLabels } = parseQuery(query.expr);
      const labelsOfQuery = new Set(targetLabels);
      for (const { metric, matchers } of selectors) {
        if (prometheusOwnSeries.has(metric)) {
          for (const { label } of matchers) labelsOfQuery.add(label);
          continue;
        }
        const series = byName.get(metric) ?? [];
        for (const s of series) for (const label of s.labels.keys()) labelsOfQuery.add(label);
        for (const { label, op, value } of matchers) {
          if (targetLabels.has(label)) continue;
          const values = new Set(series.flatMap((s) => (s.labels.has(label) ? [s.labels.get(label)!] : [])));
          if (values.size === 0) {
            problems.push(`${query.where}: ${metric} has no label ${label}`);
          } else if (op === '=' && !failureValueLabels.has(label) && !values.has(value)) {
            problems.push(`${query.where}: no ${metric}{${label}="${value}"}; reported: ${[...values].join(', ')}`);
          }
        }
      }
      for (const label of groupingLabels) {
        if (!labelsOfQuery.has(label))
          problems.push(`${query.where}: groups by ${label}, which none of its metrics has`);
      }
    }
    assert.deepEqual(problems, [], problems.join('\n'));
  });
});
