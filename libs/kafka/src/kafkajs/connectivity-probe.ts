import { Kafka, logLevel } from 'kafkajs';
import type { KafkaClientOptions } from '../kafka-client';

/**
 * A probe for {@link KafkaConnectivity} on kafkajs: a metadata request for
 * the broker list on an admin of its own, without retries and with short
 * timeouts, so that one probe is bounded (the shared client retries for
 * tens of seconds). Its failures are the monitor's to report, not logged.
 */
export function kafkajsConnectivityProbe(
  options: KafkaClientOptions,
  timeoutMillis: number,
): { probe: () => Promise<void>; close: () => Promise<void> } {
  const kafka = new Kafka({
    clientId: `${options.clientId}-connectivity`,
    brokers: options.brokers,
    connectionTimeout: Math.min(1_500, timeoutMillis),
    requestTimeout: timeoutMillis,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  let connected: Promise<void> | undefined;
  return {
    async probe() {
      connected ??= admin.connect().catch((error: unknown) => {
        connected = undefined;
        throw error;
      });
      await connected;
      try {
        await admin.describeCluster();
      } catch (error) {
        // A fresh connection next time: kafkajs may keep a dead socket in its pool.
        connected = undefined;
        await admin.disconnect().catch(() => undefined);
        throw error;
      }
    },
    close: () => admin.disconnect().catch(() => undefined),
  };
}
