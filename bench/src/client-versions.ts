import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { librdkafkaVersion } from '@confluentinc/kafka-javascript';

/** The Kafka clients the raw scenarios run, with their versions, for the report's setting. */
export function describeClients(): string {
  return (
    `Kafka clients: kafkajs ${installedVersion('kafkajs')}, @confluentinc/kafka-javascript ` +
    `${installedVersion('@confluentinc/kafka-javascript')} (librdkafka ${librdkafkaVersion}), ` +
    `@platformatic/kafka ${installedVersion('@platformatic/kafka')}`
  );
}

/**
 * The version in a package's package.json, found from its entry point upwards:
 * packages whose `exports` leave out package.json cannot be asked for it directly.
 */
function installedVersion(name: string): string {
  try {
    for (let dir = path.dirname(require.resolve(name)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
      const file = path.join(dir, 'package.json');
      if (!existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === name) return manifest.version ?? '?';
    }
  } catch {
    // not installed: say so below
  }
  return '(not found)';
}
