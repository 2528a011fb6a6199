import { UsageError } from './exit-codes';

/** Where each Herald service listens: every instance, as `host:port`. */
export interface Endpoints {
  registry: string[];
  publisher: string[];
  dispatcher: string[];
}

/** The service kinds the CLI talks to. */
export type ServiceKind = keyof Endpoints;

/** The addresses `make run` listens on. */
export const defaultEndpoints: Readonly<Endpoints> = {
  registry: ['127.0.0.1:50052'],
  publisher: ['127.0.0.1:50051'],
  dispatcher: ['127.0.0.1:50053'],
};

/** The environment variable that sets each service's endpoints when its flag is absent. */
export const endpointVariables: Readonly<Record<ServiceKind, string>> = {
  registry: 'HERALD_REGISTRY',
  publisher: 'HERALD_PUBLISHER',
  dispatcher: 'HERALD_DISPATCHER',
};

const hostPort = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/**
 * Splits a comma-separated `host:port` list (IPv6 hosts in brackets).
 *
 * @param source - names where the list came from, for the error (`--registry`, `HERALD_REGISTRY`)
 * @throws UsageError when the list is empty or an entry is not `host:port`
 */
export function parseEndpointList(text: string, source: string): string[] {
  const endpoints = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (endpoints.length === 0) throw new UsageError(`${source} is empty: give host:port[,host:port...]`);
  for (const endpoint of endpoints) {
    const port = Number(hostPort.exec(endpoint)?.[1] ?? 0);
    if (port < 1 || port > 65535) throw new UsageError(`${source}: "${endpoint}" is not host:port`);
  }
  return endpoints;
}

/**
 * Each service's endpoints: from its flag if given, else from its environment
 * variable if set, else `make run`'s address.
 *
 * @throws UsageError naming the flag or variable that holds a bad list
 */
export function resolveEndpoints(
  flags: Partial<Record<ServiceKind, string>>,
  env: Readonly<Record<string, string | undefined>>,
): Endpoints {
  const resolve = (kind: ServiceKind): string[] => {
    const flag = flags[kind];
    if (flag !== undefined) return parseEndpointList(flag, `--${kind}`);
    const variable = env[endpointVariables[kind]];
    if (variable !== undefined && variable !== '') return parseEndpointList(variable, endpointVariables[kind]);
    return [...defaultEndpoints[kind]];
  };
  return { registry: resolve('registry'), publisher: resolve('publisher'), dispatcher: resolve('dispatcher') };
}
