import type { Logger } from '@herald/logging';
import type { Registry } from 'prom-client';
import { type ExtraRoute, serveMetrics } from './metrics-server';
import { createMetricsRegistry } from './registry';

/** Options of {@link startServiceMetrics}. */
export interface ServiceMetricsOptions {
  service: string;
  /** HERALD_METRICS_ENABLED. */
  enabled: boolean;
  host: string;
  port: number;
  logger: Logger;
  /** Documents served on the same port by path (the dispatcher's `/.well-known/jwks.json`). */
  routes?: Record<string, ExtraRoute>;
}

/** A service's metrics: what its parts register into, and the endpoint serving them. */
export interface ServiceMetrics {
  registry: Registry;
  /** The registry when metrics are on, else undefined: what the gRPC server's interceptor takes. */
  exported: Registry | undefined;
  close(): Promise<void>;
}

/**
 * Creates a service's registry and serves it at once, before the service
 * connects to anything: `herald_ready` 0 during a slow start is worth seeing.
 */
export async function startServiceMetrics(options: ServiceMetricsOptions): Promise<ServiceMetrics> {
  const registry = createMetricsRegistry(options);
  if (!options.enabled) {
    options.logger.info('metrics off (HERALD_METRICS_ENABLED=false)');
    return { registry, exported: undefined, close: async () => undefined };
  }
  const server = await serveMetrics(registry, options);
  return { registry, exported: registry, close: () => server.close() };
}
