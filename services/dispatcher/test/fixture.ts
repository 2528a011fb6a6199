import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { credentials } from '@grpc/grpc-js';
import {
  DispatcherServiceClient,
  Message,
  PublisherServiceClient,
  SubscriberRegistryServiceClient,
  Subscription,
  Topic,
} from '@herald/api';
import { HeraldStack, type HeraldStackOptions } from '@herald/devstack';
import { createKafkaClient, partitionOfKey } from '@herald/kafka';
import { createLogger } from '@herald/logging';
import { heraldHome } from '@herald/local-kafka';
import { rpc, testKafka, uniqueName, waitFor } from '@herald/testkit';
import { Kafka, logLevel } from 'kafkajs';
import { decodeCursor } from '../src/domain/cursor-record';

/** A running Herald (one registry, one publisher, two dispatchers) and clients for it. */
export interface DispatchFixture {
  prefix: string;
  stack: HeraldStack;
  registry: SubscriberRegistryServiceClient;
  publisher: PublisherServiceClient;
  dispatchers: DispatcherServiceClient[];
  createTopic(name: string, partitions: number): Promise<void>;
  createSubscription(fields: Partial<Subscription>): Promise<Subscription>;
  /** Publishes `count` messages in batches; returns their ids in publish order. */
  publish(topic: string, count: number, make?: (i: number) => Partial<Message>, batchSize?: number): Promise<string[]>;
  /**
   * Resolves once the dispatchers' group is stable with every dispatcher of
   * the fixture in it, and the dispatcher serving `subscription` has it
   * started (`served`) or not (`idle`).
   */
  waitForServing(subscription: string, state: 'served' | 'idle'): Promise<void>;
  /**
   * Which of `dispatchers` serves the subscription: a slot owner's address is
   * what it announces in the directory topic; read back here from its logs.
   */
  servedBy(subscription: string): Promise<number>;
  /** The subscription's stored cursor: per partition, the offset before which everything is settled. */
  storedCursor(subscription: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

/**
 * @param layout - instances, fixed ports and per-service environment, instead of two dispatchers on free ports.
 */
export async function startDispatchFixture(
  name: string,
  env: Record<string, string> = {},
  layout: Pick<HeraldStackOptions, 'instances' | 'ports' | 'metricsPorts' | 'serviceEnv'> = {},
): Promise<DispatchFixture> {
  const prefix = `${uniqueName(name)}.`;
  const stack = await HeraldStack.start({
    kafkaBrokers: testKafka().brokers,
    logDir: path.join(heraldHome, 'test', 'logs', prefix),
    instances: { 'subscriber-registry': 1, publisher: 1, dispatcher: 2 },
    ...layout,
    env: {
      HERALD_TOPIC_PREFIX: prefix,
      DISPATCHER_SESSION_TIMEOUT_MS: '6000',
      DISPATCHER_COMMIT_INTERVAL_MS: '200',
      DISPATCHER_IDLE_GRACE_MS: '1000',
      ...env,
    },
  });
  const insecure = credentials.createInsecure();
  const registry = new SubscriberRegistryServiceClient(stack.registries[0]!.address, insecure);
  const publisher = new PublisherServiceClient(stack.publishers[0]!.address, insecure);
  const dispatchers = stack.dispatchers.map((d) => new DispatcherServiceClient(d.address, insecure));
  const fixture: DispatchFixture = {
    prefix,
    stack,
    registry,
    publisher,
    dispatchers,
    async createTopic(topic, partitions) {
      await rpc(registry, registry.createTopic, { topic: Topic.fromPartial({ name: topic, partitions }) });
    },
    async createSubscription(fields) {
      const { subscription } = await rpc(registry, registry.createSubscription, {
        subscription: Subscription.fromPartial(fields),
      });
      return subscription!;
    },
    async publish(topic, count, make = (i) => ({ data: Buffer.from(`message ${i}`) }), batchSize = 100) {
      const ids: string[] = [];
      for (let from = 0; from < count; from += batchSize) {
        const messages = [];
        for (let i = from; i < Math.min(count, from + batchSize); i++) messages.push(Message.fromPartial(make(i)));
        const { messageIds } = await rpc(publisher, publisher.publish, { topic, messages });
        ids.push(...messageIds);
      }
      return ids;
    },
    async waitForServing(subscription, state) {
      const admin = new Kafka({
        clientId: 'test-groups',
        brokers: testKafka().brokers,
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        await waitFor(
          async () => {
            const { groups } = await admin.describeGroups([`${prefix}dispatchers`]);
            const group = groups[0];
            return (
              group?.state === 'Stable' && group.members.length === stack.dispatchers.filter((d) => d.running).length
            );
          },
          { timeoutMillis: 60_000, description: 'every dispatcher in a stable group' },
        );
      } finally {
        await admin.disconnect();
      }
      const wanted = state === 'served' ? 'started' : 'stopped';
      await waitFor(
        () =>
          state === 'served'
            ? stack.dispatchers.some((d) => d.running && lastSaid(d.options.logFile, subscription) === wanted)
            : stack.dispatchers.every((d) => lastSaid(d.options.logFile, subscription) !== 'started'),
        { timeoutMillis: 60_000, description: `${subscription} ${state}` },
      );
    },
    async servedBy(subscription) {
      await fixture.waitForServing(subscription, 'served');
      const index = stack.dispatchers.findIndex(
        (d) => d.running && lastSaid(d.options.logFile, subscription) === 'started',
      );
      assert.ok(index >= 0, `no dispatcher serves ${subscription}`);
      return index;
    },
    async storedCursor(subscription) {
      const kafka = createKafkaClient({
        brokers: testKafka().brokers,
        clientId: 'test-cursors',
        logger: createLogger({ service: 'test', level: 'silent' }),
      });
      const topic = `${prefix}_cursors`;
      const admin = kafka.topicAdmin();
      try {
        const partitions = (await admin.partitionCount(topic)) ?? 0;
        const slot = partitionOfKey(Buffer.from(subscription), partitions);
        const [end] = (await admin.latestOffsets(topic)).filter((o) => o.partition === slot);
        const cursor = new Map<number, bigint>();
        if (!end || Number(end.offset) === 0) return cursor;
        let found: Map<number, bigint> | undefined;
        await new Promise<void>((resolve, reject) => {
          const reader = kafka.partitionReader({
            topic,
            start: [{ partition: slot, offset: 0 }],
            records: (_partition, records) => {
              for (const record of records) {
                if (record.key?.toString() !== subscription) continue;
                const decoded = record.value && decodeCursor(record.value);
                found = decoded
                  ? new Map([...decoded.partitions].map(([p, position]) => [p, BigInt(position.offset)]))
                  : undefined;
              }
              if (records[records.length - 1]!.offset + 1 >= Number(end.offset)) {
                void reader.stop().then(resolve, reject);
              }
            },
          });
          reader.start().catch(reject);
        });
        return found ?? cursor;
      } finally {
        await admin.close();
      }
    },
    async close() {
      registry.close();
      publisher.close();
      dispatchers.forEach((d) => d.close());
      await stack.stop();
    },
  };
  return fixture;
}

/** A dispatcher's own word on a subscription: the last of its log lines about it starting or stopping. */
function lastSaid(logFile: string, subscription: string): string | undefined {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.includes(`"subscription":"${subscription}"`))
    .map((line) => /"msg":"subscription (started|stopped)"/.exec(line)?.[1])
    .filter((said) => said !== undefined)
    .pop();
}
