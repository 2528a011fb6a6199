import { type Admin, Kafka, logLevel } from 'kafkajs';

// The default partitioner is the one Herald's publisher uses too; kafkajs warns about it on every producer.
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/**
 * Prefix of the Kafka topics the benchmark writes to directly. It is not the
 * Herald stack's prefix (`bench.`): a registry deletes Kafka topics under its
 * prefix that it does not know.
 */
export const rawTopicPrefix = 'benchraw.';

/** A kafkajs client for the harness: quiet, generous timeouts (a loaded one-broker cluster answers slowly). */
export function benchKafka(brokers: string[], clientId: string): Kafka {
  return new Kafka({
    clientId,
    brokers,
    // Failures reach the caller as errors; kafkajs's own lines would only repeat them.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/** Settings of a topic the benchmark creates directly. */
export interface RawTopicSpec {
  name: string;
  partitions: number;
  /** Extra topic configs. */
  configs?: Record<string, string>;
}

/**
 * Creates topics with the durability Herald's topics get: replication factor
 * min(3, brokers), `min.insync.replicas` 2 with 3 replicas (else 1). Resolves
 * with the replication factor.
 */
export async function createRawTopics(kafka: Kafka, specs: RawTopicSpec[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const brokers = (await admin.describeCluster()).brokers.length;
    const replicationFactor = Math.min(3, brokers);
    await admin.createTopics({
      // kafkajs's own wait gives up at once when the broker does not know the new topic yet, as happens under load.
      waitForLeaders: false,
      timeout: 30_000,
      topics: specs.map((spec) => ({
        topic: spec.name,
        numPartitions: spec.partitions,
        replicationFactor,
        configEntries: Object.entries({
          'min.insync.replicas': String(replicationFactor >= 3 ? 2 : 1),
          ...spec.configs,
        }).map(([name, value]) => ({ name, value })),
      })),
    });
    await waitForLeaders(
      admin,
      specs.map((spec) => spec.name),
      30_000,
    );
    return replicationFactor;
  } finally {
    await admin.disconnect();
  }
}

/** Resolves once every partition of the topics has a leader; the broker learns of new topics a little later. */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.every((topic) => topic.partitions.every((partition) => partition.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after ${timeoutMillis} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Deletes topics, so that a long run does not fill the disk; failures are only logged. */
export async function deleteRawTopics(kafka: Kafka, names: string[], log: (line: string) => void): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.deleteTopics({ topics: names, timeout: 30_000 });
  } catch (error) {
    log(`could not delete ${names.join(', ')}: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
