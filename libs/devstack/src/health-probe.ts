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

function healthClient(address: string): HealthClient {
  if (!healthClientConstructor) {
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { enums: String }));
    const health = (definition.grpc as grpc.GrpcObject).health as grpc.GrpcObject;
    const v1 = health.v1 as grpc.GrpcObject;
    healthClientConstructor = v1.Health as unknown as typeof healthClientConstructor;
  }
  return new healthClientConstructor!(address, grpc.credentials.createInsecure());
}

/** The status a service's `grpc.health.v1.Health/Check` answers, or the error text when it does not answer. */
export function checkHealth(address: string, service = '', timeoutMillis = 1_000): Promise<string> {
  const client = healthClient(address);
  return new Promise((resolve) => {
    client.check({ service }, { deadline: Date.now() + timeoutMillis }, (error, response) => {
      client.close();
      resolve(error ? `error: ${error.details || error.message}` : (response?.status ?? 'UNKNOWN'));
    });
  });
}
