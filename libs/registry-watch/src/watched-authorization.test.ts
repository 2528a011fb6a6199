import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '@herald/logging';
import { RegistryWatcher } from './registry-watcher';
import { watchedAuthorization } from './watched-authorization';

describe('watchedAuthorization', () => {
  let dir: string;
  let watcher: RegistryWatcher;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'herald-watched-authz-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  // Never started: these checks need the wiring, not a registry.
  beforeEach(() => (watcher = new RegistryWatcher({ addresses: ['127.0.0.1:1'], logger: silentLogger() })));
  afterEach(() => watcher.stop());

  it('leaves authorisation off without a policy file', () => {
    assert.equal(watchedAuthorization(watcher, undefined, silentLogger()).policies, undefined);
  });

  it('checks calls against the policy file and tells of the policy changes the Watch delivers', () => {
    const file = path.join(dir, 'policy.json');
    writeFileSync(file, JSON.stringify({ herald: [{ role: 'admin', members: ['jwt:root'] }] }));
    const { policies } = watchedAuthorization(watcher, file, silentLogger());
    assert.deepEqual(policies?.policy({ kind: 'herald' })?.bindings, [{ role: 'admin', members: ['jwt:root'] }]);
    let changes = 0;
    policies?.onChange?.(() => (changes += 1));
    watcher.emit('change', { kind: 'topic-deleted', name: 'orders' });
    assert.equal(changes, 0);
    watcher.emit('change', { kind: 'policy-changed', resource: 'herald', policy: undefined });
    assert.equal(changes, 1);
  });
});
