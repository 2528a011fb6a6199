import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { freePort, heraldHome, repoRoot } from '@herald/local-kafka';
import { listServicesByReflection, testKafka, uniqueName } from '@herald/testkit';
import { type ServiceName, ServiceProcess, checkHealth } from '../src';

const services: Array<[ServiceName, string, string]> = [
  ['publisher', 'herald.v1.PublisherService', 'PUBLISHER_PORT'],
  ['subscriber-registry', 'herald.v1.SubscriberRegistryService', 'REGISTRY_PORT'],
  ['dispatcher', 'herald.v1.DispatcherService', 'DISPATCHER_PORT'],
];

describe('service frame', function () {
  this.timeout(90_000);

  for (const [service, grpcService, portVariable] of services) {
    describe(service, () => {
      it('refuses to start with an invalid setting, naming the variable', () => {
        const entry = path.join(repoRoot, 'services', service, 'dist', 'src', 'main.js');
        const result = spawnSync(process.execPath, [entry], {
          env: { ...process.env, [portVariable]: 'not-a-port', LOG_LEVEL: 'loud' },
          encoding: 'utf8',
          timeout: 20_000,
        });
        assert.notEqual(result.status, 0);
        const line = JSON.parse(result.stderr.trim().split('\n').at(-1)!) as { level: string; problems: object };
        assert.equal(line.level, 'fatal');
        assert.deepEqual(Object.keys(line.problems).sort(), [portVariable, 'LOG_LEVEL'].sort());
        assert.match(result.stderr, new RegExp(`${portVariable} has an invalid value`));
      });

      it('serves health and reflection, and exits 0 on SIGTERM', async () => {
        const prefix = `${uniqueName('frame')}.`;
        const registryPort = await freePort();
        const registry =
          service === 'subscriber-registry'
            ? undefined
            : await ServiceProcess.start({
                service: 'subscriber-registry',
                port: registryPort,
                logFile: path.join(heraldHome, 'test', 'logs', `${prefix}registry.log`),
                env: { KAFKA_BROKERS: testKafka().brokers.join(','), HERALD_TOPIC_PREFIX: prefix },
              });
        const process = await ServiceProcess.start({
          service,
          port: await freePort(),
          logFile: path.join(heraldHome, 'test', 'logs', `${prefix}${service}.log`),
          env: {
            KAFKA_BROKERS: testKafka().brokers.join(','),
            HERALD_TOPIC_PREFIX: prefix,
            REGISTRY_ADDRESSES: `127.0.0.1:${registryPort}`,
          },
        });
        try {
          assert.equal(await checkHealth(process.address), 'SERVING');
          assert.equal(await checkHealth(process.address, grpcService), 'SERVING');
          const listed = await listServicesByReflection(process.address);
          assert.ok(listed.includes(grpcService), `reflection lists ${listed.join(', ')}`);
          assert.ok(listed.includes('grpc.health.v1.Health'));
          assert.equal(await process.stop(), 0);
        } finally {
          process.kill();
          await registry?.stop();
        }
      });
    });
  }
});
