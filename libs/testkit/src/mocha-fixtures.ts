/**
 * Mocha global fixtures for integration tests (`--require` this file): one
 * Kafka cluster for the whole run, and no process left behind when it ends.
 */
import { ServiceProcess } from '@herald/devstack';
import { startTestKafka, stopTestKafka } from './test-kafka';

export async function mochaGlobalSetup(): Promise<void> {
  await startTestKafka();
}

export async function mochaGlobalTeardown(): Promise<void> {
  ServiceProcess.killAll();
  await stopTestKafka();
}
