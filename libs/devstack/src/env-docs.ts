#!/usr/bin/env node
/**
 * The README's configuration tables, made from the services' own schemas so
 * they cannot drift: `make env-docs` rewrites the README between its markers,
 * and a unit test fails when the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@herald/local-kafka';
import type { ServiceName } from './service-process';

interface EnvDoc {
  name: string;
  default: string;
  description: string;
}

const schemas: Record<ServiceName, [string, string]> = {
  publisher: ['publisherEnv', 'publisher'],
  'subscriber-registry': ['registryEnv', 'subscriber-registry'],
  dispatcher: ['dispatcherEnv', 'dispatcher'],
};

export const envDocsStart = '<!-- env-docs:start (make env-docs writes this part) -->';
export const envDocsEnd = '<!-- env-docs:end -->';

/** One Markdown table per service, every variable with its default. */
export function envTables(): string {
  // Loaded by path: devstack must not depend on the services at build time.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { describeEnv, commonEnv } = require(path.join(repoRoot, 'libs', 'config')) as {
    describeEnv: (schema: object) => EnvDoc[];
    commonEnv: object;
  };
  const common = describeEnv(commonEnv);
  const parts = [table('Every service', common)];
  for (const [service, [exportName, folder]] of Object.entries(schemas)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const module = require(path.join(repoRoot, 'services', folder, 'dist', 'src', 'config.js')) as Record<
      string,
      object
    >;
    const own = describeEnv(module[exportName]!).filter((doc) => !common.some((c) => c.name === doc.name));
    parts.push(table(service, own));
  }
  return parts.join('\n');
}

function table(title: string, docs: EnvDoc[]): string {
  const rows = docs.map(
    (doc) => `| \`${doc.name}\` | \`${doc.default === '' ? '(empty)' : doc.default}\` | ${doc.description} |`,
  );
  return `#### ${title}\n\n| variable | default | meaning |\n| --- | --- | --- |\n${rows.join('\n')}\n`;
}

/** The README with its configuration section replaced by fresh tables. */
export function readmeWithEnvTables(readme: string): string {
  const start = readme.indexOf(envDocsStart);
  const end = readme.indexOf(envDocsEnd);
  if (start < 0 || end < start) throw new Error(`README.md lacks the markers ${envDocsStart} ... ${envDocsEnd}`);
  return `${readme.slice(0, start + envDocsStart.length)}\n\n${envTables()}\n${readme.slice(end)}`;
}

if (require.main === module) {
  const file = path.join(repoRoot, 'README.md');
  writeFileSync(file, readmeWithEnvTables(readFileSync(file, 'utf8')));
  console.log('README.md configuration tables rewritten');
}
