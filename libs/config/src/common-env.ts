import { bool, hostPorts, int, str } from './env';
import { grpcSecurityEnv } from './grpc-security';
import { kafkaSecurityEnv } from './kafka-security';

/** Variables every Herald service reads. */
export const commonEnv = {
  KAFKA_BROKERS: hostPorts({
    default: ['127.0.0.1:9092'],
    desc: 'Kafka bootstrap servers, comma-separated host:port',
  }),
  HERALD_KAFKA_CLIENT: str({
    default: 'librdkafka',
    choices: ['librdkafka', 'kafkajs'] as const,
    desc: 'Kafka client library: librdkafka (native, the default) or kafkajs (pure JavaScript, no native build)',
  }),
  ...kafkaSecurityEnv,
  ...grpcSecurityEnv,
  HERALD_TOPIC_PREFIX: str({
    default: 'herald.',
    desc: 'Prefix of every Kafka topic and consumer group Herald creates',
  }),
  LOG_LEVEL: str({
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    desc: 'Least severe level that is logged',
  }),
  HERALD_METRICS_ENABLED: bool({
    default: true,
    desc: 'Serve Prometheus metrics on the service’s metrics port; false collects nothing',
  }),
  HERALD_METRICS_MAX_SERIES: int(
    1,
    1_000_000,
  )({
    default: 1_000,
    desc: 'Topics (publisher) or subscriptions (dispatcher) with series of their own per metric; the rest are summed under the label value other',
  }),
  HERALD_INSTANCE_ID: str({
    default: '',
    desc: 'Name of this instance in logs and Kafka client ids; empty means <hostname>-<pid>',
  }),
};
