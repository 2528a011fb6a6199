import path from 'node:path';
import { Metadata, credentials } from '@grpc/grpc-js';
import { SubscriberRegistryServiceClient, unaryCall } from '@herald/api';
import { HeraldStack } from '@herald/devstack';
import { KafkaNames } from '@herald/kafka';
import { LocalKafkaCluster, ensureKafkaJars, heraldHome, pinnedKafkaVersion } from '@herald/local-kafka';

/** Options of {@link BenchEnvironment.start}. */
export interface BenchEnvironmentOptions {
  /** Folder for the services' log files. */
  logDir: string;
  log: (line: string) => void;
}

/** Where the benchmark's own Kafka lives: apart from `make run` (9092) and the tests. */
export const benchKafkaDir = path.join(heraldHome, 'bench', 'kafka');
export const benchKafkaPort = 39492;

/** Prefix of the Kafka topics of the Herald stack under test. */
export const benchTopicPrefix = 'bench.';

/**
 * Everything the scenarios run against: one Kafka (a local one-broker cluster,
 * or the one `KAFKA_BROKERS` names), the Kafka jars for the perf tools, and a
 * Herald stack of one registry and one publisher.
 */
export class BenchEnvironment {
  private readonly heraldTopics: string[] = [];

  private constructor(
    readonly kafkaBrokers: string[],
    /** Our own Kafka, undefined when `KAFKA_BROKERS` named another. */
    readonly localKafka: LocalKafkaCluster | undefined,
    readonly kafkaLibs: string,
    readonly kafkaVersion: string,
    readonly stack: HeraldStack,
    readonly names: KafkaNames,
    readonly logDir: string,
  ) {}

  /** Starts Kafka (unless `KAFKA_BROKERS` is set), then the Herald stack. Stops what it started if that fails. */
  static async start(options: BenchEnvironmentOptions): Promise<BenchEnvironment> {
    const { log } = options;
    const kafkaLibs = await ensureKafkaJars(log);
    let localKafka: LocalKafkaCluster | undefined;
    let brokers: string[];
    if (process.env.KAFKA_BROKERS) {
      brokers = process.env.KAFKA_BROKERS.split(',');
      log(`using the Kafka at ${brokers.join(',')}`);
    } else {
      localKafka = await LocalKafkaCluster.start({ brokers: 1, dir: benchKafkaDir, basePort: benchKafkaPort, log });
      brokers = localKafka.bootstrapServers;
    }
    try {
      const stack = await HeraldStack.start({
        kafkaBrokers: brokers,
        logDir: options.logDir,
        instances: { 'subscriber-registry': 1, publisher: 1, dispatcher: 0 },
        env: { HERALD_TOPIC_PREFIX: benchTopicPrefix },
      });
      log(`Herald stack up: registry ${stack.registries[0]!.address}, publisher ${stack.publishers[0]!.address}`);
      return new BenchEnvironment(
        brokers,
        localKafka,
        kafkaLibs,
        pinnedKafkaVersion(),
        stack,
        new KafkaNames(benchTopicPrefix),
        options.logDir,
      );
    } catch (error) {
      await localKafka?.stop({ removeData: true });
      throw error;
    }
  }

  get publisher() {
    return this.stack.publishers[0]!;
  }

  get registry() {
    return this.stack.registries[0]!;
  }

  /** The pid of our own broker, for its CPU and memory; undefined for an outside Kafka. */
  get kafkaPid(): number | undefined {
    return this.localKafka?.pidOf(1);
  }

  /** The processes to meter: the benchmark process as `client`, the given ones, and our broker when we run it. */
  metered(...others: Array<{ role: string; pid: number }>): Array<{ role: string; pid: number }> {
    const kafka = this.kafkaPid ? [{ role: 'kafka', pid: this.kafkaPid }] : [];
    return [...others, { role: 'client', pid: process.pid }, ...kafka];
  }

  /**
   * Marks a Herald topic for deletion when the environment stops. Not sooner: a
   * kafkajs producer that wrote to a deleted topic fails every later send, to
   * any topic (kafkajs issue 1622), and the publisher's producers are kafkajs's.
   */
  deleteAtStop(heraldTopic: string): void {
    this.heraldTopics.push(heraldTopic);
  }

  /**
   * Stops the publishers, deletes the Herald topics the scenarios created (an
   * outside Kafka keeps no benchmark data), then stops the rest and our Kafka,
   * whose data goes with it.
   */
  async stop(log: (line: string) => void = () => {}): Promise<void> {
    await Promise.all(this.stack.publishers.map((publisher) => publisher.stop()));
    if (this.registry.running) {
      const registry = new SubscriberRegistryServiceClient(this.registry.address, credentials.createInsecure());
      for (const name of this.heraldTopics.splice(0)) {
        await unaryCall(registry, registry.deleteTopic, { name }, new Metadata(), 30_000).catch((error: unknown) =>
          log(`could not delete topic ${name}: ${(error as Error).message}`),
        );
      }
      registry.close();
    }
    await this.stack.stop();
    await this.localKafka?.stop({ removeData: true });
  }
}
