import { PublisherServiceService } from '@herald/api';
import { grpcSecurity, kafkaSecurity } from '@herald/config';
import { HeraldServer, bindService, peerCredentials, runMain, stopOnSignals } from '@herald/grpc-server';
import { KafkaNames, createKafkaClient } from '@herald/kafka';
import { createLogger, defaultInstanceId } from '@herald/logging';
import { startServiceMetrics } from '@herald/metrics';
import { RegistryWatcher, watchedAuthorization } from '@herald/registry-watch';
import { startTracing } from '@herald/tracing';
import { readPublisherConfig } from './config';
import { InflightBudget } from './domain/inflight-budget';
import { MessageIdGenerator } from './domain/message-ids';
import { publisherHandlers } from './grpc/publisher-handlers';
import { PublishService } from './publish-service';
import { PublisherMetrics } from './publisher-metrics';
import { TopicDirectory } from './topic-directory';

runMain('publisher', async () => {
  const config = readPublisherConfig();
  const security = grpcSecurity(config, config.PUBLISHER_HOST);
  const instanceId = config.HERALD_INSTANCE_ID || defaultInstanceId();
  const logger = createLogger({ service: 'publisher', level: config.LOG_LEVEL, instance: instanceId });
  const tracing = startTracing({ service: 'publisher', instanceId, logger });
  const metrics = await startServiceMetrics({
    service: 'publisher',
    enabled: config.HERALD_METRICS_ENABLED,
    host: config.PUBLISHER_HOST,
    port: config.PUBLISHER_METRICS_PORT,
    logger,
  });
  const kafka = createKafkaClient({
    brokers: config.KAFKA_BROKERS,
    clientId: `herald-publisher-${instanceId}`,
    logger,
    kind: config.HERALD_KAFKA_CLIENT,
    security: kafkaSecurity(config),
  });
  const producer = kafka.durableProducer({
    lingerMillis: config.PUBLISHER_LINGER_MS,
    lanes: config.PUBLISHER_KAFKA_PRODUCERS,
    sendTimeoutMillis: config.PUBLISHER_ACK_TIMEOUT_MS,
  });
  const names = new KafkaNames(config.HERALD_TOPIC_PREFIX);
  const budget = new InflightBudget(config.PUBLISHER_MAX_INFLIGHT_BYTES);
  const observer = new PublisherMetrics(metrics.registry, {
    maxTopicSeries: config.HERALD_METRICS_MAX_SERIES,
    budget,
    producerStats: producer.stats,
  });
  const watcher = new RegistryWatcher({
    addresses: config.REGISTRY_ADDRESSES,
    logger,
    credentials: peerCredentials(security),
  });
  watcher.on('change', (change) => {
    if (change.kind !== 'topic-deleted') return;
    producer.topicDeleted(names.topic(change.name));
    observer.topicDeleted(change.name);
  });
  const publisher = new PublishService({
    producer,
    topics: new TopicDirectory(watcher),
    names,
    budget,
    observer,
    ids: new MessageIdGenerator(),
    limits: {
      maxMessageBytes: config.PUBLISHER_MAX_MESSAGE_BYTES,
      maxBatchMessages: config.PUBLISHER_MAX_BATCH_MESSAGES,
      maxBatchBytes: config.PUBLISHER_MAX_BATCH_BYTES,
      maxAttributes: config.PUBLISHER_MAX_ATTRIBUTES,
      maxAttributeKeyBytes: config.PUBLISHER_MAX_ATTRIBUTE_KEY_BYTES,
      maxAttributeValueBytes: config.PUBLISHER_MAX_ATTRIBUTE_VALUE_BYTES,
      maxOrderingKeyBytes: config.PUBLISHER_MAX_ORDERING_KEY_BYTES,
      maxIdempotencyKeyBytes: config.PUBLISHER_MAX_IDEMPOTENCY_KEY_BYTES,
    },
  });
  const authorization = watchedAuthorization(watcher, security.authzPolicyFile, logger);
  const server = new HeraldServer({
    logger,
    tls: security.serverTls,
    auth: security.auth,
    authz: authorization.policies,
    quotas: security.quotas,
    metrics: metrics.exported,
    // Well above the publish limits, so that an oversize request is read and answered INVALID_ARGUMENT by
    // validateBatch, naming the limit; gRPC refuses only what is past this (RESOURCE_EXHAUSTED, at once).
    maxReceiveMessageBytes: config.PUBLISHER_MAX_RECEIVE_BYTES,
    services: [
      bindService('herald.v1.PublisherService', PublisherServiceService, publisherHandlers(publisher, logger), {
        publish: ['kafka'],
        publishStream: ['kafka'],
      }),
    ],
  });
  await server.listen(config.PUBLISHER_HOST, config.PUBLISHER_PORT);
  await Promise.all([producer.connect(), watcher.start()]);
  await authorization.requireFullView();
  // Readiness follows Kafka (and the registry); the rpcs that need Kafka fail at once without it.
  const connectivity = kafka.connectivity();
  server.readiness.follow('kafka', connectivity);
  server.readiness.follow('registry', watcher);
  server.setServing(true);
  stopOnSignals(logger, async () => {
    await server.stop();
    await producer.close();
    watcher.stop();
    await connectivity.stop();
    await tracing.shutdown();
    await metrics.close();
  });
});
