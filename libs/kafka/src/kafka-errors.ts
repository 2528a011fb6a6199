import { HeraldError, InternalError, UnavailableError } from '@herald/errors';

interface KafkaJsErrorShape {
  name?: string;
  message?: string;
  retriable?: boolean;
  type?: string;
  code?: number;
  originalError?: unknown;
}

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
]);

/** Whether a kafkajs error (or its cause) is a connection problem or a transient broker state. */
export function isTransientKafkaError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as KafkaJsErrorShape;
    if (e.retriable) return true;
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
    current = e.originalError;
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
  const message = (error as KafkaJsErrorShape)?.message ?? String(error);
  if (isTransientKafkaError(error))
    return new UnavailableError(`Kafka unavailable while ${doing}: ${message}`, { cause: error });
  return new InternalError(`Kafka failed while ${doing}: ${message}`, { cause: error });
}

/** Whether a kafkajs error says the topic already exists. */
export function isTopicExistsError(error: unknown): boolean {
  const e = error as KafkaJsErrorShape & { errors?: KafkaJsErrorShape[] };
  if (e?.type === 'TOPIC_ALREADY_EXISTS') return true;
  return Array.isArray(e?.errors) && e.errors.some((inner) => inner.type === 'TOPIC_ALREADY_EXISTS');
}
