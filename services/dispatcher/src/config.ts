import { commonEnv, hostPorts, int, port, readEnv, str } from '@herald/config';

/** Every variable the dispatcher reads, with its default. */
export const dispatcherEnv = {
  ...commonEnv,
  DISPATCHER_HOST: str({ default: '127.0.0.1', desc: 'Address the gRPC server binds; 0.0.0.0 in containers' }),
  DISPATCHER_PORT: port({ default: 50053, desc: 'gRPC port' }),
  REGISTRY_ADDRESSES: hostPorts({
    default: ['127.0.0.1:50052'],
    desc: 'Every subscriber-registry instance, comma-separated host:port',
  }),
  DISPATCHER_DEDUP_WINDOW_MS: int(
    0,
    86_400_000,
  )({
    default: 600_000,
    desc: 'Messages repeating an idempotency key seen this recently are delivered once; 0 turns it off',
  }),
  DISPATCHER_MAX_HELD_PER_PARTITION: int(
    10,
    1_000_000,
  )({
    default: 5_000,
    desc: 'Unsettled messages of one partition held before its fetching pauses',
  }),
  DISPATCHER_MAX_HELD_PER_SUBSCRIPTION: int(
    10,
    10_000_000,
  )({
    default: 50_000,
    desc: 'Unsettled messages of one subscription held before all its fetching pauses',
  }),
  DISPATCHER_SESSION_TIMEOUT_MS: int(
    3_000,
    300_000,
  )({
    default: 10_000,
    desc: 'Kafka consumer session: how soon a dead dispatcher’s partitions move to the others',
  }),
  DISPATCHER_COMMIT_INTERVAL_MS: int(50, 60_000)({ default: 1_000, desc: 'How often settled offsets are committed' }),
  DISPATCHER_MAX_BATCH_MESSAGES: int(1, 10_000)({ default: 500, desc: 'Most messages in one StreamingPull response' }),
  DISPATCHER_MAX_STREAMS: int(
    1,
    1_000_000,
  )({
    default: 1_000,
    desc: 'Open StreamingPull and Tail streams one dispatcher serves; past it a new stream gets RESOURCE_EXHAUSTED',
  }),
  DISPATCHER_IDLE_GRACE_MS: int(
    0,
    600_000,
  )({
    default: 5_000,
    desc: 'How long a subscription’s consumer outlives its last stream',
  }),
};

/** The dispatcher's configuration, read once at start-up. */
export function readDispatcherConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnv(dispatcherEnv, env);
}
