import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Metadata, credentials } from '@grpc/grpc-js';
import { SubscriberRegistryServiceClient, unaryCall } from '@herald/api';
import { HeraldStack, type ServiceProcess } from '@herald/devstack';
import { KafkaNames } from '@herald/kafka';
import { LocalKafkaCluster, ensureKafkaJars, heraldHome, pinnedKafkaVersion, signal } from '@herald/local-kafka';
import { benchKafka, deleteRawTopics } from './raw-topics';

/** Options of {@link BenchEnvironment.start}. */
export interface BenchEnvironmentOptions {
  /** Folder for the services' log files. */
  logDir: string;
  /** Whether to start the Herald stack: runs of raw clients and Kafka tools only need none. */
  heraldStack: boolean;
  /** Dispatcher instances. */
  dispatchers: number;
  /**
   * Folder for CPU profiles: the publishers and dispatchers then run with the
   * profiling hook (`cpu-profile-hook.ts`), idle until {@link BenchEnvironment.startProfiling}.
   */
  profileDir?: string;
  log: (line: string) => void;
}

/** Where the benchmark's own Kafka lives: apart from `make run` (9092) and the tests. */
export const benchKafkaDir = path.join(heraldHome, 'bench', 'kafka');
export const benchKafkaPort = 31492;

/** Prefix of the Kafka topics of the Herald stack under test. */
export const benchTopicPrefix = 'bench.';

/** Where `cpu-profile-hook.ts` writes its profiles (it reads this variable itself: it must import nothing of ours). */
const profileDirVariable = 'HERALD_BENCH_PROFILE_DIR';

/** A process to meter, by its role in the benchmark. */
export interface MeteredProcess {
  role: string;
  pid: number;
}

/** A CPU profile written by a service. */
export interface ProfileFile {
  /** `publisher`, `dispatcher`... */
  role: string;
  file: string;
}

/**
 * Everything the scenarios run against: one Kafka (a local one-broker cluster,
 * or the one `KAFKA_BROKERS` names), the Kafka jars for the perf tools, and,
 * when a scenario of the run uses it, a Herald stack of one registry, one
 * publisher and `dispatchers` dispatchers.
 */
export class BenchEnvironment {
  private readonly heraldTopics: string[] = [];
  private readonly heraldSubscriptions: string[] = [];
  /** Subscriptions to delete when the current scenario ends. */
  private readonly scenarioSubscriptions: string[] = [];
  private readonly keptRawTopics = new Set<string>();

  private constructor(
    readonly kafkaBrokers: string[],
    /** Our own Kafka, undefined when `KAFKA_BROKERS` named another. */
    readonly localKafka: LocalKafkaCluster | undefined,
    readonly kafkaLibs: string,
    readonly kafkaVersion: string,
    /** Undefined in runs whose scenarios all go without it. */
    readonly stack: HeraldStack | undefined,
    readonly names: KafkaNames,
    readonly logDir: string,
    readonly profileDir: string | undefined,
  ) {}

  /** Starts Kafka (unless `KAFKA_BROKERS` is set), then the Herald stack if asked. Stops what it started if that fails. */
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
      const stack = options.heraldStack ? await startStack(brokers, options) : undefined;
      if (!stack) log('no Herald stack: no scenario of this run uses one');
      return new BenchEnvironment(
        brokers,
        localKafka,
        kafkaLibs,
        pinnedKafkaVersion(),
        stack,
        new KafkaNames(benchTopicPrefix),
        options.logDir,
        options.profileDir,
      );
    } catch (error) {
      await localKafka?.stop({ removeData: true });
      throw error;
    }
  }

  /** The Herald stack; throws in a run started without it. */
  get herald(): HeraldStack {
    if (!this.stack) throw new Error('this run has no Herald stack: a scenario that needs it sets usesHeraldStack');
    return this.stack;
  }

  get publisher() {
    return this.herald.publishers[0]!;
  }

  get registry() {
    return this.herald.registries[0]!;
  }

  get dispatchers() {
    return this.herald.dispatchers;
  }

  /** The pid of our own broker, for its CPU and memory; undefined for an outside Kafka. */
  get kafkaPid(): number | undefined {
    return this.localKafka?.pidOf(1);
  }

  /**
   * Every running Herald service process, by role: `registry`, `publisher`, `dispatcher` (numbered when
   * there are several). The fan-out scenarios stop the stack's dispatchers: those are left out then.
   */
  get services(): MeteredProcess[] {
    if (!this.stack) return [];
    return [
      ...roles('registry', this.stack.registries),
      ...roles('publisher', this.stack.publishers),
      ...roles('dispatcher', this.stack.dispatchers),
    ];
  }

  /**
   * The processes to meter: every Herald service (idle ones too, so that their
   * CPU never counts as other load), the benchmark process as `client` unless
   * `client` is given, and our broker when we run it.
   */
  metered(client?: MeteredProcess): MeteredProcess[] {
    const kafka = this.kafkaPid ? [{ role: 'kafka', pid: this.kafkaPid }] : [];
    return [...this.services, client ?? { role: 'client', pid: process.pid }, ...kafka];
  }

  /**
   * Marks a Herald topic for deletion when the environment stops. Not sooner: a
   * kafkajs producer that wrote to a deleted topic fails every later send, to
   * any topic (kafkajs issue 1622), and the publisher's producers are kafkajs's.
   */
  deleteAtStop(heraldTopic: string): void {
    this.heraldTopics.push(heraldTopic);
  }

  /** Marks a subscription for deletion when the environment stops (before the topics). */
  deleteSubscriptionAtStop(subscription: string): void {
    this.heraldSubscriptions.push(subscription);
  }

  /**
   * Marks a subscription for deletion as soon as the scenario that made it
   * ends ({@link BenchEnvironment.endScenario}). Left in place, a push
   * subscription whose endpoint went with its scenario is served by every
   * later dispatcher that owns it, read, held and retried: the `fanout`
   * scenario's fresh dispatchers carried three of them (270 MB more resident,
   * 6 more Kafka connections, their retries beside the measured work).
   */
  deleteSubscriptionAfterScenario(subscription: string): void {
    this.scenarioSubscriptions.push(subscription);
  }

  /** Deletes the subscriptions of the scenario that just ended; those it cannot delete now wait for the stop. */
  async endScenario(log: (line: string) => void = () => {}): Promise<void> {
    const names = this.scenarioSubscriptions.splice(0);
    if (names.length === 0) return;
    if (!this.stack || !this.registry.running) {
      this.heraldSubscriptions.push(...names);
      return;
    }
    await this.deleteThroughRegistry({ subscriptions: names, topics: [] }, (what, name, error) => {
      log(`could not delete ${what} ${name} yet: ${error.message}`);
      this.heraldSubscriptions.push(name);
    });
  }

  /** Deletes subscriptions, then topics, through the registry, one at a time; reports each it could not delete. */
  private async deleteThroughRegistry(
    names: { subscriptions: string[]; topics: string[] },
    failed: (what: 'subscription' | 'topic', name: string, error: Error) => void,
  ): Promise<void> {
    const registry = new SubscriberRegistryServiceClient(this.registry.address, credentials.createInsecure());
    try {
      for (const name of names.subscriptions) {
        await unaryCall(registry, registry.deleteSubscription, { name }, new Metadata(), 30_000).catch((error: Error) =>
          failed('subscription', name, error),
        );
      }
      for (const name of names.topics) {
        await unaryCall(registry, registry.deleteTopic, { name }, new Metadata(), 30_000).catch((error: Error) =>
          failed('topic', name, error),
        );
      }
    } finally {
      registry.close();
    }
  }

  /**
   * Keeps a topic a scenario wrote directly, for a later scenario to read
   * ({@link BenchEnvironment.takeRawTopic}); deleted when the environment stops if none does.
   */
  keepRawTopic(topic: string): void {
    this.keptRawTopics.add(topic);
  }

  /** Takes over a topic kept by an earlier scenario (the taker deletes it); false if there is none. */
  takeRawTopic(topic: string): boolean {
    return this.keptRawTopics.delete(topic);
  }

  /** The services that run with the profiling hook in a `--profile` run. */
  private get profiled(): Array<{ role: string; process: ServiceProcess }> {
    const stack = this.stack;
    if (!this.profileDir || !stack) return [];
    return [
      ...stack.publishers.map((process, i) => ({ role: roleName('publisher', i, stack.publishers), process })),
      ...stack.dispatchers.map((process, i) => ({ role: roleName('dispatcher', i, stack.dispatchers), process })),
    ];
  }

  /** Starts a CPU profile in every profiled service (a no-op without `profileDir`). */
  startProfiling(): void {
    for (const { process } of this.profiled) signal(process.pid, 'SIGUSR2');
  }

  /** Stops the profiles {@link BenchEnvironment.startProfiling} started; resolves with the files once written. */
  async stopProfiling(timeoutMillis = 30_000): Promise<ProfileFile[]> {
    const dir = this.profileDir;
    if (!dir) return [];
    const before = new Set(profileFiles(dir));
    const profiled = this.profiled;
    for (const { process } of profiled) signal(process.pid, 'SIGUSR2');
    const deadline = Date.now() + timeoutMillis;
    for (;;) {
      const fresh = profileFiles(dir).filter((file) => !before.has(file));
      const found = profiled.flatMap(({ role, process }) => {
        const file = fresh.find((name) => name.includes(`-${process.pid}-`));
        return file ? [{ role, file: path.join(dir, file) }] : [];
      });
      if (found.length === profiled.length || Date.now() > deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Stops the publishers, deletes the subscriptions and Herald topics the
   * scenarios created (an outside Kafka keeps no benchmark data), then stops
   * the rest and our Kafka, whose data goes with it.
   */
  async stop(log: (line: string) => void = () => {}): Promise<void> {
    if (this.keptRawTopics.size > 0) {
      await deleteRawTopics(benchKafka(this.kafkaBrokers, 'herald-bench-cleanup'), [...this.keptRawTopics], log);
      this.keptRawTopics.clear();
    }
    if (this.stack) await this.stopStack(this.stack, log);
    await this.localKafka?.stop({ removeData: true });
  }

  /** Stops the publishers, deletes what the scenarios created through the registry, then stops the stack. */
  private async stopStack(stack: HeraldStack, log: (line: string) => void): Promise<void> {
    await Promise.all(stack.publishers.map((publisher) => publisher.stop()));
    if (this.registry.running) {
      await this.deleteThroughRegistry(
        { subscriptions: this.heraldSubscriptions.splice(0), topics: this.heraldTopics.splice(0) },
        (what, name, error) => log(`could not delete ${what} ${name}: ${error.message}`),
      );
    }
    await stack.stop();
  }
}

/** Starts the Herald stack on `brokers`, its publishers and dispatchers with the profiling hook if asked. */
async function startStack(brokers: string[], options: BenchEnvironmentOptions): Promise<HeraldStack> {
  const profiled = options.profileDir ? profilingEnv(options.profileDir) : undefined;
  const stack = await HeraldStack.start({
    kafkaBrokers: brokers,
    logDir: options.logDir,
    instances: { 'subscriber-registry': 1, publisher: 1, dispatcher: options.dispatchers },
    env: {
      HERALD_TOPIC_PREFIX: benchTopicPrefix,
      // herald-push-end-to-end pushes to an http:// endpoint on loopback, in the benchmark process.
      REGISTRY_PUSH_ALLOW_INSECURE: 'true',
      REGISTRY_PUSH_ALLOW_PRIVATE: 'true',
      DISPATCHER_PUSH_ALLOW_PRIVATE: 'true',
    },
    serviceEnv: profiled && { publisher: profiled, dispatcher: profiled },
  });
  options.log(
    `Herald stack up: registry ${stack.registries[0]!.address}, publisher ${stack.publishers[0]!.address}, ` +
      `dispatcher ${stack.dispatchers.map((d) => d.address).join(', ')}`,
  );
  return stack;
}

/** The environment of a profiled service: the hook preloaded, and where it writes. */
function profilingEnv(profileDir: string): Record<string, string> {
  mkdirSync(profileDir, { recursive: true });
  const hook = path.join(__dirname, 'cpu-profile-hook.js');
  return {
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require "${hook}"`].filter(Boolean).join(' '),
    [profileDirVariable]: profileDir,
  };
}

function profileFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
}

function roleName(base: string, index: number, all: ServiceProcess[]): string {
  return all.length > 1 ? `${base}-${index + 1}` : base;
}

function roles(base: string, processes: ServiceProcess[]): MeteredProcess[] {
  return processes.flatMap((process, i) =>
    process.running ? [{ role: roleName(base, i, processes), pid: process.pid }] : [],
  );
}
