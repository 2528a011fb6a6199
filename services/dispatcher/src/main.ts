import { DispatcherServiceService } from '@herald/api';
import { HeraldServer, bindService, runMain, stopOnSignals } from '@herald/grpc-server';
import { KafkaNames, createKafkaClient } from '@herald/kafka';
import { createLogger, defaultInstanceId } from '@herald/logging';
import { RegistryWatcher } from '@herald/registry-watch';
import { readDispatcherConfig } from './config';
import { DispatcherService } from './dispatcher-service';
import { AckIds } from './domain/ack-ids';
import { StreamSlots } from './domain/stream-slots';
import { dispatcherHandlers } from './grpc/dispatcher-handlers';
import { StreamLimits } from './grpc/streaming-pull';
import { DeadLetterPublisher } from './kafka/dead-letter';

runMain('dispatcher', async () => {
  const config = readDispatcherConfig();
  const instanceId = config.HERALD_INSTANCE_ID || defaultInstanceId();
  const logger = createLogger({ service: 'dispatcher', level: config.LOG_LEVEL, instance: instanceId });
  const kafka = createKafkaClient({
    brokers: config.KAFKA_BROKERS,
    clientId: `herald-dispatcher-${instanceId}`,
    logger,
    kind: config.HERALD_KAFKA_CLIENT,
  });
  const names = new KafkaNames(config.HERALD_TOPIC_PREFIX);
  const admin = kafka.topicAdmin();
  const producer = kafka.durableProducer();
  const watcher = new RegistryWatcher({ addresses: config.REGISTRY_ADDRESSES, logger });
  watcher.on('change', (change) => {
    if (change.kind === 'topic-deleted') {
      producer.topicDeleted(names.topic(change.name)); // the dead-letter producer
      admin.topicDeleted(names.topic(change.name));
    }
  });
  const dispatcher = new DispatcherService(watcher, {
    kafka,
    admin,
    names,
    logger,
    ackIds: new AckIds(),
    deadLetters: new DeadLetterPublisher(
      producer,
      names,
      async (topic) => (watcher.topic(topic) ?? (await watcher.fetchTopic(topic)))?.partitions,
    ),
    settings: {
      dedupWindowMillis: config.DISPATCHER_DEDUP_WINDOW_MS,
      maxHeldPerPartition: config.DISPATCHER_MAX_HELD_PER_PARTITION,
      maxHeldTotal: config.DISPATCHER_MAX_HELD_PER_SUBSCRIPTION,
      sessionTimeoutMillis: config.DISPATCHER_SESSION_TIMEOUT_MS,
      tickMillis: 50,
      commitIntervalMillis: config.DISPATCHER_COMMIT_INTERVAL_MS,
      maxBatchSize: config.DISPATCHER_MAX_BATCH_MESSAGES,
      idleGraceMillis: config.DISPATCHER_IDLE_GRACE_MS,
    },
  });
  const server = new HeraldServer({
    logger,
    maxReceiveMessageBytes: StreamLimits.maxRequestBytes,
    services: [
      bindService(
        'herald.v1.DispatcherService',
        DispatcherServiceService,
        dispatcherHandlers(
          dispatcher,
          { kafka, admin, names, logger },
          new StreamSlots(config.DISPATCHER_MAX_STREAMS),
          logger,
        ),
        { streamingPull: ['kafka'], tail: ['kafka'] },
      ),
    ],
  });
  await server.listen(config.DISPATCHER_HOST, config.DISPATCHER_PORT);
  await Promise.all([producer.connect(), watcher.start()]);
  // Readiness follows Kafka and the registry; the rpcs that need Kafka fail at once without it.
  const connectivity = kafka.connectivity();
  server.readiness.follow('kafka', connectivity);
  server.readiness.follow('registry', watcher);
  server.setServing(true);
  stopOnSignals(logger, async () => {
    server.setServing(false);
    // Streams end first (clients reconnect elsewhere), then the consumers commit and leave their groups.
    await dispatcher.stop();
    await server.stop(5_000);
    await producer.close();
    watcher.stop();
    await admin.close();
    await connectivity.stop();
  });
});
