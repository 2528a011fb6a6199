import { SubscriberRegistryServiceService } from '@herald/api';
import { grpcSecurity, kafkaSecurity } from '@herald/config';
import {
  FilePolicySource,
  HeraldServer,
  UnionPolicySource,
  bindService,
  runMain,
  stopOnSignals,
} from '@herald/grpc-server';
import { KafkaNames, createKafkaClient } from '@herald/kafka';
import { createLogger, defaultInstanceId } from '@herald/logging';
import { startServiceMetrics } from '@herald/metrics';
import { readRegistryConfig } from './config';
import { registryHandlers } from './grpc/registry-handlers';
import { Visibility } from './grpc/visibility';
import { withSharedWatchEncoding } from './grpc/watch-stream';
import { RegistryLog } from './log/registry-log';
import { exportRegistryMetrics } from './registry-metrics';
import { RegistryService } from './registry-service';

runMain('subscriber-registry', async () => {
  const config = readRegistryConfig();
  const security = grpcSecurity(config, config.REGISTRY_HOST);
  const instanceId = config.HERALD_INSTANCE_ID || defaultInstanceId();
  const logger = createLogger({ service: 'subscriber-registry', level: config.LOG_LEVEL, instance: instanceId });
  const metrics = await startServiceMetrics({
    service: 'subscriber-registry',
    enabled: config.HERALD_METRICS_ENABLED,
    host: config.REGISTRY_HOST,
    port: config.REGISTRY_METRICS_PORT,
    logger,
  });
  const kafka = createKafkaClient({
    brokers: config.KAFKA_BROKERS,
    clientId: `herald-registry-${instanceId}`,
    logger,
    kind: config.HERALD_KAFKA_CLIENT,
    security: kafkaSecurity(config),
  });
  const names = new KafkaNames(config.HERALD_TOPIC_PREFIX);
  const admin = kafka.topicAdmin();
  const log = new RegistryLog({
    kafka,
    admin,
    names,
    logger,
    replicationFactor: config.REGISTRY_REPLICATION_FACTOR,
  });
  const registry = new RegistryService({
    log,
    admin,
    names,
    logger,
    topicDefaults: {
      partitions: config.REGISTRY_DEFAULT_PARTITIONS,
      retentionMillis: config.REGISTRY_DEFAULT_RETENTION_HOURS * 3600_000,
    },
    replicationFactor: config.REGISTRY_REPLICATION_FACTOR,
    writeTimeoutMillis: config.REGISTRY_WRITE_TIMEOUT_MS,
    pushRules: { allowInsecure: config.REGISTRY_PUSH_ALLOW_INSECURE, allowPrivate: config.REGISTRY_PUSH_ALLOW_PRIVATE },
  });
  exportRegistryMetrics(metrics.registry, registry);
  // The policy file is the static base (the first admin, the services' own identities); the policies set
  // through SetIamPolicy, held in the registry's state, add to it (ADR 0006).
  const policyFile = security.authzPolicyFile ? new FilePolicySource(security.authzPolicyFile, logger) : undefined;
  const policies = policyFile && new UnionPolicySource(policyFile, registry);
  const server = new HeraldServer({
    logger,
    tls: security.serverTls,
    auth: security.auth,
    authz: policies,
    quotas: security.quotas,
    metrics: metrics.exported,
    services: [
      bindService(
        'herald.v1.SubscriberRegistryService',
        withSharedWatchEncoding(SubscriberRegistryServiceService),
        registryHandlers(registry, logger, new Visibility(policies, policyFile)),
        {
          createTopic: ['kafka'],
          deleteTopic: ['kafka'],
          createSubscription: ['kafka'],
          updateSubscription: ['kafka'],
          deleteSubscription: ['kafka'],
          seek: ['kafka'],
          setIamPolicy: ['kafka'],
        },
      ),
    ],
  });
  // Listen first (health answers NOT_SERVING during replay), serve once the state is current.
  await server.listen(config.REGISTRY_HOST, config.REGISTRY_PORT);
  await registry.start();
  // Readiness follows Kafka; the writes fail at once without it (reads are served from the state held).
  const connectivity = kafka.connectivity();
  server.readiness.follow('kafka', connectivity);
  server.setServing(true);
  stopOnSignals(logger, async () => {
    await server.stop();
    await log.stop();
    await admin.close();
    await connectivity.stop();
    await metrics.close();
  });
});
