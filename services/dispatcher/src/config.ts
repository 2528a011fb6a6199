import { bool, commonEnv, hostPorts, int, port, readEnv, str } from '@herald/config';

/** Every variable the dispatcher reads, with its default. */
export const dispatcherEnv = {
  ...commonEnv,
  DISPATCHER_HOST: str({ default: '127.0.0.1', desc: 'Address the gRPC server binds; 0.0.0.0 in containers' }),
  DISPATCHER_PORT: port({ default: 50053, desc: 'gRPC port' }),
  DISPATCHER_METRICS_PORT: port({ default: 9463, desc: 'HTTP port of /metrics (Prometheus), on DISPATCHER_HOST' }),
  DISPATCHER_ADVERTISED_ADDRESS: str({
    default: '',
    desc: 'host:port other dispatchers use to forward streams here; empty: DISPATCHER_HOST:DISPATCHER_PORT (the host name when bound to 0.0.0.0)',
  }),
  DISPATCHER_SLOTS: int(
    1,
    4_096,
  )({
    default: 32,
    desc: 'Slots subscriptions are spread over among dispatchers (partitions of the cursor topic); read only when that topic is created',
  }),
  DISPATCHER_FEED_WINDOW_BYTES: int(
    65_536,
    1_073_741_824,
  )({
    default: 8 * 1024 * 1024,
    desc: 'Recent message bytes kept per partition read, shared by the subscriptions reading it; one behind them reads from a catch-up feed',
  }),
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
    desc: 'Membership session in the dispatchers’ group: how soon a dead dispatcher’s subscriptions move to the others',
  }),
  DISPATCHER_EXACTLY_ONCE_PROOF_MS: int(
    1_000,
    60_000,
  )({
    default: 5_000,
    desc: 'Exactly-once subscriptions: how long after its last stored write a dispatcher may lease, and how long a new owner waits after a crash before delivering',
  }),
  DISPATCHER_COMMIT_INTERVAL_MS: int(
    50,
    60_000,
  )({ default: 1_000, desc: 'How often subscriptions’ settled positions are stored (one write for all)' }),
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
    desc: 'How long a subscription stays served after its last stream left',
  }),
  DISPATCHER_HEAP_COMPACTION_INTERVAL_MS: int(
    0,
    3_600_000,
  )({
    default: 5_000,
    desc: 'How often to look whether the heap grew by a burst (attaching many streams) and the process is idle (event loop busy under 5%); then one compacting collection gives the memory back (a pause of some 100 ms per 100 MB), and at the next look the C allocator gives back its free pages (glibc). 0 never compacts',
  }),
  DISPATCHER_PUSH_ALLOW_PRIVATE: bool({
    default: false,
    desc: 'Push to endpoints whose host resolves to loopback, private or link-local addresses (refused otherwise, against SSRF)',
  }),
  DISPATCHER_PUSH_SIGNING_KEY_FILE: str({
    default: '',
    desc: 'PEM private key (PKCS #8, RSA or EC P-256) signing push tokens, shared by every dispatcher; empty: a key made at start',
  }),
  DISPATCHER_PUSH_TOKEN_ISSUER: str({
    default: 'herald',
    desc: 'The iss claim of push tokens',
  }),
};

/** The dispatcher's configuration, read once at start-up. */
export function readDispatcherConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnv(dispatcherEnv, env);
}
