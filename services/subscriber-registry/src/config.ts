import { commonEnv, port, readEnv, str } from '@herald/config';

/** Every variable the subscriber-registry reads, with its default. */
export const registryEnv = {
  ...commonEnv,
  REGISTRY_HOST: str({ default: '127.0.0.1', desc: 'Address the gRPC server binds; 0.0.0.0 in containers' }),
  REGISTRY_PORT: port({ default: 50052, desc: 'gRPC port' }),
};

/** The subscriber-registry's configuration, read once at start-up. */
export function readRegistryConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnv(registryEnv, env);
}
