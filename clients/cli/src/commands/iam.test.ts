import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { HeraldClientError } from '@herald/client';
import { FakeClients, runCli } from '../testing/fake-cli';

describe('herald iam', () => {
  const policy = { bindings: [{ role: 'viewer', members: ['jwt:bob'] }], etag: 'e1' };

  it('get shows the policy’s bindings and the policy file’s, and the etag', async () => {
    const clients = new FakeClients({
      getIamPolicy: async () => ({ policy, staticBindings: [{ role: 'admin', members: ['mtls:ops'] }] }),
    });
    const result = await runCli(['iam', 'get', 'topics/orders'], clients);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(clients.calls, [['getIamPolicy', 'topics/orders']]);
    assert.match(result.stdout, /viewer +│ jwt:bob +│ policy /);
    assert.match(result.stdout, /admin +│ mtls:ops +│ policy file/);
    assert.match(result.stdout, /etag e1/);
    const json = await runCli(['iam', 'get', 'topics/orders', '--json'], clients);
    assert.deepEqual(json.json(), [
      { resource: 'topics/orders', ...policy, staticBindings: [{ role: 'admin', members: ['mtls:ops'] }] },
    ]);
  });

  it('refuses a bare name before calling anything: topic or subscription?', async () => {
    const clients = new FakeClients();
    const result = await runCli(['iam', 'get', 'orders'], clients);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /herald, topics\/<name> or subscriptions\/<name>/);
    assert.deepEqual(clients.calls, []);
  });

  it('set sends the file’s bindings with --etag, or the file’s etag', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-iam-'));
    try {
      const file = path.join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify({ bindings: policy.bindings, etag: 'from-file' }));
      const clients = new FakeClients({ setIamPolicy: async () => ({ ...policy, etag: 'e2' }) });
      assert.equal((await runCli(['iam', 'set', 'herald', '-f', file], clients)).code, 0);
      const given = await runCli(['iam', 'set', 'herald', '-f', file, '--etag', 'e1'], clients);
      assert.match(given.stdout, /etag e2/);
      assert.deepEqual(clients.calls, [
        ['setIamPolicy', 'herald', { bindings: policy.bindings, etag: 'from-file' }],
        ['setIamPolicy', 'herald', { bindings: policy.bindings, etag: 'e1' }],
      ]);
      writeFileSync(file, JSON.stringify({ bindings: [{ role: 'viewer' }] }));
      const bad = await runCli(['iam', 'set', 'herald', '-f', file], clients);
      assert.equal(bad.code, 2);
      assert.equal(clients.calls.length, 2);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('grant and revoke change the members of one role (the SDK keeps the rest, read-change-write)', async () => {
    const clients = new FakeClients({ grantRole: async () => policy, revokeRole: async () => policy });
    assert.equal((await runCli(['iam', 'grant', 'topics/orders', 'viewer', 'jwt:carol', 'jwt:dan'], clients)).code, 0);
    assert.equal((await runCli(['iam', 'revoke', 'topics/orders', 'viewer', 'jwt:bob'], clients)).code, 0);
    assert.deepEqual(clients.calls, [
      ['grantRole', 'topics/orders', 'viewer', ['jwt:carol', 'jwt:dan']],
      ['revokeRole', 'topics/orders', 'viewer', ['jwt:bob']],
    ]);
  });

  it('test shows which permissions are held; a stale etag exits 10 (ABORTED)', async () => {
    const clients = new FakeClients({
      testIamPermissions: async () => ['topics.publish'],
      setIamPolicy: async () => {
        throw new HeraldClientError(status.ABORTED, 'the policy changed');
      },
    });
    const result = await runCli(['iam', 'test', 'topics/orders', 'topics.publish', 'topics.delete'], clients);
    assert.match(result.stdout, /topics\.publish +│ yes/);
    assert.match(result.stdout, /topics\.delete +│ no/);
    const dir = mkdtempSync(path.join(tmpdir(), 'herald-iam-'));
    try {
      const file = path.join(dir, 'policy.json');
      writeFileSync(file, JSON.stringify({ bindings: [] }));
      const aborted = await runCli(['iam', 'set', 'herald', '-f', file, '--etag', 'old'], clients);
      assert.equal(aborted.code, status.ABORTED);
      assert.match(aborted.stderr, /ABORTED/);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
