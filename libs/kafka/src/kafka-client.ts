import type { Logger } from '@herald/logging';
import { Kafka, type LogEntry, logLevel } from 'kafkajs';

// kafkajs warns at every producer creation about a partitioner change from 2019; Herald chose its partitioner.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** Options of {@link createKafka}. */
export interface KafkaClientOptions {
  /** Bootstrap servers, `host:port`. */
  brokers: string[];
  /** Names this client in broker logs and quotas. */
  clientId: string;
  /** kafkajs log lines go here, as structured lines under `component: kafkajs`. */
  logger: Logger;
  /** Per-request timeout in ms. @defaultValue 10 s */
  requestTimeoutMillis?: number;
}

/**
 * A kafkajs client with Herald's settings. Everything Herald does with Kafka
 * goes through `libs/kafka`, so that the client library can be swapped later
 * without touching the services.
 */
export function createKafka(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3_000,
    requestTimeout: options.requestTimeoutMillis ?? 10_000,
    // Bounded retries: a dead cluster must surface as UNAVAILABLE, not as a hang.
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...fields } = entry.log;
      const line = { namespace: entry.namespace, ...fields };
      if (entry.level <= logLevel.ERROR) log.warn(line, message);
      else if (entry.level === logLevel.WARN) log.info(line, message);
      else log.debug(line, message);
    },
  });
}
