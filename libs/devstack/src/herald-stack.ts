import path from 'node:path';
import { freePort } from '@herald/local-kafka';
import { type ServiceName, ServiceProcess } from './service-process';

/** Options of {@link HeraldStack.start}. */
export interface HeraldStackOptions {
  /** Kafka bootstrap servers. */
  kafkaBrokers: string[];
  /** Folder for the services' log files. */
  logDir: string;
  /** Instances of each service. @defaultValue one of each */
  instances?: Partial<Record<ServiceName, number>>;
  /** Fixed ports: instance i of a service gets `ports[service] + i`. @defaultValue free ports */
  ports?: Partial<Record<ServiceName, number>>;
  /** Fixed metrics ports, the same way. @defaultValue free ports */
  metricsPorts?: Partial<Record<ServiceName, number>>;
  /** Extra environment for every service (a topic prefix per test suite, limits...). */
  env?: Record<string, string>;
  /** Extra environment per service. */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
}

/**
 * Herald's three services as local processes against one Kafka: the registry
 * first (the others read it), then publishers and dispatchers, each pointed
 * at every registry instance.
 */
export class HeraldStack {
  private constructor(
    readonly registries: ServiceProcess[],
    readonly publishers: ServiceProcess[],
    readonly dispatchers: ServiceProcess[],
  ) {}

  static async start(options: HeraldStackOptions): Promise<HeraldStack> {
    const started: ServiceProcess[] = [];
    const startAll = async (service: ServiceName, extraEnv: Record<string, string>) => {
      const count = options.instances?.[service] ?? 1;
      const processes = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          const fixed = options.ports?.[service];
          const fixedMetrics = options.metricsPorts?.[service];
          // A port found free may be taken before the service binds it (an outgoing connection gets it from
          // the kernel's ephemeral range: seen in CI as EADDRINUSE): ports picked here are picked again.
          for (let attempt = 1; ; attempt++) {
            const picked = fixed === undefined || fixedMetrics === undefined;
            try {
              const process = await ServiceProcess.start({
                service,
                port: fixed !== undefined ? fixed + i : await freePort(),
                metricsPort: fixedMetrics !== undefined ? fixedMetrics + i : undefined,
                logFile: path.join(options.logDir, `${service}-${i + 1}.log`),
                env: {
                  KAFKA_BROKERS: options.kafkaBrokers.join(','),
                  HERALD_INSTANCE_ID: `${service}-${i + 1}`,
                  ...options.env,
                  ...options.serviceEnv?.[service],
                  ...extraEnv,
                },
              });
              started.push(process);
              return process;
            } catch (error) {
              if (!picked || attempt >= 3 || !String((error as Error).message).includes('EADDRINUSE')) throw error;
            }
          }
        }),
      );
      return processes;
    };
    try {
      const registries = await startAll('subscriber-registry', {});
      const registryEnv = { REGISTRY_ADDRESSES: registries.map((r) => r.address).join(',') };
      const [publishers, dispatchers] = await Promise.all([
        startAll('publisher', registryEnv),
        startAll('dispatcher', registryEnv),
      ]);
      return new HeraldStack(registries, publishers, dispatchers);
    } catch (error) {
      await Promise.all(started.map((process) => process.stop(5_000)));
      throw error;
    }
  }

  /** The `HERALD_*` variables by which clients (the CLI, the Python and Go clients) find every instance. */
  get endpointEnv(): Record<string, string> {
    const addresses = (processes: ServiceProcess[]) => processes.map((p) => p.address).join(',');
    return {
      HERALD_REGISTRY: addresses(this.registries),
      HERALD_PUBLISHER: addresses(this.publishers),
      HERALD_DISPATCHER: addresses(this.dispatchers),
    };
  }

  /** Every process of the stack. */
  get all(): ServiceProcess[] {
    return [...this.publishers, ...this.dispatchers, ...this.registries];
  }

  /** Stops every service with SIGTERM: publishers and dispatchers first, the registry last. */
  async stop(): Promise<void> {
    await Promise.all([...this.publishers, ...this.dispatchers].map((process) => process.stop()));
    await Promise.all(this.registries.map((process) => process.stop()));
  }
}
