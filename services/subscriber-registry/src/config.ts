import { bool, commonEnv, int, port, readEnv, str } from '@herald/config';

/** Every variable the subscriber-registry reads, with its default. */
export const registryEnv = {
  ...commonEnv,
  REGISTRY_HOST: str({ default: '127.0.0.1', desc: 'Address the gRPC server binds; 0.0.0.0 in containers' }),
  REGISTRY_PORT: port({ default: 50052, desc: 'gRPC port' }),
  REGISTRY_METRICS_PORT: port({ default: 9462, desc: 'HTTP port of /metrics (Prometheus), on REGISTRY_HOST' }),
  REGISTRY_DEFAULT_PARTITIONS: int(1, 1000)({ default: 3, desc: 'Partitions of a topic created without a count' }),
  REGISTRY_DEFAULT_RETENTION_HOURS: int(
    1,
    87_600,
  )({
    default: 168,
    desc: 'Retention of a topic created without one, in hours',
  }),
  REGISTRY_REPLICATION_FACTOR: int(
    0,
    10,
  )({
    default: 0,
    desc: 'Replication factor of new Kafka topics and of the registry log; 0 means min(3, brokers)',
  }),
  REGISTRY_WRITE_TIMEOUT_MS: int(
    1_000,
    600_000,
  )({
    default: 15_000,
    desc: 'A change that cannot be written to the log in this time fails with UNAVAILABLE',
  }),
  REGISTRY_PUSH_ALLOW_INSECURE: bool({
    default: false,
    desc: 'Push subscriptions may name http:// endpoints and plaintext grpc:// targets (else https and TLS only)',
  }),
  REGISTRY_PUSH_ALLOW_PRIVATE: bool({
    default: false,
    desc: 'Push endpoints may be literal loopback, private or link-local addresses (dispatchers check resolved ones with DISPATCHER_PUSH_ALLOW_PRIVATE)',
  }),
};

/** The subscriber-registry's configuration, read once at start-up. */
export function readRegistryConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnv(registryEnv, env);
}
