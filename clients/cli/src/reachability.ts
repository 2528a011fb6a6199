import { createConnection } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/**
 * Why nothing accepts a TCP connection at `host:port` within the time, in a
 * few words (`connection refused`, `unknown host`...), or undefined when
 * something does. The CLI asks this before its first call: grpc-js alone
 * keeps retrying an address that never answers until the call's deadline
 * (21 to 62 s), then reports it as a DEADLINE_EXCEEDED about an "LB pick".
 */
export function unreachableReason(address: string, timeoutMillis: number): Promise<string | undefined> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.setTimeout(timeoutMillis, () => done(`no answer within ${timeoutMillis / 1000} s`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => done(describeSocketError(error)));
  });
}

function describeSocketError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'unknown host';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to host';
    default:
      return error.code ?? error.message;
  }
}

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
}

let healthClientConstructor: (new (address: string, credentials: grpc.ChannelCredentials) => HealthClient) | undefined;

/**
 * The status a service's standard health check answers (`SERVING`,
 * `NOT_SERVING`...), or `UNREACHABLE` when it does not answer in time. Herald's
 * services answer NOT_SERVING while Kafka or the registry is out of reach.
 */
export function healthStatus(
  address: string,
  timeoutMillis: number,
  credentials = grpc.credentials.createInsecure(),
): Promise<string> {
  if (!healthClientConstructor) {
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { enums: String }));
    const health = (definition.grpc as grpc.GrpcObject).health as grpc.GrpcObject;
    healthClientConstructor = (health.v1 as grpc.GrpcObject).Health as unknown as typeof healthClientConstructor;
  }
  const client = new healthClientConstructor!(address, credentials);
  return new Promise((resolve) => {
    client.check({ service: '' }, { deadline: Date.now() + timeoutMillis }, (error, response) => {
      client.close();
      resolve(error ? 'UNREACHABLE' : (response?.status ?? 'UNKNOWN'));
    });
  });
}
