import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  DispatcherServiceClient,
  Message,
  PublisherServiceClient,
  StreamingPullRequest,
  SubscriberRegistryServiceClient,
  type WatchResponse,
  unaryCall,
} from '@herald/api';
import { Admin, HeraldClientError } from '@herald/client';
import { HeraldStack } from '@herald/devstack';
import { heraldHome, repoRoot } from '@herald/local-kafka';
import {
  type IssuedCertificate,
  TestCa,
  TestSigningKey,
  securedServiceEnv,
  testKafka,
  uniqueName,
  waitFor,
} from '@herald/testkit';

/** The responses of a Watch stream, read one at a time. */
class WatchReader {
  private readonly queue: WatchResponse[] = [];
  private waiting: ((response: WatchResponse | Error) => void) | undefined;
  private failure: Error | undefined;

  constructor(readonly stream: grpc.ClientReadableStream<WatchResponse>) {
    stream.on('data', (response: WatchResponse) => {
      if (this.waiting) this.waiting(response);
      else this.queue.push(response);
    });
    stream.on('error', (error: Error) => {
      this.failure = error;
      this.waiting?.(error);
    });
  }

  next(): Promise<WatchResponse> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = (response) => {
        this.waiting = undefined;
        if (response instanceof Error) reject(response);
        else resolve(response);
      };
    });
  }

  /** The next whole snapshot: its topics', subscriptions' and policies' names (of this suite's resources). */
  async snapshot(): Promise<{ topics: string[]; subscriptions: string[]; policies: string[] }> {
    const seen = { topics: [] as string[], subscriptions: [] as string[], policies: [] as string[] };
    for (;;) {
      const response = await this.next();
      if (response.kind?.$case !== 'snapshot') continue;
      const part = response.kind.value;
      if (part.reset) for (const list of Object.values(seen)) list.length = 0;
      seen.topics.push(...part.topics.map((t) => t.name).filter((n) => n.startsWith('iam-')));
      seen.subscriptions.push(...part.subscriptions.map((s) => s.name).filter((n) => n.startsWith('iam-')));
      seen.policies.push(...part.policies.map((p) => p.resource).filter((r) => r.includes('/iam-')));
      if (part.last)
        return { topics: seen.topics.sort(), subscriptions: seen.subscriptions.sort(), policies: seen.policies.sort() };
    }
  }
}

/**
 * IAM policies set through the API (SetIamPolicy), against the real services
 * with TLS, client certificates and tokens: etags, enforcement by the
 * publisher and the dispatcher from their Watch, revocation, a registry
 * restart, and lists and Watch filtered per principal.
 */
describe('IAM policies in the registry’s log (real services, Kafka)', function () {
  this.timeout(240_000);
  const prefix = `${uniqueName('iam')}.`;
  const logDir = path.join(heraldHome, 'test', 'logs', prefix);
  let ca: TestCa;
  let server: IssuedCertificate;
  let client: IssuedCertificate;
  let stack: HeraldStack;
  let key: TestSigningKey;
  let admin: Admin;

  const token = (sub: string) => key.sign(sub);
  const as = async (sub: string) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${await token(sub)}`);
    return metadata;
  };
  const tls = () => ({
    ca: readFileSync(ca.caFile),
    cert: readFileSync(client.certFile),
    key: readFileSync(client.keyFile),
  });
  const mtls = () => grpc.credentials.createSsl(tls().ca, tls().key, tls().cert);
  const adminOn = async (endpoints: string[]) => new Admin({ endpoints, tls: tls(), token: await token('root') });
  const codeOf = (call: Promise<unknown>) =>
    call.then(
      () => grpc.status.OK,
      (error: { code: number }) => error.code,
    );
  const registry = (i = 0) => new SubscriberRegistryServiceClient(stack.registries[i]!.address, mtls());

  /** Publishes one message as `sub`; the status it ended with. */
  const publishAs = async (sub: string, topic: string) => {
    const publisher = new PublisherServiceClient(stack.publishers[0]!.address, mtls());
    try {
      return await codeOf(
        unaryCall(
          publisher,
          publisher.publish,
          { topic, messages: [Message.fromPartial({ data: Buffer.from('m') })] },
          await as(sub),
          10_000,
        ),
      );
    } finally {
      publisher.close();
    }
  };
  /** Opens a pull as `sub`: OK once a message arrives, else the status it ended with. */
  const pullAs = async (sub: string, subscription: string) => {
    const dispatcher = new DispatcherServiceClient(stack.dispatchers[0]!.address, mtls());
    const stream = dispatcher.streamingPull(await as(sub));
    try {
      return await new Promise<number>((resolve) => {
        stream.on('data', () => resolve(grpc.status.OK));
        stream.on('error', (error: grpc.ServiceError) => resolve(error.code));
        stream.write(StreamingPullRequest.fromPartial({ subscription, streamAckDeadlineSeconds: 10 }));
      });
    } finally {
      stream.cancel();
      dispatcher.close();
    }
  };
  const grant = (resource: string, role: string, member: string) =>
    admin.updateIamPolicy(resource, (bindings) => [...bindings, { role, members: [member] }]);
  const revoke = (resource: string, member: string) =>
    admin.updateIamPolicy(resource, (bindings) =>
      bindings.map((b) => ({ role: b.role, members: b.members.filter((m) => m !== member) })),
    );
  const aborted = (error: unknown) => {
    assert.ok(error instanceof HeraldClientError, String(error));
    assert.equal(error.code, grpc.status.ABORTED, error.message);
    return true;
  };

  before(async () => {
    ca = new TestCa('Herald IAM test CA');
    server = ca.issue('service', { commonName: 'herald-service', hosts: ['127.0.0.1', 'localhost'] });
    client = ca.issue('operator', { commonName: 'operator', usage: 'client', uri: 'spiffe://herald.test/operator' });
    key = await TestSigningKey.create();
    const jwksFile = key.writeJwks(ca.dir);
    // The static base: the services' own identity (mtls:localhost) and the first admin; everything else is set
    // through the API by the tests.
    const policyFile = path.join(ca.dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        herald: [
          { role: 'admin', members: ['mtls:localhost', 'jwt:root', 'mtls:spiffe://herald.test/operator'] },
          { role: 'viewer', members: ['jwt:auditor'] },
        ],
      }),
    );
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir,
      instances: { 'subscriber-registry': 2 },
      env: {
        HERALD_TOPIC_PREFIX: prefix,
        ...securedServiceEnv({ ca, server, policyFile, jwksFile }),
      },
    });
    admin = await adminOn(stack.registries.map((r) => r.address));
  });

  after(async () => {
    admin?.close();
    await stack?.stop();
    ca?.remove();
  });

  it('versions policies with etags: a stale etag is ABORTED, also for two edits at once through two registries', async () => {
    await admin.createTopic({ name: 'iam-orders', partitions: 1 });
    const empty = await admin.getIamPolicy('topics/iam-orders');
    assert.deepEqual(empty.policy.bindings, []);
    const bob = [{ role: 'viewer', members: ['jwt:bob'] }];
    const set = await admin.setIamPolicy('topics/iam-orders', { bindings: bob, etag: empty.policy.etag });
    assert.deepEqual(set.bindings, bob);
    assert.notEqual(set.etag, empty.policy.etag);
    await assert.rejects(admin.setIamPolicy('topics/iam-orders', { bindings: [], etag: empty.policy.etag }), aborted);
    assert.deepEqual((await admin.getIamPolicy('topics/iam-orders')).policy, set, 'the stale write changed nothing');

    // Two operators read the same version and write at once, each through its own registry: one wins.
    const [one, two] = [await adminOn([stack.registries[0]!.address]), await adminOn([stack.registries[1]!.address])];
    await waitFor(async () => (await two.getIamPolicy('topics/iam-orders')).policy.etag === set.etag, {
      timeoutMillis: 10_000,
      description: 'the second registry at the same version',
    });
    const outcomes = await Promise.allSettled([
      one.setIamPolicy('topics/iam-orders', { bindings: [{ role: 'viewer', members: ['jwt:one'] }], etag: set.etag }),
      two.setIamPolicy('topics/iam-orders', { bindings: [{ role: 'viewer', members: ['jwt:two'] }], etag: set.etag }),
    ]);
    one.close();
    two.close();
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    aborted(lost.reason);
    const won = (outcomes.find((o) => o.status === 'fulfilled') as PromiseFulfilledResult<{ etag: string }>).value;
    assert.equal((await admin.getIamPolicy('topics/iam-orders')).policy.etag, won.etag);

    // The policy file's bindings are shown apart, and cannot be changed here.
    const root = await admin.getIamPolicy('herald');
    assert.ok(root.staticBindings.some((b) => b.role === 'admin' && b.members.includes('jwt:root')));
  });

  it('checks the IAM rpcs’ input, and answers a caller without iam.get the same for a topic that exists or not', async () => {
    const invalid = (error: unknown) => (error as HeraldClientError).code === grpc.status.INVALID_ARGUMENT;
    await assert.rejects(
      admin.setIamPolicy('topics/iam-orders', { bindings: [{ role: 'owner', members: ['jwt:x'] }] }),
      invalid,
    );
    await assert.rejects(
      admin.setIamPolicy('topics/iam-orders', { bindings: [{ role: 'viewer', members: ['x'] }] }),
      invalid,
    );
    await assert.rejects(admin.getIamPolicy('iam-orders'), invalid);
    const notFound = (error: unknown) => (error as HeraldClientError).code === grpc.status.NOT_FOUND;
    await assert.rejects(admin.setIamPolicy('topics/iam-ghost', { bindings: [] }), notFound);
    await assert.rejects(admin.getIamPolicy('subscriptions/iam-ghost'), notFound);
    const client = registry();
    try {
      const details: string[] = [];
      for (const resource of ['topics/iam-orders', 'topics/iam-ghost']) {
        await assert.rejects(
          unaryCall(client, client.getIamPolicy, { resource }, await as('bob'), 10_000),
          (error: grpc.ServiceError) => {
            assert.equal(error.code, grpc.status.PERMISSION_DENIED);
            details.push(error.details.replace(resource.split('/')[1]!, 'X'));
            return true;
          },
        );
      }
      assert.equal(details[0], details[1]);
      // TestIamPermissions answers about the caller, the same whether the topic exists or not.
      const asked = { permissions: ['topics.get', 'topics.publish', 'iam.set'] };
      const auditor = await unaryCall(
        client,
        client.testIamPermissions,
        { resource: 'topics/iam-orders', ...asked },
        await as('auditor'),
        10_000,
      );
      assert.deepEqual(auditor.permissions, ['topics.get']);
      const ghost = await unaryCall(
        client,
        client.testIamPermissions,
        { resource: 'topics/iam-ghost', ...asked },
        await as('auditor'),
        10_000,
      );
      assert.deepEqual(ghost.permissions, ['topics.get']);
      const root = await unaryCall(
        client,
        client.testIamPermissions,
        { resource: 'topics/iam-ghost', ...asked },
        await as('root'),
        10_000,
      );
      assert.deepEqual(root.permissions, asked.permissions);
    } finally {
      client.close();
    }
  });

  it('enforces a policy set through the API on the publisher and the dispatcher without a restart, and a revocation, open streams included', async () => {
    await admin.createTopic({ name: 'iam-live', partitions: 1 });
    await admin.createSubscription({ name: 'iam-live-sub', topic: 'iam-live' });
    assert.equal(await publishAs('carol', 'iam-live'), grpc.status.PERMISSION_DENIED);
    assert.equal(await pullAs('carol', 'iam-live-sub'), grpc.status.PERMISSION_DENIED);

    await grant('topics/iam-live', 'publisher', 'jwt:carol');
    await waitFor(async () => (await publishAs('carol', 'iam-live')) === grpc.status.OK, {
      timeoutMillis: 15_000,
      description: 'the publisher grant in force on the publisher',
    });
    assert.equal(await pullAs('carol', 'iam-live-sub'), grpc.status.PERMISSION_DENIED, 'publisher on a topic only');
    await grant('subscriptions/iam-live-sub', 'subscriber', 'jwt:carol');
    await waitFor(async () => (await pullAs('carol', 'iam-live-sub')) === grpc.status.OK, {
      timeoutMillis: 15_000,
      description: 'the subscriber grant in force on the dispatcher',
    });

    // A stream opened while the grant held: the revocation ends it, not only the next one.
    const dispatcher = new DispatcherServiceClient(stack.dispatchers[0]!.address, mtls());
    const open = dispatcher.streamingPull(await as('carol'));
    const ended = new Promise<grpc.ServiceError>((resolve) => open.on('error', resolve));
    const delivered = new Promise<void>((resolve) => open.once('data', () => resolve()));
    open.on('data', () => undefined);
    open.write(StreamingPullRequest.fromPartial({ subscription: 'iam-live-sub', streamAckDeadlineSeconds: 10 }));
    await publishAs('carol', 'iam-live');
    await delivered;

    await revoke('topics/iam-live', 'jwt:carol');
    await revoke('subscriptions/iam-live-sub', 'jwt:carol');
    const endedWith = await ended;
    dispatcher.close();
    assert.equal(endedWith.code, grpc.status.PERMISSION_DENIED, endedWith.details);
    assert.match(endedWith.details, /lacks subscriptions\.consume on subscription iam-live-sub/);
    await waitFor(async () => (await publishAs('carol', 'iam-live')) === grpc.status.PERMISSION_DENIED, {
      timeoutMillis: 15_000,
      description: 'the revocation in force on the publisher',
    });
    await waitFor(async () => (await pullAs('carol', 'iam-live-sub')) === grpc.status.PERMISSION_DENIED, {
      timeoutMillis: 15_000,
      description: 'the revocation in force on the dispatcher',
    });
  });

  it('keeps policies across registry restarts, and a restarted publisher enforces them from its first Watch', async () => {
    const set = await grant('topics/iam-live', 'publisher', 'jwt:erin');
    for (const registryProcess of stack.registries) {
      await registryProcess.stop();
      await registryProcess.start();
    }
    const restartedAdmin = await adminOn(stack.registries.map((r) => r.address));
    try {
      const after = await restartedAdmin.getIamPolicy('topics/iam-live');
      assert.deepEqual(after.policy, set, 'the same bindings and etag after the replay');
      const metrics = await (await fetch(stack.registries[0]!.metricsUrl)).text();
      const policies = Number(/^herald_registry_iam_policies (\d+)$/m.exec(metrics)?.[1]);
      assert.ok(policies >= 2, `herald_registry_iam_policies ${policies}`);
    } finally {
      restartedAdmin.close();
    }
    await stack.publishers[0]!.stop();
    await stack.publishers[0]!.start();
    assert.equal(await publishAs('erin', 'iam-live'), grpc.status.OK);
    assert.equal(await publishAs('carol', 'iam-live'), grpc.status.PERMISSION_DENIED);
    // Deleting the topic drops its policy: the same name created again grants nothing to erin.
    await admin.deleteTopic('iam-live');
    await admin.createTopic({ name: 'iam-live', partitions: 1 });
    assert.deepEqual((await admin.getIamPolicy('topics/iam-live')).policy.bindings, []);
    await waitFor(async () => (await publishAs('erin', 'iam-live')) === grpc.status.PERMISSION_DENIED, {
      timeoutMillis: 15_000,
      description: 'the dropped policy no longer in force',
    });
  });

  it('lists and watches only what each caller may see; bindings on Herald and the services see everything', async () => {
    await admin.createTopic({ name: 'iam-a', partitions: 1 });
    await admin.createTopic({ name: 'iam-b', partitions: 1 });
    await admin.createSubscription({ name: 'iam-a-sub', topic: 'iam-a' });
    await admin.createSubscription({ name: 'iam-b-sub', topic: 'iam-b' });
    await grant('topics/iam-a', 'viewer', 'jwt:dora');
    await grant('subscriptions/iam-a-sub', 'subscriber', 'jwt:dora');
    const client = registry();
    const listed = async (sub: string) => {
      const metadata = await as(sub);
      const topics = await unaryCall(client, client.listTopics, { pageSize: 1, pageToken: '' }, metadata, 10_000);
      // Page by page: a filtered list pages over what the caller sees.
      const names = topics.topics.map((t) => t.name);
      let pageToken = topics.nextPageToken;
      while (pageToken) {
        const page = await unaryCall(client, client.listTopics, { pageSize: 1, pageToken }, metadata, 10_000);
        names.push(...page.topics.map((t) => t.name));
        pageToken = page.nextPageToken;
      }
      const subscriptions = await unaryCall(
        client,
        client.listSubscriptions,
        { pageSize: 100, pageToken: '', topic: '' },
        metadata,
        10_000,
      );
      return {
        topics: names.filter((n) => n.startsWith('iam-')).sort(),
        subscriptions: subscriptions.subscriptions
          .map((s) => s.name)
          .filter((n) => n.startsWith('iam-'))
          .sort(),
      };
    };
    try {
      assert.deepEqual(await listed('dora'), { topics: ['iam-a'], subscriptions: ['iam-a-sub'] });
      assert.deepEqual(await listed('nobody'), { topics: [], subscriptions: [] });
      const everything = await listed('auditor');
      assert.ok(everything.topics.includes('iam-a') && everything.topics.includes('iam-b'), 'a viewer on Herald');
      assert.ok(everything.subscriptions.includes('iam-b-sub'));

      const dora = new WatchReader(client.watch({ afterRevision: '0' }, await as('dora')));
      assert.deepEqual(await dora.snapshot(), { topics: ['iam-a'], subscriptions: ['iam-a-sub'], policies: [] });
      // A grant while the stream is open: a new snapshot with what dora may see now.
      await grant('topics/iam-b', 'viewer', 'jwt:dora');
      assert.deepEqual(await dora.snapshot(), {
        topics: ['iam-a', 'iam-b'],
        subscriptions: ['iam-a-sub'],
        policies: [],
      });
      // And a revocation.
      await revoke('topics/iam-a', 'jwt:dora');
      assert.deepEqual(await dora.snapshot(), { topics: ['iam-b'], subscriptions: ['iam-a-sub'], policies: [] });
      dora.stream.cancel();

      // The client certificate bound as admin in the policy file, as the services' own identities are: everything.
      const operator = new WatchReader(client.watch({ afterRevision: '0' }, new grpc.Metadata()));
      const all = await operator.snapshot();
      operator.stream.cancel();
      assert.ok(all.topics.includes('iam-a') && all.topics.includes('iam-b'));
      assert.ok(all.policies.includes('topics/iam-b') && all.policies.includes('subscriptions/iam-a-sub'));
    } finally {
      client.close();
    }
  });

  it('refuses to start a publisher whose own identity would get a filtered Watch, naming the fix', async () => {
    const publisher = stack.publishers[0]!;
    const stranger = ca.issue('stranger', { commonName: 'stranger', usage: 'client', uri: 'spiffe://herald.test/x' });
    await assert.rejects(
      publisher.restartWith({ HERALD_TLS_CLIENT_CERT: stranger.certFile, HERALD_TLS_CLIENT_KEY: stranger.keyFile }),
      (error: Error) =>
        /lacks registry\.watch on Herald/.test(error.message) && /HERALD_AUTHZ_POLICY_FILE/.test(error.message),
    );
    await publisher.restartWith({ HERALD_TLS_CLIENT_CERT: server.certFile, HERALD_TLS_CLIENT_KEY: server.keyFile });
    assert.equal(await publishAs('root', 'iam-a'), grpc.status.OK);
  });

  it('grants, shows and tests policies with the CLI', async () => {
    const cli = async (sub: string, args: string[]) => {
      const env = { ...process.env, ...stack.endpointEnv, HERALD_TOKEN: await token(sub) };
      const tlsFlags = ['--tls-ca', ca.caFile, '--tls-cert', client.certFile, '--tls-key', client.keyFile];
      const child = spawn(
        process.execPath,
        [path.join(repoRoot, 'clients', 'cli', 'bin', 'herald.mjs'), ...tlsFlags, ...args],
        {
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      return { code, stdout, stderr };
    };
    await admin.createTopic({ name: 'iam-cli', partitions: 1 });
    const granted = await cli('root', ['iam', 'grant', 'topics/iam-cli', 'publisher', 'jwt:frank']);
    assert.equal(granted.code, 0, granted.stderr);
    const shown = await cli('root', ['--json', 'iam', 'get', 'topics/iam-cli']);
    assert.equal(shown.code, 0, shown.stderr);
    const policy = JSON.parse(shown.stdout) as { bindings: Array<{ role: string; members: string[] }>; etag: string };
    assert.deepEqual(policy.bindings, [{ role: 'publisher', members: ['jwt:frank'] }]);
    const tested = await cli('frank', ['--json', 'iam', 'test', 'topics/iam-cli', 'topics.publish', 'topics.delete']);
    assert.deepEqual((JSON.parse(tested.stdout) as { permissions: string[] }).permissions, ['topics.publish']);
    // frank may not change the policy that names him.
    const refused = await cli('frank', ['iam', 'revoke', 'topics/iam-cli', 'publisher', 'jwt:frank']);
    assert.equal(refused.code, grpc.status.PERMISSION_DENIED, refused.stderr);
  });
});
