#!/usr/bin/env node
/**
 * Operator commands for the local Kafka:
 *   fetch                                  download the pinned jars into the cache
 *   start --brokers N --dir D --port P     start a cluster and stay in the foreground until Ctrl-C;
 *         [--sasl-ssl] [--ssl]             with a SASL_SSL (SCRAM) and/or an SSL (mTLS) listener besides
 *   stop --dir D                           stop whatever a cluster in D left running
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureKafkaJars } from './jars';
import { LocalKafkaCluster } from './local-kafka-cluster';
import { heraldHome } from './paths';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      brokers: { type: 'string', default: '1' },
      dir: { type: 'string', default: path.join(heraldHome, 'kafka') },
      port: { type: 'string', default: '9092' },
      'keep-data': { type: 'boolean', default: false },
      'sasl-ssl': { type: 'boolean', default: false },
      ssl: { type: 'boolean', default: false },
    },
  });
  const log = (line: string) => console.log(`[local-kafka] ${line}`);
  switch (positionals[0]) {
    case 'fetch':
      log(`jars in ${await ensureKafkaJars(log)}`);
      return;
    case 'stop':
      await LocalKafkaCluster.stopLeftovers(values.dir);
      return;
    case 'start': {
      const cluster = await LocalKafkaCluster.start({
        brokers: Number(values.brokers),
        dir: values.dir,
        basePort: Number(values.port),
        keepData: values['keep-data'],
        log,
        tlsListeners: { saslSsl: values['sasl-ssl'], ssl: values.ssl },
      });
      log(`KAFKA_BROKERS=${cluster.bootstrapServers.join(',')}  (Ctrl-C stops it)`);
      const security = cluster.security;
      if (security && values['sasl-ssl']) {
        log(
          `SASL_SSL: KAFKA_BROKERS=${cluster.saslSslServers.join(',')} KAFKA_SECURITY_PROTOCOL=sasl_ssl ` +
            `KAFKA_SSL_CA_LOCATION=${security.caFile} KAFKA_SASL_MECHANISM=SCRAM-SHA-512 ` +
            `KAFKA_SASL_USERNAME=${security.username} KAFKA_SASL_PASSWORD_FILE=${security.passwordFile}`,
        );
      }
      if (security && values.ssl) {
        log(
          `SSL (mTLS): KAFKA_BROKERS=${cluster.sslServers.join(',')} KAFKA_SECURITY_PROTOCOL=ssl ` +
            `KAFKA_SSL_CA_LOCATION=${security.caFile} KAFKA_SSL_CERTIFICATE_LOCATION=${security.clientCertificateFile} ` +
            `KAFKA_SSL_KEY_LOCATION=${security.clientKeyFile} KAFKA_SSL_KEY_PASSWORD=${security.clientKeyPassword}`,
        );
      }
      const keepAlive = setInterval(() => {}, 1 << 30);
      const stop = () =>
        void cluster.stop().then(() => {
          clearInterval(keepAlive);
          process.exit(0);
        });
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return;
    }
    default:
      console.error(
        'usage: local-kafka fetch | start [--brokers N] [--dir D] [--port P] [--keep-data] [--sasl-ssl] [--ssl] | stop [--dir D]',
      );
      process.exit(2);
  }
}

main().catch((error: unknown) => {
  console.error(`[local-kafka] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
