import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { fileDescriptorProtos } from '@herald/api';
import type { Logger } from '@herald/logging';
import { Gauge, type Registry } from '@herald/metrics';
import { HealthImplementation } from 'grpc-health-check';
import type { PackageDefinition } from '@grpc/proto-loader';
import type { AuthSettings, ServerTlsSettings } from '@herald/config';
import { Authenticator, authInterceptor } from './auth';
import type { PolicySource } from './authorization';
import { authorizationInterceptor } from './authorization-interceptor';
import { type QuotaSettings, quotaInterceptor } from './quota-interceptor';
import { type AsyncService, type MethodNeeds, withErrorHandling } from './error-middleware';
import { metricsInterceptor } from './metrics-interceptor';
import { Readiness } from './readiness';
import { ReloadingServerCredentials } from './server-credentials';

/**
 * The health service name a liveness probe asks: SERVING while the process
 * runs its event loop, whatever its dependencies do. Readiness is the empty
 * name and each served service's full name.
 */
export const livenessServiceName = 'liveness';

/** One gRPC service to serve: its generated definition, its full name and its handlers. */
export interface ServiceBinding<D extends grpc.ServiceDefinition = grpc.ServiceDefinition> {
  /** Full name, as health checks and reflection know it: `herald.v1.PublisherService`. */
  name: string;
  definition: D;
  handlers: AsyncService<D>;
  /** The dependencies each method needs: while one is down, calls fail at once with UNAVAILABLE. */
  needs?: MethodNeeds<D>;
}

/** Binds a definition to its handlers (and what each method needs) with the types checked. */
export function bindService<D extends grpc.ServiceDefinition>(
  name: string,
  definition: D,
  handlers: AsyncService<D>,
  needs?: MethodNeeds<D>,
): ServiceBinding {
  return { name, definition, handlers, needs } as unknown as ServiceBinding;
}

/** Options of {@link HeraldServer}. */
export interface HeraldServerOptions {
  logger: Logger;
  services: ServiceBinding[];
  /** Largest request message accepted, in bytes. @defaultValue 4 MiB */
  maxReceiveMessageBytes?: number;
  /** Where rpc counts, latencies and readiness are exported; none when metrics are off. */
  metrics?: Registry;
  /** Certificate, key and client CA files; absent: plaintext (the caller checked that it may be). */
  tls?: ServerTlsSettings;
  /** How callers are authenticated; absent: anyone who reaches the port may call. */
  auth?: AuthSettings;
  /** The role bindings every call is checked against (needs `auth`); absent: any authenticated caller may call. */
  authz?: PolicySource;
  /** Limits per principal (needs `auth`); absent: none. */
  quotas?: QuotaSettings;
}

/**
 * The frame every Herald service runs in: its gRPC services wrapped with the
 * error middleware, the standard `grpc.health.v1.Health` service and server
 * reflection.
 *
 * Health answers two questions. Readiness (the empty service name and each
 * service's full name) is SERVING only once {@link HeraldServer.setServing}
 * was called, while every dependency in {@link HeraldServer.readiness} is
 * up, and until stopping. Liveness ({@link livenessServiceName}) is SERVING
 * from `listen` until stopping: an outage of Kafka is no reason to restart.
 */
export class HeraldServer {
  /** The service's dependencies; marking one down turns readiness NOT_SERVING and fails the rpcs that need it. */
  readonly readiness = new Readiness();
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private readonly serviceNames: string[];
  private readonly logger: Logger;
  private started = false;
  /** Open server-streaming calls (Watch, Tail): ended at stop, since they never end by themselves. */
  private readonly serverStreams = new Set<grpc.ServerWritableStream<unknown, unknown>>();
  private readonly tls: ServerTlsSettings | undefined;
  private credentials: ReloadingServerCredentials | undefined;

  constructor(options: HeraldServerOptions) {
    this.logger = options.logger;
    this.tls = options.tls;
    // The authentication interceptor comes first, so that the metrics interceptor counts its refusals.
    // grpc-js hands a call's metadata and messages to the interceptors in this order, and a status one of them
    // sends passes back through those before it: metrics first counts every refusal; authentication names
    // the caller before authorisation and quotas look at it; a call refused by either uses no quota.
    const interceptors: grpc.ServerInterceptor[] = [];
    if (options.metrics) interceptors.push(metricsInterceptor(options.metrics));
    if (options.auth) interceptors.push(authInterceptor(new Authenticator(options.auth, this.logger), this.logger));
    if (options.authz) interceptors.push(authorizationInterceptor(options.authz, this.logger));
    if (options.quotas) interceptors.push(quotaInterceptor(options.quotas));
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      // Clients keep long streams open: let them ping, and ping back to find dead peers.
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      // Herald serves no channelz service, yet grpc-js would keep a tracker of four closures per call and
      // stamp the time on every message sent and received: a dispatcher with 10,000 idle streams held them all.
      'grpc.enable_channelz': 0,
      interceptors,
    });
    if (options.metrics) this.exportReadiness(options.metrics);
    this.serviceNames = options.services.map((service) => service.name);
    this.health = new HealthImplementation(
      Object.fromEntries(['', livenessServiceName, ...this.serviceNames].map((name) => [name, 'NOT_SERVING'])),
    );
    this.readiness.on('change', (dependency, up) => {
      this.logger.info({ dependency, up, ready: this.readiness.allUp }, up ? 'dependency back' : 'dependency down');
      this.publishReadiness();
    });
    this.health.addToServer(this.server);
    // Reflection reads only `fileDescriptorProtos`; buf's descriptors keep real file names and imports,
    // which proto-loader's synthetic ones lack (grpcurl then fails to resolve google.protobuf types).
    const descriptors = { herald: { fileDescriptorProtos: fileDescriptorProtos() } } as unknown as PackageDefinition;
    new ReflectionService(descriptors, { services: ['grpc.health.v1.Health', ...this.serviceNames] }).addToServer(
      this.server,
    );
    for (const service of options.services) {
      this.server.addService(
        service.definition,
        withErrorHandling(
          service.definition,
          service.handlers,
          this.logger,
          { readiness: this.readiness, needs: (service.needs ?? {}) as Record<string, readonly string[]> },
          this.serverStreams,
        ),
      );
    }
  }

  /** Starts listening. Resolves with the bound port (useful when `port` is 0). */
  listen(host: string, port: number): Promise<number> {
    let credentials: grpc.ServerCredentials;
    if (this.tls) {
      this.credentials ??= new ReloadingServerCredentials(this.tls, this.logger);
      this.credentials.watch();
      credentials = this.credentials;
    } else {
      credentials = grpc.ServerCredentials.createInsecure();
    }
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, credentials, (error, boundPort) => {
        if (error) return reject(error);
        const transport = this.tls ? (this.tls.clientAuth === 'require' ? 'mtls' : 'tls') : 'plaintext';
        if (transport === 'plaintext') {
          this.logger.warn(
            { host, port: boundPort },
            'serving PLAINTEXT gRPC: no TLS (set HERALD_TLS_CERT and HERALD_TLS_KEY)',
          );
        }
        this.logger.info({ host, port: boundPort, transport, services: this.serviceNames }, 'listening');
        this.health.setStatus(livenessServiceName, 'SERVING');
        resolve(boundPort);
      });
    });
  }

  /**
   * Start-up is done (true), or stopping has begun (false: liveness too turns
   * NOT_SERVING). Readiness is SERVING while this is true and every
   * dependency is up.
   */
  setServing(serving: boolean): void {
    this.started = serving;
    if (!serving) this.health.setStatus(livenessServiceName, 'NOT_SERVING');
    this.publishReadiness();
  }

  private exportReadiness(registry: Registry): void {
    const { readiness } = this;
    const isStarted = () => this.started;
    new Gauge({
      name: 'herald_ready',
      help: '1 while the health service answers SERVING (started, every dependency up, not stopping), else 0',
      registers: [registry],
      collect() {
        this.set(isStarted() && readiness.allUp ? 1 : 0);
      },
    });
    new Gauge({
      name: 'herald_dependency_up',
      help: '1 while this instance reaches the dependency (kafka, registry), else 0',
      labelNames: ['dependency'],
      registers: [registry],
      collect() {
        for (const { dependency, up } of readiness.states()) this.set({ dependency }, up ? 1 : 0);
      },
    });
  }

  private publishReadiness(): void {
    const status = this.started && this.readiness.allUp ? 'SERVING' : 'NOT_SERVING';
    for (const name of ['', ...this.serviceNames]) this.health.setStatus(name, status);
  }

  /**
   * Stops taking new calls and waits up to `graceMillis` for running ones to
   * end, then cancels what is left. Server-streaming calls (Watch, Tail) are
   * ended at once with UNAVAILABLE: they never end by themselves, so they
   * would hold every stop for the whole grace period while their clients
   * could already be reconnecting to another instance.
   */
  async stop(graceMillis = 10_000): Promise<void> {
    this.setServing(false);
    this.credentials?.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn({ graceMillis }, 'calls still running after the grace period; cancelling them');
        this.server.forceShutdown();
        resolve();
      }, graceMillis);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
      for (const call of this.serverStreams) {
        if (call.cancelled || call.writableEnded) continue;
        call.emit('error', {
          code: grpc.status.UNAVAILABLE,
          details: 'server stopping; reconnect to another instance',
        });
      }
    });
  }
}
