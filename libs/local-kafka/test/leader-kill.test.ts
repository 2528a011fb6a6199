import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ownCluster, testKafka, uniqueName, waitFor } from '@herald/testkit';

describe('local Kafka cluster', function () {
  this.timeout(180_000);

  it('keeps every record acknowledged with acks=all readable after kill -9 of the partition leader', async function () {
    const cluster = ownCluster(this);
    if (cluster.nodeIds.length < 3) this.skip();
    const kafka = new Kafka({ clientId: 'leader-kill-test', brokers: testKafka().brokers, logLevel: logLevel.NOTHING });
    const topic = uniqueName('leader-kill');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] },
      ],
      waitForLeaders: true,
    });
    const leaderOf = async () => {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      return metadata.topics[0]!.partitions[0]!.leader;
    };
    const leader = await leaderOf();

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30 } });
    await producer.connect();
    const acknowledged: number[] = [];
    let failures = 0;
    let sequence = 0;
    let producing = true;
    const loop = (async () => {
      while (producing) {
        const batch = Array.from({ length: 20 }, () => sequence++);
        try {
          await producer.send({ topic, acks: -1, messages: batch.map((n) => ({ key: String(n), value: String(n) })) });
          acknowledged.push(...batch);
        } catch {
          failures++; // not acknowledged: the checker does not count these
        }
      }
    })();

    await waitFor(() => acknowledged.length >= 2_000, { description: '2000 acknowledged records before the kill' });
    await cluster.killBroker(leader);
    const killedAt = acknowledged.length;
    await waitFor(async () => (await leaderOf()) !== leader && acknowledged.length >= killedAt + 2_000, {
      timeoutMillis: 60_000,
      description: 'a new leader and 2000 more acknowledged records',
    });
    producing = false;
    await loop;
    await producer.disconnect();
    await cluster.startBroker(leader);

    const seen = new Set<number>();
    const consumer = kafka.consumer({ groupId: uniqueName('leader-kill-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(Number(message.value!.toString())) });
    await waitFor(() => acknowledged.every((n) => seen.has(n)), {
      timeoutMillis: 60_000,
      description: `all ${acknowledged.length} acknowledged records read back (${seen.size} seen)`,
    }).catch(() => undefined);
    await consumer.disconnect();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();

    const lost = acknowledged.filter((n) => !seen.has(n));
    console.log(
      `      acknowledged ${acknowledged.length}, unacknowledged attempts ${failures}, read back ${seen.size}, lost ${lost.length}`,
    );
    assert.ok(acknowledged.length >= 4_000);
    assert.deepEqual(lost, [], 'acknowledged records lost after the leader was killed');
  });
});
