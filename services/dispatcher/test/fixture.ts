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
import { HeraldStack } from '@herald/devstack';
import { heraldHome } from '@herald/local-kafka';
import { rpc, testKafka, uniqueName, waitFor } from '@herald/testkit';
import { Kafka, logLevel } from 'kafkajs';

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
   * Resolves once the subscription's consumer group is stable with `members`
   * members (no rebalance pending), or, for 0, once it has none left.
   */
  waitForConsumers(subscription: string, members: number): Promise<void>;
  close(): Promise<void>;
}

export async function startDispatchFixture(name: string, env: Record<string, string> = {}): Promise<DispatchFixture> {
  const prefix = `${uniqueName(name)}.`;
  const stack = await HeraldStack.start({
    kafkaBrokers: testKafka().brokers,
    logDir: path.join(heraldHome, 'test', 'logs', prefix),
    instances: { 'subscriber-registry': 1, publisher: 1, dispatcher: 2 },
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
  return {
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
    async waitForConsumers(subscription, members) {
      const admin = new Kafka({
        clientId: 'test-groups',
        brokers: testKafka().brokers,
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        await waitFor(
          async () => {
            const { groups } = await admin.describeGroups([`${prefix}sub.${subscription}`]);
            const group = groups[0];
            // An empty group is not Stable but Empty (or Dead, once Kafka forgets it).
            return members === 0
              ? group?.members.length === 0
              : group?.state === 'Stable' && group.members.length === members;
          },
          { timeoutMillis: 60_000, description: `${members} stable consumers of ${subscription}` },
        );
      } finally {
        await admin.disconnect();
      }
    },
    async close() {
      registry.close();
      publisher.close();
      dispatchers.forEach((d) => d.close());
      await stack.stop();
    },
  };
}
