import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** The services a server lists through gRPC server reflection (v1), as grpcurl `list` would show them. */
export function listServicesByReflection(address: string): Promise<string[]> {
  const protoFile = path.join(
    path.dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const definition = grpc.loadPackageDefinition(protoLoader.loadSync(protoFile, { keepCase: true }));
  const v1 = ((definition.grpc as grpc.GrpcObject).reflection as grpc.GrpcObject).v1 as grpc.GrpcObject;
  const Reflection = v1.ServerReflection as unknown as new (
    a: string,
    c: grpc.ChannelCredentials,
  ) => grpc.Client & {
    ServerReflectionInfo(): grpc.ClientDuplexStream<
      object,
      { list_services_response?: { service: { name: string }[] } }
    >;
  };
  const client = new Reflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (response) => {
      resolve((response.list_services_response?.service ?? []).map((s: { name: string }) => s.name).sort());
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write({ list_services: '' });
  });
}
