import { hostname } from 'node:os';
import { DispatcherServiceService } from '@herald/api';
import { grpcSecurity, kafkaSecurity } from '@herald/config';
import { HeraldServer, bindService, peerCredentials, runMain, stopOnSignals } from '@herald/grpc-server';
import { KafkaNames, type TopicAdmin, createKafkaClient, partitionOfKey } from '@herald/kafka';
import { createLogger, defaultInstanceId } from '@herald/logging';
import { startServiceMetrics } from '@herald/metrics';
import { RegistryWatcher, watchedAuthorization } from '@herald/registry-watch';
import { startTracing } from '@herald/tracing';
import { readDispatcherConfig } from './config';
import { exportDispatcherMetrics } from './dispatcher-metrics';
import { DispatcherService } from './dispatcher-service';
import { AckIds } from './domain/ack-ids';
import { StreamSlots } from './domain/stream-slots';
import { TopicSources } from './fanout/topic-sources';
import { withEncodedPullResponses } from './grpc/delivery-encoding';
import { dispatcherHandlers } from './grpc/dispatcher-handlers';
import { StreamForwarder } from './grpc/stream-forwarder';
import { StreamLimits } from './grpc/streaming-pull';
import { HeapCompaction } from './heap-compaction';
import { DeadLetterPublisher } from './kafka/dead-letter';
import { RecordTimes } from './kafka/record-times';
import { StartFacts } from './kafka/start-facts';
import { RedriveStore, redriveStateTopic } from './redrive/redrive-store';
import { Redrives } from './redrive/redrives';
import { CursorWriter } from './ownership/cursor-writer';
import { ExactlyOnceStore } from './ownership/exactly-once-store';
import { SlotDirectory } from './ownership/slot-directory';
import { SlotOwnership } from './ownership/slot-ownership';
import { EndpointGuard } from './push/endpoint-guard';
import { PushSenders } from './push/push-senders';
import { PushTokens } from './push/push-token';

runMain('dispatcher', async () => {
  const config = readDispatcherConfig();
  const security = grpcSecurity(config, config.DISPATCHER_HOST);
  const instanceId = config.HERALD_INSTANCE_ID || defaultInstanceId();
  const logger = createLogger({ service: 'dispatcher', level: config.LOG_LEVEL, instance: instanceId });
  const tracing = startTracing({ service: 'dispatcher', instanceId, logger });
  const pushTokens = await PushTokens.create(
    config.DISPATCHER_PUSH_SIGNING_KEY_FILE,
    config.DISPATCHER_PUSH_TOKEN_ISSUER,
  );
  const metrics = await startServiceMetrics({
    service: 'dispatcher',
    enabled: config.HERALD_METRICS_ENABLED,
    host: config.DISPATCHER_HOST,
    port: config.DISPATCHER_METRICS_PORT,
    logger,
    // Push receivers verify the tokens with these keys.
    routes: { [jwksPath]: { contentType: 'application/json', body: () => JSON.stringify(pushTokens.jwks()) } },
  });
  logger.info(
    {
      issuer: pushTokens.issuer,
      key: pushTokens.origin,
      jwks: config.HERALD_METRICS_ENABLED
        ? `metrics port ${config.DISPATCHER_METRICS_PORT}, ${jwksPath}`
        : 'not served (metrics off)',
      allowPrivate: config.DISPATCHER_PUSH_ALLOW_PRIVATE,
    },
    'push tokens',
  );
  const kafka = createKafkaClient({
    brokers: config.KAFKA_BROKERS,
    clientId: `herald-dispatcher-${instanceId}`,
    logger,
    kind: config.HERALD_KAFKA_CLIENT,
    security: kafkaSecurity(config),
  });
  const names = new KafkaNames(config.HERALD_TOPIC_PREFIX);
  const admin = kafka.topicAdmin();
  const producer = kafka.durableProducer();
  // One set for both peers (registry and other dispatchers): each set re-reads its files on a timer.
  const peers = peerCredentials(security);
  const watcher = new RegistryWatcher({
    addresses: config.REGISTRY_ADDRESSES,
    logger,
    credentials: peers,
  });
  watcher.on('change', (change) => {
    if (change.kind === 'topic-deleted') {
      producer.topicDeleted(names.topic(change.name)); // the dead-letter producer
      admin.topicDeleted(names.topic(change.name));
    }
  });
  const address =
    config.DISPATCHER_ADVERTISED_ADDRESS ||
    `${config.DISPATCHER_HOST === '0.0.0.0' ? hostname() : config.DISPATCHER_HOST}:${config.DISPATCHER_PORT}`;
  const facts = new StartFacts(admin, names, config.DISPATCHER_DEDUP_WINDOW_MS);
  const slots = await ensureInternalTopics(admin, names, config.DISPATCHER_SLOTS);
  const cursors = new CursorWriter(producer, names.cursors(), slots);
  const exactlyOnce = new ExactlyOnceStore({
    kafka,
    admin,
    logger,
    topic: settledStateTopic(names),
    transactionalIdPrefix: `${names.prefix}dispatcher-slot-`,
    proofMillis: config.DISPATCHER_EXACTLY_ONCE_PROOF_MS,
  });
  const redriveDeps = {
    kafka,
    admin,
    producer,
    store: new RedriveStore(kafka, admin, producer, redriveStateTopic(names)),
    logger,
  };
  const redrives = new Redrives(redriveDeps, logger);
  const directory = new SlotDirectory({
    kafka,
    producer,
    logger,
    topic: names.dispatcherDirectory(),
    address,
    instance: instanceId,
  });
  const sources = new TopicSources({
    kafka,
    logger,
    windowBytes: config.DISPATCHER_FEED_WINDOW_BYTES,
    gatherMillis: 25,
    catchUpIdleMillis: 30_000,
    latestOffsets: (topic) => facts.latest(topic),
  });
  // Its callbacks run only once it has started, after the dispatcher below exists.
  const ownership: SlotOwnership = new SlotOwnership({
    kafka,
    admin,
    logger,
    topic: names.cursors(),
    groupId: names.dispatcherGroup(),
    sessionTimeoutMillis: config.DISPATCHER_SESSION_TIMEOUT_MS,
    gained: (slot, slotCursors) => dispatcher.slotGained(slot, slotCursors),
    // A redrive writes for its subscription until it stops: it stops before another dispatcher takes over.
    losing: async () => {
      await redrives.stopAll('the subscription moved to another dispatcher');
      await dispatcher.slotsLosing();
    },
  });
  const dispatcher = new DispatcherService({
    watcher,
    runtime: {
      logger,
      ackIds: new AckIds(),
      deadLetters: new DeadLetterPublisher(
        producer,
        names,
        async (topic) => (watcher.topic(topic) ?? (await watcher.fetchTopic(topic)))?.partitions,
      ),
      facts,
      push: new PushSenders(new EndpointGuard(config.DISPATCHER_PUSH_ALLOW_PRIVATE), pushTokens, logger),
      exactlyOnce,
      settings: {
        dedupWindowMillis: config.DISPATCHER_DEDUP_WINDOW_MS,
        maxHeldPerPartition: config.DISPATCHER_MAX_HELD_PER_PARTITION,
        maxHeldTotal: config.DISPATCHER_MAX_HELD_PER_SUBSCRIPTION,
        maxBatchSize: config.DISPATCHER_MAX_BATCH_MESSAGES,
        idleGraceMillis: config.DISPATCHER_IDLE_GRACE_MS,
      },
    },
    ownership,
    directory,
    cursors,
    sources,
    recordTimes: new RecordTimes(kafka, logger),
    slotOf: (subscription) => partitionOfKey(Buffer.from(subscription), slots),
    kafkaTopicOf: (topic) => names.topic(topic),
    logger,
    tickMillis: 50,
    commitIntervalMillis: config.DISPATCHER_COMMIT_INTERVAL_MS,
  });
  exportDispatcherMetrics(
    metrics.registry,
    { reports: () => dispatcher.reports(), ownedSlots: () => dispatcher.ownedSlots },
    config.HERALD_METRICS_MAX_SERIES,
  );
  const forwarder = new StreamForwarder(address, peers);
  const authorization = watchedAuthorization(watcher, security.authzPolicyFile, logger);
  const server = new HeraldServer({
    logger,
    tls: security.serverTls,
    auth: security.auth,
    authz: authorization.policies,
    quotas: security.quotas,
    metrics: metrics.exported,
    maxReceiveMessageBytes: StreamLimits.maxRequestBytes,
    services: [
      bindService(
        'herald.v1.DispatcherService',
        withEncodedPullResponses(DispatcherServiceService),
        dispatcherHandlers(
          dispatcher,
          { kafka, admin, names, logger },
          forwarder,
          new StreamSlots(config.DISPATCHER_MAX_STREAMS),
          logger,
          address,
          { watcher, names, redrive: redriveDeps, redrives, dispatcher, forwarder },
        ),
        { streamingPull: ['kafka'], tail: ['kafka'], peekDeadLetters: ['kafka'], redriveDeadLetters: ['kafka'] },
      ),
    ],
  });
  await server.listen(config.DISPATCHER_HOST, config.DISPATCHER_PORT);
  await Promise.all([producer.connect(), watcher.start(), directory.start()]);
  await authorization.requireFullView();
  dispatcher.start();
  await ownership.start();
  await ownership.firstAssignment(30_000);
  // Readiness follows Kafka and the registry; the rpcs that need Kafka fail at once without it.
  const connectivity = kafka.connectivity();
  server.readiness.follow('kafka', connectivity);
  server.readiness.follow('registry', watcher);
  server.setServing(true);
  const compaction = new HeapCompaction({
    intervalMillis: config.DISPATCHER_HEAP_COMPACTION_INTERVAL_MS,
    maxLoopUtilization: 0.05,
    minReclaimBytes: 64 * 1024 * 1024,
    minGrowthFactor: 2,
    minSpacingMillis: 10 * 60_000,
    beforeCompaction: () => dispatcher.releaseIdleState(),
    logger,
  });
  compaction.start();
  stopOnSignals(logger, async () => {
    compaction.stop();
    server.setServing(false);
    // Streams end first (clients reconnect elsewhere) and cursors are stored; then the group is left.
    await redrives.stopAll('the dispatcher is stopping');
    await dispatcher.stop();
    await ownership.stop();
    await server.stop(5_000);
    forwarder.close();
    await directory.stop();
    await producer.close();
    watcher.stop();
    await admin.close();
    await connectivity.stop();
    await tracing.shutdown();
    await metrics.close();
  });
});

/** Exactly-once subscriptions' settled state, written transactionally by each slot's owner. */
function settledStateTopic(names: KafkaNames): string {
  // Beside `_cursors`: the `_` keeps it out of the Herald topic names.
  return `${names.prefix}_acks`;
}

/** Where the push tokens' public keys are served, on the metrics port. */
const jwksPath = '/.well-known/jwks.json';

/**
 * Creates the cursor, directory, redrive-state and settled-state topics if they are missing; returns the
 * number of slots, which is the cursor topic's partition count, whatever this
 * instance's DISPATCHER_SLOTS says.
 */
async function ensureInternalTopics(admin: TopicAdmin, names: KafkaNames, slots: number): Promise<number> {
  // 0: min(3, brokers), as the registry does, so a one-broker development cluster works too.
  const replicationFactor = await admin.effectiveReplicationFactor(0);
  const configs = {
    'cleanup.policy': 'compact',
    'min.insync.replicas': String(replicationFactor >= 3 ? 2 : 1),
    'segment.ms': String(3600_000),
    'min.cleanable.dirty.ratio': '0.1',
    'unclean.leader.election.enable': 'false',
  };
  await admin.createTopic({ name: names.cursors(), partitions: slots, replicationFactor, configs });
  await admin.createTopic({ name: names.dispatcherDirectory(), partitions: 1, replicationFactor, configs });
  await admin.createTopic({ name: redriveStateTopic(names), partitions: 1, replicationFactor, configs });
  const count = (await admin.partitionCount(names.cursors())) ?? slots;
  // Slot by slot beside the cursors: a slot's exactly-once state is its partition here.
  await admin.createTopic({ name: settledStateTopic(names), partitions: count, replicationFactor, configs });
  return count;
}
