import type { Scenario } from '../scenario';
import { heraldEndToEnd } from './herald-end-to-end';
import { heraldPublish } from './herald-publish';
import { kafkaPerfConsumer } from './kafka-perf-consumer';
import { kafkaPerfProducer } from './kafka-perf-producer';
import { latencyAtFixedRates } from './latency-at-fixed-rates';
import { rawKafkajsEndToEnd } from './raw-kafkajs-end-to-end';
import { rawKafkajsProduce } from './raw-kafkajs-produce';
import { registryReplay } from './registry-replay';

/**
 * Every scenario, in the order they run: each baseline before the scenarios
 * compared with it, and `herald-end-to-end` before `latency-at-fixed-rates`,
 * which publishes at shares of the maximum it measured.
 */
export const allScenarios: Scenario[] = [
  rawKafkajsProduce,
  heraldPublish,
  rawKafkajsEndToEnd,
  heraldEndToEnd,
  latencyAtFixedRates,
  kafkaPerfProducer,
  kafkaPerfConsumer,
  registryReplay,
];
