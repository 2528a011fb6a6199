import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

interface HealthClient extends grpc.Client {
  check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
}

let healthClientConstructor: (new (address: string, credentials: grpc.ChannelCredentials) => HealthClient) | undefined;

function healthClient(address: string, credentials: grpc.ChannelCredentials): HealthClient {
  if (!healthClientConstructor) {
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { enums: String }));
    const health = (definition.grpc as grpc.GrpcObject).health as grpc.GrpcObject;
    const v1 = health.v1 as grpc.GrpcObject;
    healthClientConstructor = v1.Health as unknown as typeof healthClientConstructor;
  }
  return new healthClientConstructor!(address, credentials);
}

/**
 * The credentials that reach a service started with `env`: TLS when it serves
 * TLS (HERALD_TLS_CERT), trusting its HERALD_TLS_CA and showing its own client
 * certificate, which a service requiring mTLS accepts as it accepts its peers.
 */
export function probeCredentials(env: Record<string, string | undefined>): grpc.ChannelCredentials {
  if (!env.HERALD_TLS_CERT) return grpc.credentials.createInsecure();
  const read = (file: string | undefined) => (file ? readFileSync(file) : null);
  return grpc.credentials.createSsl(
    read(env.HERALD_TLS_CA),
    read(env.HERALD_TLS_CLIENT_KEY),
    read(env.HERALD_TLS_CLIENT_CERT),
  );
}

/** The status a service's `grpc.health.v1.Health/Check` answers, or the error text when it does not answer. */
export function checkHealth(
  address: string,
  service = '',
  timeoutMillis = 1_000,
  credentials = grpc.credentials.createInsecure(),
): Promise<string> {
  const client = healthClient(address, credentials);
  return new Promise((resolve) => {
    client.check({ service }, { deadline: Date.now() + timeoutMillis }, (error, response) => {
      client.close();
      resolve(error ? `error: ${error.details || error.message}` : (response?.status ?? 'UNKNOWN'));
    });
  });
}
