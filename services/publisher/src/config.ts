import { ConfigError, commonEnv, hostPorts, int, port, readEnv, str } from '@herald/config';
import { defaultPublishLimits as d } from './domain/publish-limits';

const MiB = 1024 * 1024;

/** Every variable the publisher reads, with its default. */
export const publisherEnv = {
  ...commonEnv,
  PUBLISHER_HOST: str({ default: '127.0.0.1', desc: 'Address the gRPC server binds; 0.0.0.0 in containers' }),
  PUBLISHER_PORT: port({ default: 50051, desc: 'gRPC port' }),
  PUBLISHER_METRICS_PORT: port({ default: 9461, desc: 'HTTP port of /metrics (Prometheus), on PUBLISHER_HOST' }),
  REGISTRY_ADDRESSES: hostPorts({
    default: ['127.0.0.1:50052'],
    desc: 'Every subscriber-registry instance, comma-separated host:port',
  }),
  PUBLISHER_MAX_MESSAGE_BYTES: int(
    1,
    100 * MiB,
  )({
    default: d.maxMessageBytes,
    desc: 'Largest message (data, attributes and keys)',
  }),
  PUBLISHER_MAX_BATCH_MESSAGES: int(1, 100_000)({ default: d.maxBatchMessages, desc: 'Most messages per request' }),
  PUBLISHER_MAX_BATCH_BYTES: int(
    1,
    100 * MiB,
  )({ default: d.maxBatchBytes, desc: 'Largest request, all messages together' }),
  PUBLISHER_MAX_RECEIVE_BYTES: int(
    MiB,
    1024 * MiB,
  )({
    default: 64 * MiB,
    desc:
      'Largest gRPC request read at all: one larger gets RESOURCE_EXHAUSTED from gRPC before it is read. ' +
      'At least PUBLISHER_MAX_BATCH_BYTES + 1 MiB, so that a request over the publish limits is read and ' +
      'answered INVALID_ARGUMENT naming the limit',
  }),
  PUBLISHER_MAX_ATTRIBUTES: int(0, 10_000)({ default: d.maxAttributes, desc: 'Most attributes per message' }),
  PUBLISHER_MAX_ATTRIBUTE_KEY_BYTES: int(1, 65_536)({ default: d.maxAttributeKeyBytes, desc: 'Longest attribute key' }),
  PUBLISHER_MAX_ATTRIBUTE_VALUE_BYTES: int(
    0,
    MiB,
  )({
    default: d.maxAttributeValueBytes,
    desc: 'Longest attribute value',
  }),
  PUBLISHER_MAX_ORDERING_KEY_BYTES: int(0, 65_536)({ default: d.maxOrderingKeyBytes, desc: 'Longest ordering key' }),
  PUBLISHER_MAX_IDEMPOTENCY_KEY_BYTES: int(
    0,
    65_536,
  )({
    default: d.maxIdempotencyKeyBytes,
    desc: 'Longest idempotency key',
  }),
  PUBLISHER_MAX_INFLIGHT_BYTES: int(
    MiB,
    16_384 * MiB,
  )({
    default: 256 * MiB,
    desc: 'Bytes waiting for Kafka before new requests get RESOURCE_EXHAUSTED',
  }),
  PUBLISHER_LINGER_MS: int(
    0,
    1_000,
  )({
    default: 1,
    desc: 'How long a message waits for others to share its Kafka request',
  }),
  PUBLISHER_KAFKA_PRODUCERS: int(
    1,
    64,
  )({
    default: 2,
    desc: 'kafkajs only: idempotent producers sending in parallel (librdkafka keeps up to 5 requests in flight on one)',
  }),
  PUBLISHER_ACK_TIMEOUT_MS: int(
    1_000,
    600_000,
  )({
    default: 30_000,
    desc: 'A publish Kafka has not acknowledged in this time fails with UNAVAILABLE',
  }),
};

/** Protobuf framing a batch at the byte limit may carry on top of its counted bytes (tags, lengths, map entries). */
export const requestFramingBytes = MiB;

/**
 * The publisher's configuration, read once at start-up.
 *
 * @throws ConfigError when the gRPC receive limit leaves no room for a batch at the publish limit: every
 * request over the publish limits must reach the validation that names them.
 */
export function readPublisherConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = readEnv(publisherEnv, env);
  const least = config.PUBLISHER_MAX_BATCH_BYTES + requestFramingBytes;
  if (config.PUBLISHER_MAX_RECEIVE_BYTES < least) {
    throw new ConfigError({
      PUBLISHER_MAX_RECEIVE_BYTES: `is ${config.PUBLISHER_MAX_RECEIVE_BYTES}: must be at least PUBLISHER_MAX_BATCH_BYTES + 1 MiB (${least})`,
    });
  }
  return config;
}
