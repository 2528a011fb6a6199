#!/usr/bin/env node
/**
 * `make run`: a local Kafka (unless KAFKA_BROKERS names one) and one instance
 * of each Herald service. Ctrl-C stops everything.
 *
 * Environment (each optional):
 *   KAFKA_BROKERS                                    use this Kafka instead of starting one
 *   PUBLISHER_PORT, REGISTRY_PORT, DISPATCHER_PORT   the services' ports (50051, 50052, 50053)
 *   PUBLISHER_METRICS_PORT, REGISTRY_METRICS_PORT,
 *   DISPATCHER_METRICS_PORT                          their /metrics ports (9461, 9462, 9463)
 *   HERALD_KAFKA_PORT                                the local Kafka's client port (9092; its controller one above)
 *   HERALD_RUN_DIR                                   Kafka data, logs and the run's pid file (.herald/run)
 *
 * One run per run folder: a second one says which process holds it and leaves
 * it alone. What an earlier run left behind (its Kafka) is stopped only once
 * that run's process is gone.
 */
import path from 'node:path';
import { LocalKafkaCluster, heraldHome } from '@herald/local-kafka';
import { checkHealth } from './health-probe';
import { HeraldStack } from './herald-stack';
import { kafkaBrokersProblem, type PlannedPort, portsInUse } from './preflight';
import { acquireRunLock } from './run-lock';
import { runLogDir } from './run-logs';
import { type ServiceName, ServiceStartError } from './service-process';

const say = (line: string) => console.log(`[herald] ${line}`);

/** A port from its variable, or the default; exits on a bad value. */
function portFrom(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    say(`${variable}="${text}" is not a port (1-65535)`);
    process.exit(2);
  }
  return port;
}

async function main(): Promise<void> {
  const runDir = path.resolve(process.env.HERALD_RUN_DIR || path.join(heraldHome, 'run'));
  const ports: Record<ServiceName, number> = {
    publisher: portFrom('PUBLISHER_PORT', 50051),
    'subscriber-registry': portFrom('REGISTRY_PORT', 50052),
    dispatcher: portFrom('DISPATCHER_PORT', 50053),
  };
  const metricsPorts: Record<ServiceName, number> = {
    publisher: portFrom('PUBLISHER_METRICS_PORT', 9461),
    'subscriber-registry': portFrom('REGISTRY_METRICS_PORT', 9462),
    dispatcher: portFrom('DISPATCHER_METRICS_PORT', 9463),
  };
  const kafkaPort = portFrom('HERALD_KAFKA_PORT', 9092);

  const lock = acquireRunLock(runDir, 'run-local');
  if (!lock.acquired) {
    say(
      `Herald is already running here (pid ${lock.ownerPid}); stop it first (Ctrl-C in its terminal, or kill ${lock.ownerPid}), or give this run its own HERALD_RUN_DIR and ports`,
    );
    process.exit(1);
  }
  process.on('exit', lock.release);

  let kafka: LocalKafkaCluster | undefined;
  let stack: HeraldStack | undefined;
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (stack || kafka) say('stopping the services and Kafka');
    await stack?.stop();
    await kafka?.stop();
    if (code === 0) say('stopped');
    process.exit(code);
  };
  // The terminal sends SIGINT to the whole process group: children stop on their own too.
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));
  const fail = async (line: string) => {
    say(line);
    await stopAll(1);
  };

  // Every port is checked before Kafka starts: a port in use fails now, not after Kafka's start-up.
  const host = (variable: string) => process.env[variable] || '127.0.0.1';
  const planned: PlannedPort[] = [
    { port: ports.publisher, host: host('PUBLISHER_HOST'), variable: 'PUBLISHER_PORT' },
    { port: ports['subscriber-registry'], host: host('REGISTRY_HOST'), variable: 'REGISTRY_PORT' },
    { port: ports.dispatcher, host: host('DISPATCHER_HOST'), variable: 'DISPATCHER_PORT' },
    { port: metricsPorts.publisher, host: host('PUBLISHER_HOST'), variable: 'PUBLISHER_METRICS_PORT' },
    { port: metricsPorts['subscriber-registry'], host: host('REGISTRY_HOST'), variable: 'REGISTRY_METRICS_PORT' },
    { port: metricsPorts.dispatcher, host: host('DISPATCHER_HOST'), variable: 'DISPATCHER_METRICS_PORT' },
  ];
  const externalKafka = process.env.KAFKA_BROKERS;
  if (!externalKafka) {
    planned.push({ port: kafkaPort, host: '127.0.0.1', variable: 'HERALD_KAFKA_PORT' });
    planned.push({ port: kafkaPort + 1, host: '127.0.0.1', variable: 'HERALD_KAFKA_PORT' });
  }
  const taken = await portsInUse(planned);
  if (taken.length > 0) return fail(taken.join('\n[herald] '));

  let brokers: string[];
  if (externalKafka) {
    const problem = await kafkaBrokersProblem(externalKafka);
    if (problem) return fail(problem);
    brokers = externalKafka.split(',').map((broker) => broker.trim());
    say(`using the Kafka at ${brokers.join(',')}`);
  } else {
    say(`starting a local one-broker Kafka (data kept in ${path.join(runDir, 'kafka')})`);
    try {
      kafka = await LocalKafkaCluster.start({
        brokers: 1,
        dir: path.join(runDir, 'kafka'),
        basePort: kafkaPort,
        keepData: true,
        log: say,
      });
    } catch (error) {
      return fail(`Kafka did not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    brokers = kafka.bootstrapServers;
  }
  const logDir = runLogDir(path.join(runDir, 'logs'));
  try {
    stack = await HeraldStack.start({ kafkaBrokers: brokers, logDir, ports, metricsPorts });
  } catch (error) {
    if (error instanceof ServiceStartError) return fail(`${error.summary} (log: ${error.logFile})`);
    return fail(error instanceof Error ? error.message : String(error));
  }
  // A local stack is for development: gRPC in plaintext, reachable from this machine only (see README, Security).
  if (!process.env.HERALD_TLS_CERT) {
    say('gRPC is PLAINTEXT, on loopback only, without authentication (README.md, Security, says how to run with TLS)');
  }
  say(`publisher            127.0.0.1:${ports.publisher}`);
  say(`subscriber-registry  127.0.0.1:${ports['subscriber-registry']}`);
  say(`dispatcher           127.0.0.1:${ports.dispatcher}`);
  say(`Kafka                ${brokers.join(',')}`);
  if (process.env.HERALD_METRICS_ENABLED !== 'false') {
    for (const service of stack.all) say(`metrics of ${service.name.padEnd(19)} ${service.metricsUrl}`);
  }
  say(`logs in ${logDir}; try: grpcurl -plaintext 127.0.0.1:${ports['subscriber-registry']} list`);
  say('Ctrl-C stops everything');

  // A dead part leaves the rest half-working: say which died, and stop everything.
  const watch = setInterval(() => {
    if (stopping) return;
    const kafkaNode = kafka?.nodeIds[0];
    if (kafka && kafkaNode !== undefined && !kafka.isRunning(kafkaNode)) {
      clearInterval(watch);
      const log = path.join(kafka.dir, `node-${kafkaNode}`, 'server.log');
      void fail(
        `Kafka (pid ${kafka.pidOf(kafkaNode)}) exited unexpectedly (log: ${log}); the services cannot work without it`,
      );
      return;
    }
    for (const service of stack?.all ?? []) {
      if (!service.running) {
        clearInterval(watch);
        const cause = service.lastLoggedError();
        void fail(
          `${service.name} (pid ${service.pid}) exited unexpectedly${cause ? `: ${cause}` : ''} (log: ${service.options.logFile})`,
        );
        return;
      }
    }
  }, 1_000);

  // A service that stays up but cannot work (Kafka or the registry out of its reach) answers NOT_SERVING:
  // say so once, and again when it is ready again, rather than carry on without a word.
  const ready = new Map<string, boolean>(stack.all.map((service) => [service.name, true]));
  const readiness = setInterval(() => {
    if (stopping) {
      clearInterval(readiness);
      return;
    }
    for (const service of stack?.all ?? []) {
      void checkHealth(service.address, '', 2_000).then((status) => {
        const serving = status === 'SERVING';
        if (stopping || !service.running || ready.get(service.name) === serving) return;
        ready.set(service.name, serving);
        if (serving) say(`${service.name} is ready again`);
        else {
          const down = service.dependenciesDown();
          const cause = down.length > 0 ? `: cannot reach ${down.join(' and ')}` : '';
          say(
            `${service.name} is not ready (${status})${cause}; it answers UNAVAILABLE until it is (log: ${service.options.logFile})`,
          );
        }
      });
    }
  }, 2_000);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
