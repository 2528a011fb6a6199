import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@herald/local-kafka';

const rules = readFileSync(path.join(repoRoot, 'deploy', 'observability', 'herald-alerts.yaml'), 'utf8');
const readme = readFileSync(path.join(repoRoot, 'deploy', 'README.md'), 'utf8');

/** Each alerting rule's text, from its `- alert:` line to the next rule or group. */
function alertBlocks(): Array<{ name: string; text: string }> {
  const blocks: Array<{ name: string; text: string }> = [];
  for (const part of rules.split(/\n(?=\s*- (?:alert|record|name):)/)) {
    const name = /^\s*- alert:\s*(\S+)/.exec(part);
    if (name) blocks.push({ name: name[1]!, text: part });
  }
  return blocks;
}

// Whoever is paged follows the alert's runbook_url: it must lead to a section that exists.
describe('The alerts and their runbook (deploy/README.md)', () => {
  const blocks = alertBlocks();
  const headings = new Set([...readme.matchAll(/^### (\S+)\s*$/gm)].map((m) => m[1]!));

  it('reads the alerts', () => {
    assert.ok(blocks.length >= 10, `only ${blocks.length} alerts read`);
  });

  for (const { name, text } of blocks) {
    const severity = /\n\s+severity: (\S+)/.exec(text)?.[1] ?? 'no severity';
    it(`${name} (${severity}) has a for:, a severity, and a runbook_url to its own section`, () => {
      assert.match(text, /\n\s+for: \d+[smh]\n/, 'no for:');
      assert.match(text, /\n\s+severity: (warning|critical)\n/, 'no severity (warning or critical)');
      const url = /\n\s+runbook_url: deploy\/README\.md#(\S+)\s*$/m.exec(text);
      assert.ok(url, 'no runbook_url to deploy/README.md');
      assert.equal(url[1], name.toLowerCase(), 'the anchor GitHub makes of the heading is the lowercased name');
      assert.ok(headings.has(name), `deploy/README.md has no "### ${name}" section`);
    });
  }

  it('every runbook section is of an alert that exists', () => {
    const alerts = new Set(blocks.map((b) => b.name));
    const stale = [...headings].filter((h) => h.startsWith('Herald') && !alerts.has(h));
    assert.deepEqual(stale, []);
  });
});
