import type { SizePlan } from '../bench-plan';
import { HeraldPipe } from '../herald-pipe';
import { formatSize } from '../payloads';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';
import { measurePipe, throughputPerSize } from './herald-end-to-end';

/** The push subscription's concurrency ceiling: the default of `push_config.max_outstanding`. */
const maxOutstanding = 100;

/** As `herald-end-to-end`, but the dispatcher pushes each message to an HTTP endpoint instead of a stream. */
export const heraldPushEndToEnd: Scenario = {
  name: 'herald-push-end-to-end',
  baselines: [{ scenario: 'herald-end-to-end' }],
  usesHeraldStack: true,
  description:
    "as herald-end-to-end (the SDK's Publisher, the same callers and sizes), but the subscription is a push " +
    'subscription: the dispatcher POSTs each message as a binary-mode CloudEvent, with its signed token, to an ' +
    `HTTP endpoint in the benchmark process (node:http, kept-alive connections) that answers 204; at most ` +
    `${maxOutstanding} requests in flight (push_config.max_outstanding, the default), the dispatcher's adaptive ` +
    'concurrency growing to it from 1. Throughput and latency are counted as in herald-end-to-end, at the endpoint.',
  run: (context) => throughputPerSize(context, (size) => measureSize(context, size)),
};

async function measureSize(context: ScenarioContext, size: SizePlan): Promise<ThroughputRow> {
  const pipe = await HeraldPipe.open(
    context,
    `push-${size.messageBytes}`,
    size.messageBytes,
    size.warmupMessages + size.messages,
    { push: { maxOutstanding } },
  );
  const row = await measurePipe(context, pipe, size);
  row.notes = row.notes.map((note) =>
    note.replace(/subscriber flow control \d+ messages/, `push: at most ${maxOutstanding} requests in flight`),
  );
  context.log(`  ${formatSize(size.messageBytes)} pushed`);
  return row;
}
