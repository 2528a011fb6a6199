import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** Herald's version: every package of the repository carries the same one. */
export const heraldVersion: string = (
  JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }
).version;

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** The service name, as `herald_build_info` says it. */
  service: string;
  /**
   * Off, nothing is exported or collected in the background (no event-loop
   * monitor, no GC observer): the registry still counts, unread.
   */
  enabled: boolean;
}

/**
 * One process's metrics: Node's process and runtime defaults (CPU, memory,
 * event-loop lag, GC) and `herald_build_info`, to which each service adds its
 * own. Prometheus scrapes it through {@link serveMetrics}.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  if (!options.enabled) return registry;
  collectDefaultMetrics({ register: registry });
  // Gauges named like counters, which `promtool check metrics` refuses; nodejs_active_{handles,requests,resources}
  // say the same by type.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
  const info = new Gauge({
    name: 'herald_build_info',
    help: 'Always 1; its labels say which Herald service and version this process runs',
    labelNames: ['service', 'version', 'node_version'],
    registers: [registry],
  });
  info.set({ service: options.service, version: heraldVersion, node_version: process.version }, 1);
  return registry;
}
