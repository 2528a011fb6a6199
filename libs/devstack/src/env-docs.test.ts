import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@herald/local-kafka';
import { readmeWithEnvTables } from './env-docs';

describe('README configuration tables', () => {
  it('list every variable of every service with its default (run `make env-docs` after changing a config.ts)', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    assert.equal(readme, readmeWithEnvTables(readme));
  });
});
