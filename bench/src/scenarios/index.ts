import type { Scenario } from '../scenario';
import { fanout } from './fanout';
import { fanoutScale } from './fanout-scale';
import { heraldEndToEnd } from './herald-end-to-end';
import { heraldExactlyOnceEndToEnd } from './herald-exactly-once-end-to-end';
import { heraldPublish } from './herald-publish';
import { heraldPushEndToEnd } from './herald-push-end-to-end';
import { kafkaPerfConsumer } from './kafka-perf-consumer';
import { kafkaPerfProducer } from './kafka-perf-producer';
import { latencyAtFixedRates } from './latency-at-fixed-rates';
import { observabilityCost } from './observability-cost';
import { rawKafkajsEndToEnd } from './raw-kafkajs-end-to-end';
import { rawKafkajsProduce } from './raw-kafkajs-produce';
import { rawLibrdkafkaEndToEnd } from './raw-librdkafka-end-to-end';
import { rawLibrdkafkaProduce } from './raw-librdkafka-produce';
import { rawPlatformaticProduce } from './raw-platformatic-produce';
import { registryReplay } from './registry-replay';
import { securityCost } from './security-cost';

/**
 * Every scenario, in the order they run: the raw clients before Herald on the
 * same path, and `herald-end-to-end` before `herald-exactly-once-end-to-end` and `herald-push-end-to-end` (compared
 * with it) and `latency-at-fixed-rates`, which
 * publishes at shares of the maximum it measured. Ratios to baselines are
 * worked out when the report is written, so Kafka's own tools, slow to start,
 * can come last. `observability-cost` restarts the stack's publisher and
 * dispatchers with other settings, and back; `security-cost` every service. The fan-out scenarios run last of all: they stop the stack's
 * dispatchers (which would share their subscriptions) and start dispatchers of their own.
 */
export const allScenarios: Scenario[] = [
  rawKafkajsProduce,
  rawLibrdkafkaProduce,
  rawPlatformaticProduce,
  heraldPublish,
  rawKafkajsEndToEnd,
  rawLibrdkafkaEndToEnd,
  heraldEndToEnd,
  heraldExactlyOnceEndToEnd,
  heraldPushEndToEnd,
  latencyAtFixedRates,
  kafkaPerfProducer,
  kafkaPerfConsumer,
  registryReplay,
  observabilityCost,
  securityCost,
  fanout,
  fanoutScale,
];
