import { randomBytes } from 'node:crypto';
import type { Logger } from '@herald/logging';
import { Kafka, type LogEntry, logLevel } from 'kafkajs';
import type { DurableProducer, DurableProducerOptions } from '../durable-producer';
import type { GroupConsumer, GroupConsumerOptions } from '../group-consumer';
import { probeAnyBroker } from '../broker-probe';
import type { KafkaClient, KafkaClientOptions } from '../kafka-client';
import { KafkaConnectivity } from '../kafka-connectivity';
import { describeKafkaSecurity, kafkajsSecurityOptions } from '../kafka-security';
import type { PartitionReader, PartitionReaderOptions } from '../partition-reader';
import type { TopicAdmin } from '../topic-admin';
import type { TransactionalWriter, TransactionalWriterOptions } from '../transactional-log';
import { KafkajsDurableProducer } from './durable-producer';
import { KafkajsGroupConsumer } from './group-consumer';
import { KafkajsPartitionReader } from './partition-reader';
import { KafkajsTopicAdmin } from './topic-admin';
import { KafkajsTransactionalWriter } from './transactional-writer';

// kafkajs warns at every producer creation about a partitioner change from 2019; Herald chose its partitioner.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/**
 * Herald's Kafka access on kafkajs: one kafkajs `Kafka` with Herald's
 * timeouts, retries and logging, shared by every producer, consumer and admin
 * this client hands out.
 */
export class KafkajsClient implements KafkaClient {
  readonly kind = 'kafkajs';
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private readonly security: ReturnType<typeof kafkajsSecurityOptions>;
  private admin: KafkajsTopicAdmin | undefined;
  private monitor: KafkaConnectivity | undefined;

  constructor(private readonly options: KafkaClientOptions) {
    this.logger = options.logger;
    // The PEM files are read once, here: kafkajs and the connectivity probe connect with the same options.
    this.security = kafkajsSecurityOptions(options.security);
    this.kafka = createKafka(options, this.security);
    this.logger.child({ component: 'kafka' }).info(`Kafka connections: ${describeKafkaSecurity(options.security)}`);
  }

  connectivity(): KafkaConnectivity {
    if (!this.monitor) {
      const brokers = this.options.brokers;
      const tls = this.security.ssl;
      this.monitor = new KafkaConnectivity({
        logger: this.logger.child({ component: 'kafka' }),
        probe: (timeoutMillis) => probeAnyBroker(brokers, timeoutMillis, tls),
      });
      this.monitor.start();
    }
    return this.monitor;
  }

  /** The client's one admin, created at first use. */
  topicAdmin(): TopicAdmin {
    this.admin ??= new KafkajsTopicAdmin(this.kafka, this.logger);
    return this.admin;
  }

  durableProducer(options: DurableProducerOptions = {}): DurableProducer {
    return new KafkajsDurableProducer(this.kafka, this.logger, options);
  }

  groupConsumer(options: GroupConsumerOptions): GroupConsumer {
    return new KafkajsGroupConsumer(this.kafka, this.logger, options);
  }

  partitionReader(options: PartitionReaderOptions): PartitionReader {
    // kafkajs reads only through consumer groups: each reader gets a throwaway one of its own.
    const groupId = `herald-reader.${this.options.clientId}.${randomBytes(6).toString('hex')}`;
    return new KafkajsPartitionReader(this.kafka, this.logger, groupId, options);
  }

  transactionalWriter(options: TransactionalWriterOptions): TransactionalWriter {
    return new KafkajsTransactionalWriter(this.kafka, options);
  }
}

/** kafkajs's words for "cannot reach the cluster". */
const connectionTrouble =
  /connection error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|connection timeout|request timed out|Closed connection|retries exceeded|failed to connect|broker not connected|no brokers? available/i;

function createKafka(options: KafkaClientOptions, security: ReturnType<typeof kafkajsSecurityOptions>): Kafka {
  const log = options.logger.child({ component: 'kafka' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...security,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    // Bounded retries: a dead cluster must surface as UNAVAILABLE, not as a hang.
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 8 },
    logLevel: logLevel.WARN,
    // kafkajs logs every failed connection and retry as an error with its stack. While the cluster
    // is away those go to debug: the connectivity monitor logs "unreachable" and "reachable again" once.
    logCreator: () => (entry: LogEntry) => {
      const { message, stack, ...fields } = entry.log as LogEntry['log'] & { stack?: string; error?: string };
      const line = { namespace: entry.namespace, ...fields };
      if (entry.level > logLevel.WARN || connectionTrouble.test(`${message} ${String(fields.error ?? '')}`)) {
        log.debug({ ...line, stack }, message);
      } else if (message.startsWith('Restarting the consumer')) {
        log.info(line, message); // the crash line before it says why
      } else if (entry.level <= logLevel.ERROR) log.warn(line, message);
      else log.info(line, message);
    },
  });
}
