#!/usr/bin/env node
/**
 * `make run`: a local Kafka (unless KAFKA_BROKERS names one) and one instance
 * of each Herald service on their default ports. Ctrl-C stops everything.
 */
import path from 'node:path';
import { LocalKafkaCluster, heraldHome } from '@herald/local-kafka';
import { HeraldStack } from './herald-stack';

const say = (line: string) => console.log(`[herald] ${line}`);

async function main(): Promise<void> {
  const runDir = path.join(heraldHome, 'run');
  let kafka: LocalKafkaCluster | undefined;
  let brokers: string[];
  if (process.env.KAFKA_BROKERS) {
    brokers = process.env.KAFKA_BROKERS.split(',');
    say(`using the Kafka at ${brokers.join(',')}`);
  } else {
    say('starting a local one-broker Kafka (data kept in .herald/run/kafka)');
    kafka = await LocalKafkaCluster.start({
      brokers: 1,
      dir: path.join(runDir, 'kafka'),
      basePort: 9092,
      keepData: true,
      log: say,
    });
    brokers = kafka.bootstrapServers;
  }
  let stack: HeraldStack | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping the services and Kafka');
    await stack?.stop();
    await kafka?.stop();
    say('stopped');
    process.exit(code);
  };
  // The terminal sends SIGINT to the whole process group: children stop on their own too.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  try {
    stack = await HeraldStack.start({
      kafkaBrokers: brokers,
      logDir: path.join(runDir, 'logs'),
      ports: { publisher: 50051, 'subscriber-registry': 50052, dispatcher: 50053 },
    });
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
    await stopAll(1);
    return;
  }
  say(`publisher            127.0.0.1:${stack.publishers[0]!.options.port}`);
  say(`subscriber-registry  127.0.0.1:${stack.registries[0]!.options.port}`);
  say(`dispatcher           127.0.0.1:${stack.dispatchers[0]!.options.port}`);
  say(`Kafka                ${brokers.join(',')}`);
  say(`logs in ${path.join(runDir, 'logs')}; try: grpcurl -plaintext 127.0.0.1:50052 list`);
  say('Ctrl-C stops everything');
  const watch = setInterval(() => {
    for (const service of stack?.all ?? []) {
      if (!service.running && !stopping) {
        say(`${service.name} exited unexpectedly:\n${service.logTail(10)}`);
        clearInterval(watch);
        void stopAll(1);
        return;
      }
    }
  }, 1_000);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
