import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

/** Where `make proto` writes the descriptor sets (beside the generated code). */
const descriptorDir = path.resolve(__dirname, '..', '..', 'src', 'gen');

/**
 * The serialized file descriptors of Herald's protos (with the well-known types
 * they import and their comments) and of `grpc.health.v1`, as `buf build` wrote
 * them. Server reflection serves these, so that grpcurl and other tools see the
 * real file names, imports and documentation.
 */
export function fileDescriptorProtos(): Buffer[] {
  return ['herald.binpb', 'health.binpb'].flatMap((file) => {
    const set = fromBinary(FileDescriptorSetSchema, readFileSync(path.join(descriptorDir, file)));
    return set.file.map((descriptor) => Buffer.from(toBinary(FileDescriptorProtoSchema, descriptor)));
  });
}
