import type { ChannelCredentials } from '@grpc/grpc-js';
import { HeraldStack, type ServiceProcess } from '@herald/devstack';
import type { LocalKafkaCluster } from '@herald/local-kafka';
import { Kafka, logLevel } from 'kafkajs';
import { type ChaosSecurity, clientCredentials } from './security';

/** Options of {@link ChaosDeployment.start}. */
export interface ChaosDeploymentOptions {
  brokers: string[];
  /** The local cluster, for broker faults; undefined when Kafka is someone else's. */
  cluster: LocalKafkaCluster | undefined;
  /** Topic prefix of this deployment (its registry log, topics and groups). */
  prefix: string;
  logDir: string;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Instances of each service. @defaultValue 2 */
  instances?: number;
  /** TLS, mTLS and role bindings on every service (`--secure`); plaintext without. */
  security?: ChaosSecurity;
}

/**
 * Settings of the deployment under test: Herald's defaults, except a
 * dispatcher session of 6 s (the broker's minimum) so that failovers fit the
 * time budget, and push allowed to a plaintext endpoint on loopback. Nothing
 * here makes Herald safer than it ships.
 */
export const chaosServiceEnv: Record<string, string> = {
  DISPATCHER_SESSION_TIMEOUT_MS: '6000',
  // The steady push subscription's endpoint is an http:// server on loopback, in the chaos process.
  REGISTRY_PUSH_ALLOW_INSECURE: 'true',
  REGISTRY_PUSH_ALLOW_PRIVATE: 'true',
  DISPATCHER_PUSH_ALLOW_PRIVATE: 'true',
  LOG_LEVEL: 'info',
};

/**
 * The system under test: two instances of each Herald service on one Kafka,
 * each pointed at every registry instance; the clients get every instance of
 * the service they talk to.
 */
export class ChaosDeployment {
  private constructor(
    readonly stack: HeraldStack,
    readonly brokers: string[],
    readonly cluster: LocalKafkaCluster | undefined,
    readonly prefix: string,
    /** How the chaos process's own clients reach the services: plaintext, or TLS with its client certificate. */
    readonly clientCredentials: ChannelCredentials,
  ) {}

  /**
   * Starts the services. A start that fails is tried again (up to three times in
   * all) and each failure is kept in {@link ChaosDeployment.startFailures}: it
   * is a finding, not a reason to give up the run.
   */
  static async start(options: ChaosDeploymentOptions): Promise<ChaosDeployment> {
    const count = options.instances ?? 2;
    const failures: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        const stack = await HeraldStack.start({
          kafkaBrokers: options.brokers,
          logDir: options.logDir,
          instances: { 'subscriber-registry': count, publisher: count, dispatcher: count },
          env: {
            HERALD_TOPIC_PREFIX: options.prefix,
            ...chaosServiceEnv,
            ...options.security?.serviceEnv(),
            ...options.env,
          },
        });
        const deployment = new ChaosDeployment(
          stack,
          options.brokers,
          options.cluster,
          options.prefix,
          clientCredentials(options.security),
        );
        deployment.startFailures.push(...failures);
        return deployment;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push(message.split('\n').find((line) => line.includes('"fatal"')) ?? message.split('\n')[0]!);
        if (attempt >= 3) throw error;
      }
    }
  }

  /** Why earlier attempts to start the deployment failed (the fatal log line of the service that died). */
  readonly startFailures: string[] = [];

  get publisherEndpoints(): string[] {
    return this.stack.publishers.map((p) => p.address);
  }

  get dispatcherEndpoints(): string[] {
    return this.stack.dispatchers.map((d) => d.address);
  }

  get registryEndpoints(): string[] {
    return this.stack.registries.map((r) => r.address);
  }

  /** Every service process, named `publisher-1`, `dispatcher-2`... */
  get services(): Array<{ name: string; process: ServiceProcess }> {
    const named = (list: ServiceProcess[], service: string) =>
      list.map((process, i) => ({ name: `${service}-${i + 1}`, process }));
    return [
      ...named(this.stack.registries, 'registry'),
      ...named(this.stack.publishers, 'publisher'),
      ...named(this.stack.dispatchers, 'dispatcher'),
    ];
  }

  /** Starts again every service that is not running, and resumes paused ones. */
  async restoreAll(): Promise<void> {
    for (const { process } of this.services) {
      process.resume();
      if (!process.running) await process.start();
    }
  }

  /** Stops every service (SIGTERM; SIGKILL after the grace). */
  async stop(): Promise<void> {
    await this.stack.stop();
  }

  /** The broker leading the partition of `kafkaTopic` with the most records, and that partition. */
  async busiestPartitionLeader(kafkaTopic: string): Promise<{ partition: number; leader: number; records: number }> {
    const kafka = new Kafka({ clientId: 'herald-chaos-faults', brokers: this.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(kafkaTopic);
      const busiest = offsets
        .map((o) => ({ partition: o.partition, records: Number(o.high) - Number(o.low) }))
        .sort((a, b) => b.records - a.records)[0];
      if (!busiest) throw new Error(`${kafkaTopic} has no partitions`);
      const metadata = await admin.fetchTopicMetadata({ topics: [kafkaTopic] });
      const partition = metadata.topics[0]?.partitions.find((p) => p.partitionId === busiest.partition);
      if (!partition) throw new Error(`no metadata for ${kafkaTopic}/${busiest.partition}`);
      return { partition: busiest.partition, leader: partition.leader, records: busiest.records };
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * The broker coordinating each consumer group: the leader of the group's
   * `__consumer_offsets` partition, abs(Java hashCode of the group id) mod the
   * partition count, as Kafka places it.
   */
  async groupCoordinators(groups: string[]): Promise<Map<string, number>> {
    const kafka = new Kafka({ clientId: 'herald-chaos-faults', brokers: this.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
      const partitions = metadata.topics[0]?.partitions ?? [];
      const coordinators = new Map<string, number>();
      for (const group of groups) {
        let hash = 0;
        for (let i = 0; i < group.length; i++) hash = (Math.imul(hash, 31) + group.charCodeAt(i)) | 0;
        const partition = (hash & 0x7fffffff) % partitions.length;
        const leader = partitions.find((p) => p.partitionId === partition)?.leader;
        if (leader !== undefined) coordinators.set(group, leader);
      }
      return coordinators;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * How far a subscription's stored cursor is behind the end of a topic,
   * summed over its partitions (a partition without a cursor counts from 0).
   * Read straight from the dispatchers' compacted cursor topic, with a client
   * of its own: the last value of the subscription's key wins.
   */
  async cursorLag(subscription: string, kafkaTopic: string): Promise<number> {
    const kafka = new Kafka({ clientId: 'herald-chaos-faults', brokers: this.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const cursorTopic = `${this.prefix}_cursors`;
    const readerGroup = `herald-chaos-cursors-${process.pid}-${Date.now()}`;
    const consumer = kafka.consumer({ groupId: readerGroup });
    await admin.connect();
    try {
      const ends = await admin.fetchTopicOffsets(kafkaTopic);
      const cursorEnds = new Map(
        (await admin.fetchTopicOffsets(cursorTopic)).map((p) => [p.partition, Number(p.high)]),
      );
      let stored: Array<[number, number, string]> = [];
      const remaining = new Set([...cursorEnds].filter(([, high]) => high > 0).map(([partition]) => partition));
      if (remaining.size > 0) {
        await consumer.connect();
        await consumer.subscribe({ topic: cursorTopic, fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`cursor topic not read within 60 s`)), 60_000);
          void consumer.run({
            eachMessage: async ({ partition, message }) => {
              if (message.key?.toString() === subscription) {
                stored = message.value ? (JSON.parse(message.value.toString()) as { p: typeof stored }).p : [];
              }
              if (Number(message.offset) + 1 >= (cursorEnds.get(partition) ?? 0)) remaining.delete(partition);
              if (remaining.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
        });
      }
      let lag = 0;
      for (const { partition, high } of ends) {
        const offset = stored.find(([p]) => p === partition)?.[1] ?? 0;
        lag += Number(high) - Math.max(0, offset);
      }
      return lag;
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([readerGroup]).catch(() => undefined);
      await admin.disconnect();
    }
  }

  /** The consumer group the dispatchers share their slots of subscriptions through. */
  dispatcherGroup(): string {
    return `${this.prefix}dispatchers`;
  }

  /** Leader and replicas of one partition. */
  async partitionLayout(kafkaTopic: string, partition: number): Promise<{ leader: number; isr: number[] }> {
    const kafka = new Kafka({ clientId: 'herald-chaos-faults', brokers: this.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [kafkaTopic] });
      const found = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition);
      if (!found) throw new Error(`no metadata for ${kafkaTopic}/${partition}`);
      return { leader: found.leader, isr: found.isr };
    } finally {
      await admin.disconnect();
    }
  }
}
