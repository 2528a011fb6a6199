import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Subscription, Topic } from '@herald/api';
import { silentLogger } from '@herald/logging';
import { RegistryWatcher } from '@herald/registry-watch';
import { HeraldGateway } from './herald-gateway';
import { createConsoleServer } from './http-server';
import { RegistryIndex } from './registry-index';
import { Sessions, sessionCookie } from './sessions';
import { StatsSampler } from './stats-sampler';

/**
 * The HTTP side without Herald behind it: lists come from the index (fed here as the registry's
 * watch would), and every request tested is answered before any rpc, so the gateway's endpoints
 * are closed ports that are never called.
 */
describe('console HTTP server', () => {
  let server: Server;
  let base: string;
  let gateway: HeraldGateway;

  before(async () => {
    const watcher = new RegistryWatcher({ addresses: ['127.0.0.1:1'], logger: silentLogger() });
    const index = new RegistryIndex(watcher);
    watcher.apply({
      revision: '10',
      kind: {
        $case: 'snapshot',
        value: {
          reset: true,
          last: true,
          policies: [],
          topics: Array.from({ length: 25 }, (_, i) =>
            Topic.fromPartial({ name: `t-${String(i).padStart(2, '0')}`, partitions: 3 }),
          ),
          subscriptions: [Subscription.fromPartial({ name: 's-1', topic: 't-01' })],
        },
      },
    });
    const webDir = mkdtempSync(path.join(tmpdir(), 'console-web-'));
    writeFileSync(path.join(webDir, 'index.html'), '<!doctype html><title>console</title>');
    gateway = new HeraldGateway({ registry: ['127.0.0.1:1'], dispatcher: ['127.0.0.1:1'], publisher: ['127.0.0.1:1'] });
    const sampler = new StatsSampler({ read: async () => [], intervalMillis: 1_000 });
    server = createConsoleServer({ gateway, index, sampler, webDir, log: silentLogger() });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
  });

  const json = async (response: Response) => ({ status: response.status, body: (await response.json()) as any }); // eslint-disable-line @typescript-eslint/no-explicit-any

  it('pages topics on the server with tokens, searched, with subscription counts', async () => {
    const first = await json(await fetch(`${base}/api/topics?pageSize=10&search=t-0`));
    assert.equal(first.status, 200);
    assert.equal(first.body.totalMatching, 10);
    assert.equal(first.body.topics.length, 10);
    assert.equal(first.body.topics[1].subscriptions, 1);
    assert.equal(first.body.nextPageToken, '');
    const all: string[] = [];
    let token = '';
    do {
      const page = await json(await fetch(`${base}/api/topics?pageSize=7&pageToken=${token}`));
      all.push(...page.body.topics.map((t: { name: string }) => t.name));
      token = page.body.nextPageToken;
    } while (token);
    assert.equal(all.length, 25);
    assert.equal(new Set(all).size, 25);
  });

  it('answers a bad list request 400 naming the parameter', async () => {
    const tooBig = await json(await fetch(`${base}/api/topics?pageSize=100000`));
    assert.equal(tooBig.status, 400);
    assert.deepEqual(tooBig.body.error.code, 'INVALID_REQUEST');
    assert.match(tooBig.body.error.message, /^pageSize: /);
    const foreign = await json(await fetch(`${base}/api/subscriptions?topic=t-01&pageToken=abc`));
    assert.equal(foreign.status, 400);
    assert.match(foreign.body.error.message, /^pageToken: /);
  });

  it('refuses actions that are not JSON, or come from another site, before calling Herald', async () => {
    const form = await json(await fetch(`${base}/api/topics`, { method: 'POST', body: 'name=x' }));
    assert.equal(form.status, 400);
    assert.match(form.body.error.message, /content-type/);
    const crossSite = await json(
      await fetch(`${base}/api/topics/t-01`, { method: 'DELETE', headers: { origin: 'https://elsewhere.example' } }),
    );
    assert.equal(crossSite.status, 403);
    const noName = await json(
      await fetch(`${base}/api/topics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"partitions": 3}',
      }),
    );
    assert.equal(noName.status, 400);
    assert.equal(noName.body.error.message, 'name: is required');
    const notJson = await json(
      await fetch(`${base}/api/subscriptions/s-1/seek`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{to: earliest}',
      }),
    );
    assert.equal(notJson.status, 400);
    const badSeek = await json(
      await fetch(`${base}/api/subscriptions/s-1/seek`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"to": "yesterday"}',
      }),
    );
    assert.equal(badSeek.status, 400);
    assert.match(badSeek.body.error.message, /^to: /);
  });

  it('says which routes exist and which methods they take', async () => {
    assert.equal((await fetch(`${base}/api/nothing`)).status, 404);
    assert.equal((await fetch(`${base}/api/topics`, { method: 'PUT' })).status, 405);
  });

  it('with sign-in on, answers nothing but the probes and the sign-in without a session', async () => {
    const sessions = new Sessions(
      { registry: ['127.0.0.1:1'], dispatcher: ['127.0.0.1:1'], publisher: ['127.0.0.1:1'] },
      { tls: {} },
    );
    const watcher = new RegistryWatcher({ addresses: ['127.0.0.1:1'], logger: silentLogger() });
    const index = new RegistryIndex(watcher);
    watcher.apply({
      revision: '1',
      kind: { $case: 'snapshot', value: { reset: true, last: true, topics: [], subscriptions: [], policies: [] } },
    });
    const guarded = createConsoleServer({
      gateway,
      sessions,
      index,
      sampler: new StatsSampler({ read: async () => [], intervalMillis: 1_000 }),
      webDir: tmpdir(),
      log: silentLogger(),
    });
    await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(guarded.address() as AddressInfo).port}`;
    try {
      const anonymous = await json(await fetch(`${at}/api/topics`));
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, 'UNAUTHENTICATED');
      assert.equal(
        (await json(await fetch(`${at}/api/topics`, { headers: { cookie: `${sessionCookie}=forged` } }))).status,
        401,
      );
      assert.deepEqual((await json(await fetch(`${at}/api/session`))).body, { signIn: true, signedIn: false });
      assert.equal((await fetch(`${at}/healthz`)).status, 200);
      assert.equal((await fetch(`${at}/livez`)).status, 200);
      assert.equal((await fetch(`${at}/api/status`)).status, 401);
      const empty = await json(
        await fetch(`${at}/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }),
      );
      assert.equal(empty.status, 400);
      const cookie = `${sessionCookie}=${sessions.create('a-token')}`;
      // Signed in, the request passes on to the registry with the operator's token (which is not there:
      // the answer waits on it), where a signed-out one is refused at once.
      const signedIn = await fetch(`${at}/api/topics`, {
        headers: { cookie },
        signal: AbortSignal.timeout(1_000),
      }).then(
        (response) => response.status,
        () => 'waiting on the registry',
      );
      assert.equal(signedIn, 'waiting on the registry');
      assert.deepEqual((await json(await fetch(`${at}/api/session`, { headers: { cookie } }))).body, {
        signIn: true,
        signedIn: true,
      });
    } finally {
      guarded.closeAllConnections();
      await new Promise((resolve) => guarded.close(resolve));
      await sessions.close();
    }
  });

  it('serves the page with a policy that keeps it off the internet, and nothing outside its folder', async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await page.text(), /<title>console<\/title>/);
    const escape = await fetch(`${base}/..%2F..%2F..%2Fetc%2Fpasswd`);
    assert.doesNotMatch(await escape.text(), /root:/);
    // A malformed escape names nothing; the server answers the page and stays up.
    assert.equal((await fetch(`${base}/%E0%A4%A`)).status, 200);
    assert.equal((await fetch(`${base}/api/topics?pageSize=5`)).status, 200);
  });
});
