import { type ChannelOptions, Metadata, credentials } from '@grpc/grpc-js';
import {
  Message,
  PublisherServiceClient,
  type PublishRequest,
  SubscriberRegistryServiceClient,
  Topic,
  unaryCall,
} from '@herald/api';
import { LatencyHistogram } from '../latency-histogram';
import { formatSize, randomPayloads } from '../payloads';
import { ProcessMeter } from '../process-stats';
import type { SizePlan } from '../bench-plan';
import type { Scenario, ScenarioContext, ThroughputRow } from '../scenario';

const callTimeoutMillis = 30_000;

/** Herald's publisher over gRPC: many concurrent callers of unary `Publish`, as applications call it. */
export const heraldPublish: Scenario = {
  name: 'herald-publish',
  // kafkajs, on which Herald's publisher ran so far; librdkafka, to which it moves; Kafka's own Java producer.
  baselines: [
    { scenario: 'raw-kafkajs-produce' },
    { scenario: 'raw-librdkafka-produce' },
    { scenario: 'kafka-perf-producer' },
  ],
  usesHeraldStack: true,
  description:
    'the publisher service over gRPC from this process: concurrent callers of unary Publish, each waiting ' +
    'for its answer before the next call, spread over a few connections, with batches of 10, 100 and 1 ' +
    'messages per call; one topic created through the registry; latency is per Publish call.',
  async run(context) {
    const { plan, env } = context;
    const registry = new SubscriberRegistryServiceClient(env.registry.address, credentials.createInsecure());
    // A channel each: grpc-js would otherwise share one connection among clients of the same address.
    const channelOptions: ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };
    const publishers = Array.from(
      { length: plan.publishChannels },
      () => new PublisherServiceClient(env.publisher.address, credentials.createInsecure(), channelOptions),
    );
    const rows: ThroughputRow[] = [];
    try {
      for (const size of plan.sizes) {
        const topic = `publish-${size.messageBytes}-${context.runId}`;
        await unaryCall(
          registry,
          registry.createTopic,
          { topic: Topic.fromPartial({ name: topic, partitions: plan.partitions }) },
          new Metadata(),
          callTimeoutMillis,
        );
        env.deleteAtStop(topic);
        for (const variant of plan.publishVariants) {
          rows.push(await measureVariant(context, publishers, topic, size, variant.batchMessages, variant.share));
        }
      }
    } finally {
      registry.close();
      for (const publisher of publishers) publisher.close();
    }
    return { kind: 'throughput', rows };
  },
};

async function measureVariant(
  context: ScenarioContext,
  publishers: PublisherServiceClient[],
  topic: string,
  size: SizePlan,
  batchMessages: number,
  share: number,
): Promise<ThroughputRow> {
  const { plan, env } = context;
  const messages = roundTo(size.messages * share, batchMessages);
  const warmupMessages = roundTo(size.warmupMessages * share, batchMessages);
  const requests = requestPool(topic, size.messageBytes, batchMessages);
  const load: PublishLoad = { publishers, requests, callers: plan.publishCallers, failures: new Map() };
  await publishAll(load, warmupMessages / batchMessages, plan.maxMeasureSeconds / 5, undefined);
  const meter = new ProcessMeter(env.metered());
  const latency = new LatencyHistogram();
  meter.begin();
  const calls = await publishAll(load, messages / batchMessages, plan.maxMeasureSeconds, latency);
  const { seconds, processes, machine } = meter.end();
  const variant = `batch ${batchMessages}`;
  const published = calls * batchMessages;
  context.log(`  ${formatSize(size.messageBytes)} ${variant}: ${Math.round(published / seconds)} msg/s`);
  return {
    variant,
    messageBytes: size.messageBytes,
    messages: published,
    seconds,
    latency: latency.summary(),
    processes,
    machine,
    // Little's law: msg/s = messages in flight / latency, so this bounds what a given latency allows.
    notes: [
      `${plan.publishCallers} callers × ${batchMessages} = ${plan.publishCallers * batchMessages} messages in flight`,
      ...[...load.failures].map(
        ([message, count]) => `${count} Publish call(s) failed (warm-up included) and were made again: ${message}`,
      ),
    ],
  };
}

/** A few distinct requests to rotate through: building one per call would measure the harness. */
function requestPool(topic: string, messageBytes: number, batchMessages: number): PublishRequest[] {
  const payloads = randomPayloads(messageBytes);
  return Array.from({ length: 16 }, (_, r) => ({
    topic,
    messages: Array.from({ length: batchMessages }, (_, m) =>
      Message.fromPartial({ data: payloads[(r * batchMessages + m) % payloads.length]! }),
    ),
  }));
}

/** Who publishes what: the connections, the requests to rotate through, how many concurrent callers. */
interface PublishLoad {
  publishers: PublisherServiceClient[];
  requests: PublishRequest[];
  callers: number;
  /** Failed calls, by status text: each was made again. */
  failures: Map<string, number>;
}

/**
 * One Publish call, made again (up to 3 times in all) when it fails, as an
 * application would: the publisher answers INTERNAL when kafkajs fails with
 * OUT_OF_ORDER_SEQUENCE_NUMBER, and replaces its producer. The retry counts
 * in the call's latency; the failures go into the report.
 */
async function publishWithRetry(
  publisher: PublisherServiceClient,
  request: PublishRequest,
  failures: Map<string, number>,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await unaryCall(publisher, publisher.publish, request, new Metadata(), callTimeoutMillis);
      return;
    } catch (error) {
      const message = (error as Error).message;
      failures.set(message, (failures.get(message) ?? 0) + 1);
      if (attempt >= 3) throw error;
    }
  }
}

/**
 * Up to `calls` Publish calls from concurrent callers, each waiting for its
 * answer before its next call, for at most `maxSeconds`. Resolves with the
 * calls answered.
 */
async function publishAll(
  load: PublishLoad,
  calls: number,
  maxSeconds: number,
  latency: LatencyHistogram | undefined,
): Promise<number> {
  const deadline = Date.now() + maxSeconds * 1000;
  let next = 0;
  let answered = 0;
  const callerLoop = async (caller: number) => {
    const publisher = load.publishers[caller % load.publishers.length]!;
    while (next < calls && Date.now() < deadline) {
      const request = load.requests[next++ % load.requests.length]!;
      const started = process.hrtime.bigint();
      await publishWithRetry(publisher, request, load.failures);
      latency?.recordSince(started);
      answered++;
    }
  };
  await Promise.all(Array.from({ length: load.callers }, (_, caller) => callerLoop(caller)));
  return answered;
}

function roundTo(value: number, multiple: number): number {
  return Math.max(multiple, Math.round(value / multiple) * multiple);
}
