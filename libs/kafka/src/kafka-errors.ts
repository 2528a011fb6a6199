import { HeraldError, InternalError, UnavailableError } from '@herald/errors';

/** What kafkajs and librdkafka errors carry, whichever threw. */
interface KafkaErrorShape {
  name?: string;
  message?: string;
  /** kafkajs */
  retriable?: boolean;
  /** librdkafka */
  isRetriable?: boolean;
  type?: string;
  /** librdkafka's error code (negative: raised by the client itself), or kafkajs's protocol code. */
  code?: number;
  originalError?: unknown;
  cause?: unknown;
}

/**
 * Text of a connection failure, whichever layer wrapped it: kafkajs's
 * "Connection error: connect ECONNREFUSED", librdkafka's transport errors. A
 * dead cluster is UNAVAILABLE (retry), never INTERNAL.
 */
const connectionFailureText =
  /connection error|ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|broker transport failure|all broker connections are down/i;

/** librdkafka's codes for "the cluster is not reachable or not answering in time". */
export const librdkafkaTransientCodes = new Set([
  -195, // ERR__TRANSPORT
  -193, // ERR__RESOLVE
  -192, // ERR__MSG_TIMED_OUT
  -187, // ERR__ALL_BROKERS_DOWN
  -185, // ERR__TIMED_OUT
  -184, // ERR__QUEUE_FULL
  -180, // ERR__WAIT_COORD
  -172, // ERR__STATE (a client still connecting)
  5, // LEADER_NOT_AVAILABLE
  6, // NOT_LEADER_OR_FOLLOWER
  7, // REQUEST_TIMED_OUT
  13, // NETWORK_EXCEPTION
  14, // COORDINATOR_LOAD_IN_PROGRESS
  15, // COORDINATOR_NOT_AVAILABLE
  16, // NOT_COORDINATOR
  19, // NOT_ENOUGH_REPLICAS
  20, // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  27, // REBALANCE_IN_PROGRESS
  51, // CONCURRENT_TRANSACTIONS
  56, // KAFKA_STORAGE_ERROR
  74, // FENCED_LEADER_EPOCH
  75, // UNKNOWN_LEADER_EPOCH: a broker still applying a new topic's leadership
]);

/** Kafka protocol errors that mean "not there yet, or moving": retry later. */
const transientTypes = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'REBALANCE_IN_PROGRESS',
  'CONCURRENT_TRANSACTIONS',
  'KAFKA_STORAGE_ERROR',
  'FENCED_LEADER_EPOCH',
  'UNKNOWN_LEADER_EPOCH',
]);

/** Whether a Kafka client's error (or its cause) is a connection problem or a transient broker state. */
export function isTransientKafkaError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as KafkaErrorShape;
    if (e.retriable || e.isRetriable) return true;
    if (typeof e.code === 'number' && librdkafkaTransientCodes.has(e.code) && !e.type) return true;
    if (e.type && transientTypes.has(e.type)) return true;
    if (
      e.name === 'KafkaJSConnectionError' ||
      e.name === 'KafkaJSConnectionClosedError' ||
      e.name === 'KafkaJSRequestTimeoutError' ||
      e.name === 'KafkaJSNumberOfRetriesExceeded' ||
      e.name === 'KafkaJSBrokerNotFound' ||
      e.name === 'KafkaJSNoBrokerAvailableError' ||
      e.name === 'KafkaJSLockTimeout' ||
      e.name === 'KafkaJSTimeout' ||
      e.name === 'KafkaJSGroupCoordinatorNotFound' ||
      e.name === 'KafkaJSMetadataNotLoaded' ||
      e.name === 'KafkaJSTopicMetadataNotLoaded'
    ) {
      return true;
    }
    if (typeof e.message === 'string' && connectionFailureText.test(e.message)) return true;
    current = e.originalError ?? e.cause;
  }
  return false;
}

/**
 * Turns whatever a Kafka call threw into a Herald error: connection problems,
 * timeouts and transient broker states become UNAVAILABLE (retryable); Herald
 * errors pass through; anything else is INTERNAL.
 */
export function toHeraldError(error: unknown, doing: string): HeraldError {
  if (error instanceof HeraldError) return error;
  const message = (error as KafkaErrorShape)?.message ?? String(error);
  if (isTransientKafkaError(error))
    return new UnavailableError(`Kafka unavailable while ${doing}: ${message}`, { cause: error });
  return new InternalError(`Kafka failed while ${doing}: ${message}`, { cause: error });
}

/** Whether a Kafka client's error says the topic already exists. */
export function isTopicExistsError(error: unknown): boolean {
  const e = error as KafkaErrorShape & { errors?: KafkaErrorShape[] };
  if (e?.type === 'TOPIC_ALREADY_EXISTS' || (e?.code === 36 && !e.type)) return true;
  return Array.isArray(e?.errors) && e.errors.some((inner) => inner.type === 'TOPIC_ALREADY_EXISTS');
}
