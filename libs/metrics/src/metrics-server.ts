import { type Server, createServer } from 'node:http';
import type { Logger } from '@herald/logging';
import type { Registry } from 'prom-client';

/** A document served beside the metrics: its content type and its current body. */
export interface ExtraRoute {
  contentType: string;
  body: () => string;
}

/** The HTTP endpoint Prometheus scrapes. */
export interface MetricsServer {
  /** The bound port (useful when asked for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `registry` as Prometheus text on `GET /metrics` (and OpenMetrics when
 * the scraper asks for it), on a port of its own so that the gRPC port
 * stays gRPC-only and a scrape never queues behind calls.
 */
export async function serveMetrics(
  registry: Registry,
  options: { host: string; port: number; logger: Logger; routes?: Record<string, ExtraRoute> },
): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    const routes = options.routes;
    const extra = request.method === 'GET' && routes && Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (extra) {
      response.writeHead(200, { 'content-type': extra.contentType, 'cache-control': 'max-age=300' }).end(extra.body());
      return;
    }
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => {
        options.logger.error({ err: error }, 'metrics not collected');
        response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics could not be collected\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.info({ host: options.host, port, path: '/metrics' }, 'serving metrics');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
