import { type Server, createServer } from 'node:http';
import type { Scenario } from '../scenario';
import { type ServiceVariant, meanRate, measureVariants } from './service-variants';

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
    const variants: ServiceVariant[] = [
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
    const rows = await measureVariants(context, variants, {
      rounds,
      restart: 'publisher and dispatchers',
      restore: neutral,
      pipePrefix: 'obs',
    }).finally(() => sink.server.close());
    const mean = (name: string) => meanRate(rows, name);
    const off = mean('metrics off');
    const summary = `mean throughput: metrics on ${(mean('metrics on') / off).toFixed(3)}× metrics off, tracing on ${(
      mean('tracing on') / off
    ).toFixed(3)}× metrics off; the OTLP sink took ${sink.requests()} export requests`;
    context.log(`  ${summary}`);
    for (const row of rows) row.notes.push(summary);
    return { kind: 'throughput', rows };
  },
};

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
