import { type Server, createServer } from 'node:http';
import { HeraldPipe } from '../herald-pipe';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { measureMaximum, warmUp } from './herald-end-to-end';

/** A configuration of the publisher and dispatchers to measure, by the environment that makes it. */
interface Variant {
  name: string;
  env: Record<string, string>;
}

/** What every variant sets, so that none inherits another's settings. */
const neutral = { HERALD_METRICS_ENABLED: 'true', OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: '' };

/** Rounds of the variants, in turn: what drifts on a shared machine falls on all of them alike. */
const rounds = 2;

/**
 * The cost of observability on the end-to-end path: the same maximum
 * throughput measurement as `herald-end-to-end`, with the publisher and
 * dispatchers restarted in turn with metrics on (the default), metrics off,
 * and tracing on (every message traced, spans exported over OTLP/HTTP to a
 * local receiver that discards them). The benchmark client registers no
 * tracer, so the SDK's own spans are not part of it.
 */
export const observabilityCost: Scenario = {
  name: 'observability-cost',
  baselines: [],
  usesHeraldStack: true,
  description:
    'end-to-end maximum throughput (as herald-end-to-end, at the first message size) with the publisher and ' +
    'dispatchers restarted with metrics on (default), HERALD_METRICS_ENABLED=false, and tracing on (OTLP/HTTP ' +
    `to a local sink, every message sampled), ${rounds} rounds in turn; each row is one measurement, and the ` +
    'notes give the mean ratio of each variant to metrics off.',
  async run(context) {
    const sink = await startOtlpSink();
    const variants: Variant[] = [
      { name: 'metrics on', env: neutral },
      { name: 'metrics off', env: { ...neutral, HERALD_METRICS_ENABLED: 'false' } },
      {
        name: 'tracing on',
        env: {
          ...neutral,
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sink.port}`,
        },
      },
    ];
    const rows: ThroughputRow[] = [];
    try {
      for (let round = 1; round <= rounds; round++) {
        for (const variant of variants) rows.push(await measureVariant(context, variant, round));
      }
    } finally {
      await configure(context, neutral);
      sink.server.close();
    }
    const rate = (row: ThroughputRow) => row.messages / row.seconds;
    const mean = (name: string) => {
      const of = rows.filter((row) => row.variant.startsWith(name)).map(rate);
      return of.reduce((a, b) => a + b, 0) / of.length;
    };
    const off = mean('metrics off');
    const summary = `mean throughput: metrics on ${(mean('metrics on') / off).toFixed(3)}× metrics off, tracing on ${(
      mean('tracing on') / off
    ).toFixed(3)}× metrics off; the OTLP sink took ${sink.requests()} export requests`;
    context.log(`  ${summary}`);
    for (const row of rows) row.notes.push(summary);
    return { kind: 'throughput', rows };
  },
};

async function measureVariant(context: ScenarioContext, variant: Variant, round: number): Promise<ThroughputRow> {
  await configure(context, variant.env);
  const size = context.plan.sizes[0]!;
  const pipe = await HeraldPipe.open(
    context,
    `obs-${variant.name.replace(/ /g, '-')}-${round}`,
    size.messageBytes,
    size.warmupMessages + size.messages,
  );
  try {
    await warmUp(context, pipe, size.warmupMessages);
    const row = await measureMaximum(context, pipe, size.messageBytes, size.messages);
    context.log(`    ${variant.name} (round ${round}): ${Math.round(row.messages / row.seconds)} msg/s`);
    return { ...row, variant: `${variant.name}, round ${round}` };
  } finally {
    await pipe.close();
  }
}

/** Restarts the publisher and the dispatchers with `env`; the registry stays as it is. */
async function configure(context: ScenarioContext, env: Record<string, string>): Promise<void> {
  const { herald } = context.env;
  for (const service of [...herald.publishers, ...herald.dispatchers]) await service.restartWith(env);
}

/** An OTLP/HTTP receiver that counts export requests and keeps nothing. */
async function startOtlpSink(): Promise<{ server: Server; port: number; requests: () => number }> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, requests: () => requests };
}
