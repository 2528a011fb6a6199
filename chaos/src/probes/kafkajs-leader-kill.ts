#!/usr/bin/env node
/**
 * A reproduction, with kafkajs alone, of the acknowledged-message loss the
 * broker-kill scenario found in Herald's publisher: an idempotent producer
 * (acks=all, as libs/kafka's DurableProducer makes them) sends batches that
 * span partitions led by several brokers; the leader of one partition is
 * killed with SIGKILL; once its partitions have moved to brokers that had
 * already answered their part of the same request, kafkajs's retry sends
 * nothing and resolves the whole send. Every send that resolved is then looked
 * for in Kafka, read from offset 0.
 *
 *   node chaos/dist/src/probes/kafkajs-leader-kill.js
 *
 * Starts its own 3-broker cluster in `.herald/chaos/probe-kafka` (ports
 * 29592-29597) and stops it at the end. Exits 1 when a resolved send is missing.
 */
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LocalKafkaCluster, heraldHome } from '@herald/local-kafka';
import { auditKafka } from '../kafka-audit';
import { ChaosAttribute } from '../history';

async function main(): Promise<number> {
  const cluster = await LocalKafkaCluster.start({
    brokers: 3,
    dir: path.join(heraldHome, 'chaos', 'probe-kafka'),
    basePort: 29592,
    log: (line) => console.log(line),
  });
  try {
    const kafka = new Kafka({ clientId: 'probe', brokers: cluster.bootstrapServers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = 'probe.leader-kill';
    // kafkajs's own wait for the new topic gives up when a busy broker does not know it yet: wait here.
    await admin
      .createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 3 }] })
      .catch((error: { type?: string }) => {
        if (error.type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
      });
    for (let led = 0; led < 6; await new Promise((resolve) => setTimeout(resolve, 200))) {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
      led = metadata?.topics[0]?.partitions.filter((p) => p.leader >= 0).length ?? 0;
    }
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 10 },
    });
    await producer.connect();
    const resolved = new Set<string>();
    let failed = 0;
    let seq = 0;
    let running = true;
    const loop = (async () => {
      while (running) {
        // One request with a record for every partition: it goes to all three brokers at once.
        const messages = Array.from({ length: 6 }, (_, partition) => {
          const id = `probe:${++seq}`;
          return { partition, value: id, headers: { [ChaosAttribute.id]: id } };
        });
        try {
          await producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1, timeout: 30_000 });
          for (const m of messages) resolved.add(m.value);
        } catch {
          failed += messages.length;
        }
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const victim = metadata.topics[0]!.partitions[0]!.leader;
    console.log(`kill -9 broker ${victim}, the leader of partition 0, with sends in flight`);
    await cluster.killBroker(victim);
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    running = false;
    await loop;
    await producer.disconnect();
    await admin.disconnect();
    await cluster.startBroker(victim, 120_000);
    const audit = await auditKafka(cluster.bootstrapServers, 'probe.', 120_000);
    const missing = [...resolved].filter((id) => !audit.byId.has(id));
    const byPartition = new Map<number, number>();
    for (const id of missing) {
      const partition = (Number(id.split(':')[1]) - 1) % 6;
      byPartition.set(partition, (byPartition.get(partition) ?? 0) + 1);
    }
    const led = metadata.topics[0]!.partitions.filter((p) => p.leader === victim).map((p) => p.partitionId);
    console.log(
      `Kafka holds ${audit.records} records; broker ${victim} led partitions ${led.join(', ')}; ` +
        `missing records by partition: ${JSON.stringify(Object.fromEntries(byPartition))}`,
    );
    console.log(
      `${resolved.size} records in sends that resolved, ${failed} in sends that failed; ` +
        `${missing.length} of the resolved ones are not in Kafka${missing.length > 0 ? `, e.g. ${missing.slice(0, 5).join(', ')}` : ''}`,
    );
    return missing.length > 0 ? 1 : 0;
  } finally {
    await cluster.stop({ removeData: true });
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
