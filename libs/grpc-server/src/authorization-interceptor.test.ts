import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@herald/logging';
import { isAllowed } from './authorization';
import { FilePolicySource } from './authorization-interceptor';

describe('FilePolicySource', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'herald-policy-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads bindings on Herald, topics and subscriptions', () => {
    const file = path.join(dir, 'good.json');
    writeFileSync(
      file,
      JSON.stringify({
        herald: [{ role: 'viewer', members: ['jwt:v'] }],
        topics: { orders: [{ role: 'publisher', members: ['jwt:p'] }] },
        subscriptions: { audit: [{ role: 'subscriber', members: ['jwt:s'] }] },
      }),
    );
    const source = new FilePolicySource(file, silentLogger());
    const principal = (id: string) => ({ id, method: 'jwt' as const });
    assert.ok(isAllowed(principal('jwt:v'), 'topics.list', { kind: 'herald' }, source));
    assert.ok(isAllowed(principal('jwt:p'), 'topics.publish', { kind: 'topic', name: 'orders' }, source));
    assert.ok(!isAllowed(principal('jwt:p'), 'topics.publish', { kind: 'topic', name: 'other' }, source));
    assert.ok(isAllowed(principal('jwt:s'), 'subscriptions.consume', { kind: 'subscription', name: 'audit' }, source));
  });

  it('refuses an unknown role, members that are not names, and JSON that does not parse', () => {
    const bad = (name: string, content: string) => {
      const file = path.join(dir, name);
      writeFileSync(file, content);
      return () => new FilePolicySource(file, silentLogger());
    };
    assert.throws(
      bad('role.json', JSON.stringify({ herald: [{ role: 'owner', members: ['x'] }] })),
      /role must be one of/,
    );
    assert.throws(
      bad('members.json', JSON.stringify({ topics: { t: [{ role: 'viewer', members: [''] }] } })),
      /topics\.t\[0\]: members/,
    );
    assert.throws(bad('json.json', '{'), SyntaxError);
  });
});
