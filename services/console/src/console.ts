import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TlsOptions } from '@herald/client';
import type { Logger } from '@herald/logging';
import { type HeraldEndpoints, HeraldGateway } from './herald-gateway';
import { createConsoleServer } from './http-server';
import { Sessions } from './sessions';
import { PublishRates } from './publish-rates';
import { RegistryIndex } from './registry-index';
import { StatsSampler } from './stats-sampler';

export interface ConsoleOptions {
  endpoints: HeraldEndpoints;
  host: string;
  port: number;
  statsIntervalMillis: number;
  /** Every publisher's /metrics URL, for publish rates; none: no rates. */
  publisherMetricsUrls?: string[];
  /** TLS to the services; absent: plaintext. */
  tls?: TlsOptions | undefined;
  /** The console's own token, for its registry watch and figures (and every call when sign-in is off). */
  ownToken?: (() => string) | undefined;
  /** Operators sign in with their own tokens, which every call they cause carries. */
  signIn?: boolean;
  /** @defaultValue dist/web beside this file's dist/src */
  webDir?: string;
  log: Logger;
}

/** A running console: its URL, and stop(). */
export interface RunningConsole {
  url: string;
  server: Server;
  index: RegistryIndex;
  stop(): Promise<void>;
}

/** The built page: services/console/dist/web, beside dist/src where this file runs from. */
export const defaultWebDir = path.resolve(__dirname, '..', 'web');

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const gateway = new HeraldGateway(options.endpoints, { tls: options.tls, token: options.ownToken });
  const sessions = options.signIn ? new Sessions(options.endpoints, { tls: options.tls }) : undefined;
  const index = new RegistryIndex(gateway.watchRegistry(options.log));
  const sampler = new StatsSampler({
    read: (names) => gateway.subscriptionStats(names),
    intervalMillis: options.statsIntervalMillis,
  });
  const rates = new PublishRates(options.publisherMetricsUrls ?? []);
  rates.start();
  sampler.start();
  const server = createConsoleServer({
    gateway,
    sessions,
    index,
    sampler,
    rates,
    webDir: path.resolve(options.webDir || defaultWebDir),
    log: options.log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}/`,
    server,
    index,
    async stop() {
      sampler.stop();
      rates.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
      await sessions?.close();
    },
  };
}
