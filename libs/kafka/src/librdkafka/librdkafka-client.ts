import type { GlobalConfig, LibrdKafkaError } from '@confluentinc/kafka-javascript';
import { type HeraldError, UnavailableError } from '@herald/errors';
import type { Logger } from '@herald/logging';
import type { DurableProducer, DurableProducerOptions } from '../durable-producer';
import type { GroupConsumer, GroupConsumerOptions } from '../group-consumer';
import { probeAnyBroker } from '../broker-probe';
import type { KafkaClient, KafkaClientOptions } from '../kafka-client';
import { KafkaConnectivity } from '../kafka-connectivity';
import { toHeraldError } from '../kafka-errors';
import { describeKafkaSecurity, librdkafkaSecurityConfig, tlsConnectionOptions } from '../kafka-security';
import type { PartitionReader, PartitionReaderOptions } from '../partition-reader';
import type { TopicAdmin } from '../topic-admin';
import type { TransactionalWriter, TransactionalWriterOptions } from '../transactional-log';
import { LibrdkafkaDurableProducer } from './durable-producer';
import { LibrdkafkaGroupConsumer } from './group-consumer';
import { LibrdkafkaPartitionReader } from './partition-reader';
import { LibrdkafkaTopicAdmin } from './topic-admin';
import { LibrdkafkaTransactionalWriter } from './transactional-writer';

/** What every librdkafka-backed part needs: the shared settings and where its lines go. */
export interface LibrdkafkaContext {
  config: GlobalConfig;
  logger: Logger;
  /** Whether Kafka is reachable; librdkafka's "all brokers down" marks a loss at once. */
  connectivity: KafkaConnectivity;
  /** Routes a client's log and error events to the logger. */
  watch(client: { on(event: string, listener: (...args: never[]) => void): unknown }, role: string): void;
  /**
   * The error of a failed connect: a refused login or TLS handshake only
   * shows as a timeout ("broker transport failure"), so the broker's reason,
   * when one came lately, is added.
   */
  connectError(error: unknown, doing: string): HeraldError;
}

/** librdkafka's words when a broker refuses this client: credentials, or TLS (a TLS alert: no or a bad client certificate). */
const refusal =
  /SASL authentication error|authentication failed|SSL handshake failed|certificate verify failed|ssl\/tls alert/i;
/** A refusal older than this is no longer the reason for a failure now. */
const refusalMemoryMillis = 60_000;

/**
 * Herald's Kafka access on librdkafka (`@confluentinc/kafka-javascript`, its
 * native API): real linger and up to five requests in flight per broker with
 * idempotence, batching and checksums off the event loop, manual assignment.
 */
export class LibrdkafkaClient implements KafkaClient {
  readonly kind = 'librdkafka';
  private admin: LibrdkafkaTopicAdmin | undefined;
  private readonly context: LibrdkafkaContext;

  constructor(options: KafkaClientOptions) {
    const logger = options.logger.child({ component: 'kafka' });
    const probeTls = tlsConnectionOptions(options.security);
    let lastRefusal = { message: '', at: 0 };
    const connectivity = new KafkaConnectivity({
      logger,
      probe: (timeoutMillis) => probeAnyBroker(options.brokers, timeoutMillis, probeTls),
    });
    logger.info(`Kafka connections: ${describeKafkaSecurity(options.security)}`);
    this.context = {
      logger,
      connectivity,
      config: {
        'bootstrap.servers': options.brokers.join(','),
        'client.id': options.clientId,
        'socket.connection.setup.timeout.ms': 3_000,
        'reconnect.backoff.ms': 100,
        'reconnect.backoff.max.ms': 2_000,
        // Records up to the 64 MiB batches Herald's topics accept (messages up to the publisher's limit).
        'message.max.bytes': 64 * 1024 * 1024 + 65_536,
        'receive.message.max.bytes': 128 * 1024 * 1024,
        'allow.auto.create.topics': false,
        ...librdkafkaSecurityConfig(options.security),
        log_level: 4,
        event_cb: true,
      },
      watch: (client, role) =>
        watchClient(client, role, logger, connectivity, (message) => {
          lastRefusal = { message, at: Date.now() };
        }),
      connectError: (error, doing) => {
        const failure = toHeraldError(error, doing);
        if (!lastRefusal.message || Date.now() - lastRefusal.at > refusalMemoryMillis) return failure;
        return new UnavailableError(`${failure.message}; the broker refused this client: ${lastRefusal.message}`, {
          cause: error,
        });
      },
    };
  }

  connectivity(): KafkaConnectivity {
    this.context.connectivity.start();
    return this.context.connectivity;
  }

  topicAdmin(): TopicAdmin {
    this.admin ??= new LibrdkafkaTopicAdmin(this.context);
    return this.admin;
  }

  durableProducer(options: DurableProducerOptions = {}): DurableProducer {
    return new LibrdkafkaDurableProducer(this.context, options);
  }

  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    return new LibrdkafkaGroupConsumer(this.context, options);
  }

  partitionReader(options: PartitionReaderOptions): PartitionReader {
    return new LibrdkafkaPartitionReader(this.context, options);
  }

  transactionalWriter(options: TransactionalWriterOptions): TransactionalWriter {
    return new LibrdkafkaTransactionalWriter(this.context, options);
  }
}

/** librdkafka's words for "cannot reach the cluster" in error events and FAIL log lines. */
const connectionTrouble =
  /all broker connections are down|broker transport failure|connect to .* failed|failed to resolve|disconnected|timed out/i;

/**
 * Routes a librdkafka client's error and log events to the logger. While the
 * cluster is away librdkafka reports each connection failure again on every
 * retry, per broker and per client: those lines go to debug, and the
 * connectivity monitor says "unreachable", "still unreachable" and "reachable
 * again" once each. Other errors keep one line per client per 30 s.
 */
function watchClient(
  client: { on(event: string, listener: (...args: never[]) => void): unknown },
  role: string,
  logger: Logger,
  connectivity: KafkaConnectivity,
  refused: (message: string) => void,
): void {
  let lastErrorLine = 0;
  let suppressed = 0;
  client.on('event.error', (error: LibrdKafkaError) => {
    if (/all broker connections are down/i.test(error.message)) connectivity.reportDown(error.message);
    if (refusal.test(error.message)) refused(error.message);
    if (!error.isFatal && connectionTrouble.test(error.message)) {
      logger.debug({ role, code: error.code }, `Kafka client: ${error.message}`);
      return;
    }
    const now = Date.now();
    if (now - lastErrorLine < 30_000 && !error.isFatal) {
      suppressed++;
      return;
    }
    lastErrorLine = now;
    logger.warn({ role, code: error.code, fatal: error.isFatal, suppressed }, `Kafka client: ${error.message}`);
    suppressed = 0;
  });
  client.on('event.log', (entry: { severity: number; fac: string; message: string }) => {
    const fields = { role, facility: entry.fac };
    if (refusal.test(entry.message)) refused(entry.message.replace(/^\[thrd:[^\]]*\]: /, ''));
    if (entry.severity <= 3 && !connectionTrouble.test(entry.message)) logger.warn(fields, entry.message);
    else logger.debug(fields, entry.message);
  });
}

/** A callback-style librdkafka call as a promise. */
export function promised<T = unknown>(
  call: (done: (error: LibrdKafkaError | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    call((error, value) => (error ? reject(error) : resolve(value as T)));
  });
}
