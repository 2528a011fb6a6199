#!/usr/bin/env node
/**
 * Operator commands for the local Kafka:
 *   fetch                                  download the pinned jars into the cache
 *   start --brokers N --dir D --port P     start a cluster and stay in the foreground until Ctrl-C
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
      });
      log(`KAFKA_BROKERS=${cluster.bootstrapServers.join(',')}  (Ctrl-C stops it)`);
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
        'usage: local-kafka fetch | start [--brokers N] [--dir D] [--port P] [--keep-data] | stop [--dir D]',
      );
      process.exit(2);
  }
}

main().catch((error: unknown) => {
  console.error(`[local-kafka] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
