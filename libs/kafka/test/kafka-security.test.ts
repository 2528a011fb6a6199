import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Admin, Publisher, type ReceivedMessage, Subscriber } from '@herald/client';
import { HeraldStack, ServiceProcess, ServiceStartError, checkHealth } from '@herald/devstack';
import {
  type ConsumedRecord,
  type KafkaClientKind,
  type KafkaSecurity,
  createKafkaClient,
  kafkaClientKinds,
} from '@herald/kafka';
import { LocalKafkaCluster, type LocalKafkaSecurity, freePort, heraldHome } from '@herald/local-kafka';
import { silentLogger } from '@herald/logging';
import { uniqueName, waitFor } from '@herald/testkit';

/** Its own port block: plaintext 29592, controller 29593, SASL_SSL 29594, SSL (mTLS) 29595. */
const basePort = 29592;

/**
 * Writes three records through a client with `security` and reads them back:
 * the admin (topic creation, offsets), a durable producer and a partition
 * reader, all over the secured listener.
 */
async function roundTrip(kind: KafkaClientKind, brokers: string[], security: KafkaSecurity): Promise<string[]> {
  const client = createKafkaClient({ brokers, clientId: uniqueName('tls'), logger: silentLogger(), kind, security });
  const admin = client.topicAdmin();
  const topic = uniqueName(`tls-${kind}`);
  const producer = client.durableProducer({ sendTimeoutMillis: 20_000 });
  try {
    assert.equal(await admin.brokerCount(), 1);
    await admin.createTopic({ name: topic, partitions: 1, replicationFactor: 1, configs: {} });
    await producer.connect();
    const values = ['one', 'two', 'three'];
    await producer.send(
      topic,
      1,
      values.map((value) => ({ key: null, value: Buffer.from(value), headers: {}, timestamp: Date.now() })),
    );
    assert.deepEqual(await admin.latestOffsets(topic), [{ partition: 0, offset: '3' }]);
    const read: ConsumedRecord[] = [];
    const reader = client.partitionReader({
      topic,
      start: [{ partition: 0, offset: 0 }],
      records: (_, records) => void read.push(...records),
    });
    await reader.start();
    try {
      await waitFor(() => read.length >= 3, { timeoutMillis: 30_000, description: `3 records of ${topic}` });
    } finally {
      await reader.stop();
    }
    return read.map((record) => record.value!.toString());
  } finally {
    await producer.close().catch(() => undefined);
    await admin.close();
  }
}

/** Rejects unless `call` fails within `millis`; resolves with the error's message. */
async function failsWithin(call: () => Promise<unknown>, millis: number): Promise<string> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still no failure after ${millis} ms`)), millis);
  });
  try {
    await Promise.race([call(), timeout]);
  } catch (error) {
    if ((error as Error).message.startsWith('still no failure')) throw error;
    return `${(error as Error).message} (after ${Date.now() - started} ms)`;
  } finally {
    clearTimeout(timer);
  }
  assert.fail('succeeded where it must fail');
}

describe('Kafka over TLS and SASL (own one-broker Kafka with SASL_SSL and mTLS listeners)', function () {
  this.timeout(240_000);
  let cluster: LocalKafkaCluster;
  let secrets: LocalKafkaSecurity;

  const saslSsl = (mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512', password = secrets.password) =>
    ({
      protocol: 'sasl_ssl',
      tls: { caLocation: secrets.caFile },
      sasl: { mechanism, username: secrets.username, password },
    }) satisfies KafkaSecurity;
  const mtls = () =>
    ({
      protocol: 'ssl',
      tls: {
        caLocation: secrets.caFile,
        certificateLocation: secrets.clientCertificateFile,
        keyLocation: secrets.clientKeyFile,
        keyPassword: secrets.clientKeyPassword,
      },
    }) satisfies KafkaSecurity;

  before(async () => {
    cluster = await LocalKafkaCluster.start({
      brokers: 1,
      dir: path.join(heraldHome, 'test', 'tls-kafka'),
      basePort,
      tlsListeners: { saslSsl: true, ssl: true },
      log: (line) => console.log(`      [tls-kafka] ${line}`),
    });
    secrets = cluster.security!;
  });
  after(async () => cluster?.stop({ removeData: true }));

  for (const kind of kafkaClientKinds) {
    describe(kind, () => {
      for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256', 'PLAIN'] as const) {
        it(`writes and reads over SASL_SSL with ${mechanism}`, async () => {
          assert.deepEqual(await roundTrip(kind, cluster.saslSslServers, saslSsl(mechanism)), ['one', 'two', 'three']);
        });
      }

      it('writes and reads over mTLS with an encrypted client key', async () => {
        assert.deepEqual(await roundTrip(kind, cluster.sslServers, mtls()), ['one', 'two', 'three']);
      });

      it('is refused, saying why: a wrong password, a broker no trusted CA vouches for, no client certificate', async () => {
        const refusals = {
          'wrong password': {
            brokers: cluster.saslSslServers,
            security: saslSsl('SCRAM-SHA-512', 'not-the-password'),
            reason: /authentication failed.*invalid credentials/i,
          },
          // No CA file: the system's (or Node's) CAs, none of which signed the test broker's certificate.
          'untrusted broker certificate': {
            brokers: cluster.saslSslServers,
            security: { ...saslSsl('SCRAM-SHA-512'), tls: {} },
            reason: /certificate verify failed|unable to verify the first certificate/i,
          },
          'no client certificate': {
            brokers: cluster.sslServers,
            security: { protocol: 'ssl', tls: { caLocation: secrets.caFile } } satisfies KafkaSecurity,
            reason: /bad certificate|certificate required/i,
          },
        };
        await Promise.all(
          Object.entries(refusals).map(async ([what, { brokers, security, reason }]) => {
            const client = createKafkaClient({
              brokers,
              clientId: `tls-${what}`,
              logger: silentLogger(),
              kind,
              security,
            });
            const admin = client.topicAdmin();
            try {
              const why = await failsWithin(() => admin.brokerCount(), 30_000);
              console.log(`        ${what}: ${why}`);
              assert.match(why, reason, what);
            } finally {
              await admin.close();
            }
          }),
        );
      });

      it('probes connectivity over TLS: reachable with the right CA, unreachable without it', async () => {
        const trusting = createKafkaClient({
          brokers: cluster.saslSslServers,
          clientId: 'tls-probe',
          logger: silentLogger(),
          kind,
          security: saslSsl('SCRAM-SHA-512'),
        });
        const untrusting = createKafkaClient({
          brokers: cluster.saslSslServers,
          clientId: 'tls-probe-untrusted',
          logger: silentLogger(),
          kind,
          security: { ...saslSsl('SCRAM-SHA-512'), tls: {} },
        });
        const good = trusting.connectivity();
        const bad = untrusting.connectivity();
        try {
          // Two failed probes a second apart lose Kafka: by then a probe that could not speak TLS would have.
          await waitFor(() => !bad.reachable, { timeoutMillis: 15_000, description: 'the untrusting probe to fail' });
          assert.match(bad.unreachableReason, /certificate/);
          assert.ok(good.reachable, good.unreachableReason);
        } finally {
          await Promise.all([good.stop(), bad.stop()]);
        }
      });

      it('carries publish and subscribe through the three services over SASL_SSL (SCRAM-SHA-512)', async () => {
        const prefix = `${uniqueName(`tls-${kind}`)}.`;
        const logDir = path.join(heraldHome, 'test', 'logs', prefix);
        const stack = await HeraldStack.start({
          kafkaBrokers: cluster.saslSslServers,
          logDir,
          env: {
            HERALD_KAFKA_CLIENT: kind,
            HERALD_TOPIC_PREFIX: prefix,
            KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
            KAFKA_SSL_CA_LOCATION: secrets.caFile,
            KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
            KAFKA_SASL_USERNAME: secrets.username,
            KAFKA_SASL_PASSWORD_FILE: secrets.passwordFile,
          },
        });
        const admin = new Admin({ endpoints: stack.registries.map((p) => p.address) });
        const publisher = new Publisher({ endpoints: stack.publishers.map((p) => p.address) });
        const subscriber = new Subscriber({
          endpoints: stack.dispatchers.map((p) => p.address),
          subscription: 'tls-sub',
        });
        try {
          await admin.createTopic({ name: 'tls', partitions: 2 });
          await admin.createSubscription({ name: 'tls-sub', topic: 'tls' });
          const received = new Map<string, string>();
          subscriber.on('message', (message: ReceivedMessage) => {
            received.set(message.id, message.data.toString());
            message.ack();
          });
          const sent = new Map<string, string>();
          // The publisher learns of the new topic through the registry's Watch: the first publish may race it.
          await waitFor(
            async () => {
              try {
                sent.set(await publisher.publish('tls', { data: 'first' }), 'first');
                return true;
              } catch {
                return false;
              }
            },
            { description: 'the publisher to know the topic' },
          );
          for (let i = 0; i < 9; i++)
            sent.set(await publisher.publish('tls', { data: `message ${i}` }), `message ${i}`);
          await waitFor(() => [...sent.keys()].every((id) => received.has(id)), {
            timeoutMillis: 60_000,
            description: `${sent.size} messages received`,
          });
          assert.deepEqual(new Map([...sent].map(([id]) => [id, received.get(id)])), sent);
          // Seconds of probes over TLS behind them: a probe that failed would have turned readiness off.
          for (const service of stack.all) assert.equal(await checkHealth(service.address), 'SERVING', service.name);
        } finally {
          await subscriber.close();
          await publisher.close();
          admin.close();
          await stack.stop();
        }
        // Every log line the three services wrote: the connection is described, the password never appears.
        const logs = readdirSync(logDir).map((file) => readFileSync(path.join(logDir, file), 'utf8'));
        assert.ok(logs.every((log) => log.includes('Kafka connections: sasl_ssl (SCRAM-SHA-512 as \\"herald\\"')));
        assert.ok(!logs.some((log) => log.includes(secrets.password)), 'a log holds the SASL password');
      });

      it('a publisher with a wrong password stops at start-up saying why, without the password', async () => {
        const prefix = `${uniqueName(`tls-bad-${kind}`)}.`;
        const wrong = `wrong-${uniqueName()}`;
        const error = await ServiceProcess.start({
          service: 'publisher',
          port: await freePort(),
          logFile: path.join(heraldHome, 'test', 'logs', prefix, 'publisher.log'),
          readyTimeoutMillis: 60_000,
          env: {
            KAFKA_BROKERS: cluster.saslSslServers.join(','),
            HERALD_KAFKA_CLIENT: kind,
            HERALD_TOPIC_PREFIX: prefix,
            REGISTRY_ADDRESSES: '127.0.0.1:1',
            KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
            KAFKA_SSL_CA_LOCATION: secrets.caFile,
            KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
            KAFKA_SASL_USERNAME: secrets.username,
            KAFKA_SASL_PASSWORD: wrong,
          },
        }).then(
          async (started) => {
            await started.stop();
            assert.fail('the publisher started with a wrong password');
          },
          (e: unknown) => e as Error,
        );
        assert.ok(error instanceof ServiceStartError, String(error));
        console.log(`        ${error.summary}`);
        assert.match(error.summary, /authenticat/i);
        assert.ok(!readFileSync(error.logFile, 'utf8').includes(wrong), 'the log holds the password');
      });
    });
  }
});
