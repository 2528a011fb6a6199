import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/** The folder that holds `herald/v1/*.proto`: the API's source of truth. */
export const protoDir = path.resolve(__dirname, '..', '..', '..', '..', 'proto');

/** Every Herald proto file, relative to {@link protoDir}. */
export const protoFiles = [
  'herald/v1/types.proto',
  'herald/v1/publisher.proto',
  'herald/v1/subscriber_registry.proto',
  'herald/v1/dispatcher.proto',
];

/**
 * Loads the protos with proto-loader. Handlers use the ts-proto types; this
 * definition feeds gRPC server reflection, which needs the descriptors.
 */
export function loadProtoDefinition(extraFiles: string[] = []): protoLoader.PackageDefinition {
  return protoLoader.loadSync([...protoFiles, ...extraFiles], {
    includeDirs: [protoDir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
}
