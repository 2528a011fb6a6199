import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { fileDescriptorProtos } from '@herald/api';
import type { Logger } from '@herald/logging';
import { HealthImplementation } from 'grpc-health-check';
import type { PackageDefinition } from '@grpc/proto-loader';
import { type AsyncService, withErrorHandling } from './error-middleware';

/** One gRPC service to serve: its generated definition, its full name and its handlers. */
export interface ServiceBinding<D extends grpc.ServiceDefinition = grpc.ServiceDefinition> {
  /** Full name, as health checks and reflection know it: `herald.v1.PublisherService`. */
  name: string;
  definition: D;
  handlers: AsyncService<D>;
}

/** Binds a definition to its handlers with the types checked. */
export function bindService<D extends grpc.ServiceDefinition>(
  name: string,
  definition: D,
  handlers: AsyncService<D>,
): ServiceBinding {
  return { name, definition, handlers } as unknown as ServiceBinding;
}

/** Options of {@link HeraldServer}. */
export interface HeraldServerOptions {
  logger: Logger;
  services: ServiceBinding[];
  /** Largest request message accepted, in bytes. @defaultValue 4 MiB */
  maxReceiveMessageBytes?: number;
}

/**
 * The frame every Herald service runs in: its gRPC services wrapped with the
 * error middleware, the standard `grpc.health.v1.Health` service (NOT_SERVING
 * until {@link HeraldServer.setServing} is called) and server reflection.
 */
export class HeraldServer {
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private readonly serviceNames: string[];
  private readonly logger: Logger;

  constructor(options: HeraldServerOptions) {
    this.logger = options.logger;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
      'grpc.max_send_message_length': 64 * 1024 * 1024,
      // Clients keep long streams open: let them ping, and ping back to find dead peers.
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.http2.min_ping_interval_without_data_ms': 5_000,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
    });
    this.serviceNames = options.services.map((service) => service.name);
    this.health = new HealthImplementation(
      Object.fromEntries(['', ...this.serviceNames].map((name) => [name, 'NOT_SERVING'])),
    );
    this.health.addToServer(this.server);
    // Reflection reads only `fileDescriptorProtos`; buf's descriptors keep real file names and imports,
    // which proto-loader's synthetic ones lack (grpcurl then fails to resolve google.protobuf types).
    const descriptors = { herald: { fileDescriptorProtos: fileDescriptorProtos() } } as unknown as PackageDefinition;
    new ReflectionService(descriptors, { services: ['grpc.health.v1.Health', ...this.serviceNames] }).addToServer(
      this.server,
    );
    for (const service of options.services) {
      this.server.addService(service.definition, withErrorHandling(service.definition, service.handlers, this.logger));
    }
  }

  /** Starts listening. Resolves with the bound port (useful when `port` is 0). */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
        if (error) return reject(error);
        this.logger.info({ host, port: boundPort, services: this.serviceNames }, 'listening');
        resolve(boundPort);
      });
    });
  }

  /** Flips every health status: SERVING once ready, NOT_SERVING while stopping. */
  setServing(serving: boolean): void {
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    for (const name of ['', ...this.serviceNames]) this.health.setStatus(name, status);
  }

  /**
   * Stops taking new calls and waits up to `graceMillis` for running ones to
   * end, then cancels what is left.
   */
  async stop(graceMillis = 10_000): Promise<void> {
    this.setServing(false);
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
    });
  }
}
