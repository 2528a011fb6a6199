import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { SubscriberRegistryServiceClient, Topic } from '@herald/api';
import { ServiceProcess } from '@herald/devstack';
import { freePort, heraldHome } from '@herald/local-kafka';
import { rpc, rpcStatus, testKafka, uniqueName, waitFor } from '@herald/testkit';
import { Kafka, logLevel } from 'kafkajs';

/** Log lines of a service's JSON log that have `msg`. */
async function logLines(file: string, msg: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.includes(msg))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('subscriber-registry with unreadable log records (3-broker Kafka)', function () {
  this.timeout(180_000);
  const prefix = `${uniqueName('regbad')}.`;
  const logFile = (index: number) => path.join(heraldHome, 'test', 'logs', `${prefix}registry-${index}.log`);
  const start = async (index: number) =>
    ServiceProcess.start({
      service: 'subscriber-registry',
      port: await freePort(),
      logFile: logFile(index),
      env: {
        KAFKA_BROKERS: testKafka().brokers.join(','),
        HERALD_TOPIC_PREFIX: prefix,
        HERALD_INSTANCE_ID: `registry-${index}`,
      },
    });
  const processes: ServiceProcess[] = [];
  const clients: SubscriberRegistryServiceClient[] = [];
  const connect = (process: ServiceProcess) => {
    const client = new SubscriberRegistryServiceClient(process.address, credentials.createInsecure());
    clients.push(client);
    return client;
  };

  after(async () => {
    for (const client of clients) client.close();
    await Promise.all(processes.map((process) => process.stop()));
  });

  it('skips, logs and counts a record of an unknown version or a corrupt one, on a running and on a starting instance', async () => {
    const first = await start(1);
    processes.push(first);
    const running = connect(first);
    await rpc(running, running.createTopic, { topic: Topic.fromPartial({ name: 'before' }) });

    // Records no build of this version can read, written straight into the log with a plain producer.
    const kafka = new Kafka({
      clientId: 'bad-record-writer',
      brokers: testKafka().brokers,
      logLevel: logLevel.NOTHING,
    });
    const producer = kafka.producer();
    await producer.connect();
    const topic = { name: 'future', partitions: 1, retentionMillis: 60_000, replicationFactor: 1, createTimeMillis: 1 };
    await producer.send({
      topic: `${prefix}_registry`,
      messages: [
        // A later format version: its fields look readable, and must still not be applied.
        { key: 'topic/future', value: JSON.stringify({ v: 2, type: 'topic', change: 'created', topic }) },
        // Corrupt bytes.
        { key: 'topic/corrupt', value: Buffer.from([0x00, 0xff, 0x7b, 0x13]) },
        // The right version with a field missing: applying it would throw inside the replay.
        { key: 'topic/broken', value: JSON.stringify({ v: 1, type: 'topic', change: 'created' }) },
      ],
    });
    await producer.disconnect();

    // The running instance goes on serving and writing.
    await rpc(running, running.createTopic, { topic: Topic.fromPartial({ name: 'after' }) });
    await waitFor(async () => (await logLines(logFile(1), 'registry log record skipped')).length === 3, {
      description: 'the running instance logged the three skips',
    });

    // A fresh instance replays the same log, skips the same records and serves.
    const second = await start(2);
    processes.push(second);
    const fresh = connect(second);
    for (const client of [running, fresh]) {
      for (const name of ['before', 'after']) {
        const { topic: found } = await rpc(client, client.getTopic, { name });
        assert.equal(found?.name, name);
      }
      for (const name of ['future', 'corrupt', 'broken']) {
        const outcome = await rpcStatus(client, client.getTopic, { name });
        assert.equal(outcome.code, status.NOT_FOUND, `${name}: ${outcome.details}`);
      }
    }
    const skips = await logLines(logFile(2), 'registry log record skipped');
    assert.deepEqual(
      skips.map((line) => [line.key, line.skippedRecords]),
      [
        ['topic/future', 1],
        ['topic/corrupt', 2],
        ['topic/broken', 3],
      ],
    );
    assert.match(String((skips[0]!.err as { message: string }).message), /format version 2; this build reads 1/);
    const [replayed] = await logLines(logFile(2), 'registry log replayed');
    assert.equal(replayed?.skippedRecords, 3);
  });
});
