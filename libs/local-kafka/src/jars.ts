import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { heraldHome, kafkaDeployDir } from './paths';

const run = promisify(execFile);

/** The Kafka version pinned in `deploy/kafka/pom.xml`. */
export function pinnedKafkaVersion(): string {
  const pom = readFileSync(path.join(kafkaDeployDir, 'pom.xml'), 'utf8');
  const match = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!match?.[1]) throw new Error('deploy/kafka/pom.xml has no <kafka.version>');
  return match[1];
}

/**
 * Makes sure the pinned Kafka jars are in the cache and returns their folder.
 * The first call asks Maven to copy them (about half a minute with an empty
 * Maven cache); later calls find the marker file and return at once.
 */
export async function ensureKafkaJars(log: (line: string) => void = () => {}): Promise<string> {
  const version = pinnedKafkaVersion();
  const libs = path.join(heraldHome, 'cache', `kafka-${version}`, 'libs');
  const marker = path.join(libs, '.complete');
  if (existsSync(marker)) return libs;
  mkdirSync(libs, { recursive: true });
  log(`fetching Apache Kafka ${version} jars from Maven Central into ${libs}`);
  await run(
    'mvn',
    [
      '-q',
      '-B',
      '-f',
      path.join(kafkaDeployDir, 'pom.xml'),
      'dependency:copy-dependencies',
      `-DoutputDirectory=${libs}`,
      '-DincludeScope=runtime',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  writeFileSync(marker, `${version}\n`);
  return libs;
}
