import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import {
  DispatcherServiceClient,
  Message,
  PeekDeadLettersRequest,
  PublisherServiceClient,
  RedriveDeadLettersRequest,
  SeekRequest,
  StreamingPullRequest,
  SubscriberRegistryServiceClient,
  Subscription,
  TailRequest,
  Topic,
  unaryCall,
} from '@herald/api';
import { Admin, HeraldClientError, Publisher, type ReceivedMessage, Subscriber } from '@herald/client';
import { HeraldStack, checkHealth } from '@herald/devstack';
import { heraldHome, repoRoot } from '@herald/local-kafka';
import {
  type IssuedCertificate,
  TestCa,
  TestSigningKey,
  securedServiceEnv,
  testKafka,
  testTokenAudience,
  testTokenIssuer,
  uniqueName,
  waitFor,
} from '@herald/testkit';
import { UnsecuredJWT } from 'jose';

/**
 * The three services as processes with everything on: TLS with client
 * certificates required, bearer tokens from a JWKS file, client-certificate
 * identities, and their own calls to each other over mTLS.
 */
describe('secure services: TLS, mTLS and authentication (real services, Kafka)', function () {
  this.timeout(240_000);
  const prefix = `${uniqueName('sec')}.`;
  const logDir = path.join(heraldHome, 'test', 'logs', prefix);
  let ca: TestCa;
  let rogue: TestCa;
  let server: IssuedCertificate;
  let alice: IssuedCertificate;
  let stack: HeraldStack;
  let key: TestSigningKey;
  let forger: TestSigningKey;
  /** Every token a test sent: none may appear in a log line. */
  const sentTokens: string[] = [];
  const payload = `payload-${randomBytes(8).toString('hex')}`;
  let policyFile: string;
  /** The role bindings in force: the services (mtls:localhost) and the tests' users are admins. */
  const policy = {
    herald: [
      {
        role: 'admin',
        members: [
          'mtls:localhost',
          'mtls:spiffe://herald.test/alice',
          'jwt:alice',
          'jwt:sdk-user',
          'jwt:cli-user',
          'jwt:polyglot',
        ],
      },
      { role: 'viewer', members: ['jwt:reader', 'jwt:m-viewer'] },
      { role: 'editor', members: ['jwt:m-editor'] },
    ],
    topics: {
      secure: [{ role: 'publisher', members: ['jwt:pub'] }],
      matrix: [{ role: 'publisher', members: ['jwt:m-publisher'] }],
    },
    subscriptions: { 'matrix-sub': [{ role: 'subscriber', members: ['jwt:m-subscriber'] }] } as Record<string, unknown>,
  };

  const token = async (
    claims: Record<string, unknown> = {},
    options: { by?: TestSigningKey; exp?: string; iss?: string; aud?: string } = {},
  ) => {
    const jwt = await (options.by ?? key).sign('alice', claims, {
      issuer: options.iss,
      audience: options.aud,
      expiresAt: options.exp,
    });
    sentTokens.push(jwt);
    return jwt;
  };
  const tls = () => ({
    ca: readFileSync(ca.caFile),
    cert: readFileSync(alice.certFile),
    key: readFileSync(alice.keyFile),
  });
  const registryAddress = () => stack.registries[0]!.address;
  /** A raw registry client on `creds`: ListTopics, with `authorization` when given. */
  const listTopics = async (creds: grpc.ChannelCredentials, authorization?: string) => {
    const client = new SubscriberRegistryServiceClient(registryAddress(), creds);
    try {
      const metadata = new grpc.Metadata();
      if (authorization !== undefined) metadata.set('authorization', authorization);
      return await unaryCall(client, client.listTopics, { pageSize: 10, pageToken: '' }, metadata, 5_000);
    } finally {
      client.close();
    }
  };
  const mtls = () => grpc.credentials.createSsl(tls().ca, tls().key, tls().cert);
  const refusedWith = (code: grpc.status) => (error: grpc.ServiceError) => {
    assert.equal(error.code, code, `${error.code}: ${error.details}`);
    return true;
  };

  before(async () => {
    ca = new TestCa('Herald secure-stack test CA');
    rogue = new TestCa('Someone else');
    server = ca.issue('service', { commonName: 'herald-service', hosts: ['127.0.0.1', 'localhost'] });
    alice = ca.issue('alice', { commonName: 'alice', usage: 'client', uri: 'spiffe://herald.test/alice' });
    key = await TestSigningKey.create();
    forger = await TestSigningKey.create();
    const jwksFile = key.writeJwks(ca.dir);
    policyFile = path.join(ca.dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify(policy));
    stack = await HeraldStack.start({
      kafkaBrokers: testKafka().brokers,
      logDir,
      env: {
        HERALD_TOPIC_PREFIX: prefix,
        LOG_LEVEL: 'debug',
        ...securedServiceEnv({ ca, server, policyFile, jwksFile }),
        HERALD_TLS_RELOAD_INTERVAL_MS: '300',
        DISPATCHER_COMMIT_INTERVAL_MS: '200',
      },
    });
  });

  after(async () => {
    await stack?.stop();
    ca?.remove();
    rogue?.remove();
  });

  it('refuses a plaintext client', async () => {
    await assert.rejects(listTopics(grpc.credentials.createInsecure()), refusedWith(grpc.status.UNAVAILABLE));
  });

  it('refuses a TLS client without a client certificate, or with one from another CA', async () => {
    await assert.rejects(
      listTopics(grpc.credentials.createSsl(readFileSync(ca.caFile))),
      refusedWith(grpc.status.UNAVAILABLE),
    );
    const stranger = rogue.issue('stranger', { commonName: 'stranger', usage: 'client' });
    await assert.rejects(
      listTopics(
        grpc.credentials.createSsl(
          readFileSync(ca.caFile),
          readFileSync(stranger.keyFile),
          readFileSync(stranger.certFile),
        ),
      ),
      refusedWith(grpc.status.UNAVAILABLE),
    );
  });

  it('refuses a client that does not trust the services’ CA', async () => {
    await assert.rejects(
      listTopics(
        grpc.credentials.createSsl(
          readFileSync(rogue.caFile),
          readFileSync(alice.keyFile),
          readFileSync(alice.certFile),
        ),
      ),
      refusedWith(grpc.status.UNAVAILABLE),
    );
  });

  it('accepts the client certificate as identity, and a valid token', async () => {
    await listTopics(mtls());
    await listTopics(mtls(), `Bearer ${await token()}`);
  });

  it('refuses forged, expired, wrong-audience, wrong-issuer, alg none and garbage tokens with UNAUTHENTICATED', async () => {
    const none = new UnsecuredJWT({ sub: 'alice' })
      .setIssuer(testTokenIssuer)
      .setAudience(testTokenAudience)
      .setExpirationTime('5m');
    sentTokens.push(none.encode());
    const bad = [
      await token({}, { by: forger }),
      await token({}, { exp: '-2m' }),
      await token({}, { aud: 'another-service' }),
      await token({}, { iss: 'https://evil.test' }),
      none.encode(),
      'garbage',
    ];
    for (const jwt of bad) {
      await assert.rejects(listTopics(mtls(), `Bearer ${jwt}`), (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.UNAUTHENTICATED, error.details);
        assert.ok(!error.details.includes(jwt), 'the error repeats the token');
        return true;
      });
    }
  });

  it('answers UNAUTHENTICATED to 300 mangled tokens on every service, and stays up', async () => {
    const valid = await token();
    const mangled = Array.from({ length: 300 }, (_, i) => {
      if (i % 3 === 2) return randomBytes(1 + (i % 300)).toString(i % 2 ? 'base64url' : 'latin1');
      const chars = [...valid];
      const at = Math.floor(Math.random() * (chars.length - 4));
      if (i % 3 === 0) chars[at] = chars[at] === 'A' ? 'B' : 'A';
      else chars.splice(at, 1 + (i % 9));
      return chars.join('');
    }).filter((text) => text !== valid && /^[\x21-\x7e]*$/.test(text));
    sentTokens.push(...mangled.filter((text) => text.length >= 16));
    const publisher = new PublisherServiceClient(stack.publishers[0]!.address, mtls());
    const registry = new SubscriberRegistryServiceClient(registryAddress(), mtls());
    const calls = mangled.flatMap((text) => {
      const metadata = () => {
        const m = new grpc.Metadata();
        m.set('authorization', `Bearer ${text}`);
        return m;
      };
      return [
        unaryCall(registry, registry.listTopics, { pageSize: 10, pageToken: '' }, metadata(), 10_000),
        unaryCall(
          publisher,
          publisher.publish,
          { topic: 'nope', messages: [Message.fromPartial({ data: Buffer.from(payload) })] },
          metadata(),
          10_000,
        ),
      ];
    });
    const outcomes = await Promise.allSettled(calls);
    publisher.close();
    registry.close();
    const codes = new Map<string, number>();
    for (const outcome of outcomes) {
      const code = outcome.status === 'fulfilled' ? 'OK' : String((outcome.reason as grpc.ServiceError).code);
      codes.set(code, (codes.get(code) ?? 0) + 1);
    }
    // base64url's spare bits: a change in a signature's last character may decode to the same signature.
    codes.delete('OK');
    assert.deepEqual([...codes.keys()], [String(grpc.status.UNAUTHENTICATED)], JSON.stringify([...codes]));
    for (const service of stack.all) assert.ok(service.running, `${service.name} exited`);
    await listTopics(mtls(), `Bearer ${valid}`);
  });

  it('carries a message end to end through the SDK with TLS, a client certificate and a token', async () => {
    const jwt = await token({ sub: 'sdk-user' });
    const endpoints = (kind: 'registries' | 'publishers' | 'dispatchers') => stack[kind].map((p) => p.address);
    const admin = new Admin({ endpoints: endpoints('registries'), tls: tls(), token: jwt });
    await admin.createTopic({ name: 'secure', partitions: 2 });
    await admin.createSubscription({ name: 'secure-sub', topic: 'secure' });
    const publisher = new Publisher({ endpoints: endpoints('publishers'), tls: tls(), token: () => jwt });
    await publisher.publish('secure', { data: payload });
    await publisher.close();
    const subscriber = new Subscriber({
      endpoints: endpoints('dispatchers'),
      subscription: 'secure-sub',
      tls: tls(),
      token: jwt,
    });
    let received: ReceivedMessage | undefined;
    for await (const message of subscriber) {
      received = message;
      message.ack();
      break;
    }
    assert.equal(received?.data.toString(), payload);
    const anonymous = new Admin({
      endpoints: endpoints('registries'),
      tls: { ca: tls().ca },
      retry: { totalTimeoutMillis: 1_000 },
    });
    await assert.rejects(anonymous.getTopic('secure'), (error: unknown) => error instanceof HeraldClientError);
    anonymous.close();
    admin.close();
  });

  it('lets the CLI in with --tls-ca, --tls-cert, --tls-key and HERALD_TOKEN', async () => {
    const jwt = await token({ sub: 'cli-user' });
    const run = (args: string[], env: Record<string, string>) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(repoRoot, 'clients', 'cli', 'bin', 'herald.mjs'), ...args], {
          env: { ...process.env, ...stack.endpointEnv, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
    const flags = ['--tls-ca', ca.caFile, '--tls-cert', alice.certFile, '--tls-key', alice.keyFile];
    const ok = await run([...flags, 'topics', 'list', '--json'], { HERALD_TOKEN: jwt });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /"secure"/);
    const refused = await run([...flags, '--retry-timeout', '1s', 'topics', 'list'], { HERALD_TOKEN: 'not-a-token' });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /UNAUTHENTICATED|not a well-formed/i);
    assert.ok(!refused.stderr.includes(jwt));
  });

  it('checks every call against the role bindings: PERMISSION_DENIED, the same for a topic that exists or not', async () => {
    const as = async (sub: string) => {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${await token({ sub })}`);
      return metadata;
    };
    const registry = new SubscriberRegistryServiceClient(registryAddress(), mtls());
    const publisher = new PublisherServiceClient(stack.publishers[0]!.address, mtls());
    const publish = async (sub: string, topic: string) =>
      unaryCall(
        publisher,
        publisher.publish,
        { topic, messages: [Message.fromPartial({ data: Buffer.from(payload) })] },
        await as(sub),
        10_000,
      );
    const denied = (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.PERMISSION_DENIED, error.details);
      return true;
    };
    try {
      await unaryCall(
        registry,
        registry.createTopic,
        { topic: Topic.fromPartial({ name: 'other' }) },
        await as('alice'),
        10_000,
      );
      // A viewer reads, and does nothing else.
      await unaryCall(registry, registry.listTopics, { pageSize: 10, pageToken: '' }, await as('reader'), 10_000);
      await unaryCall(registry, registry.getTopic, { name: 'secure' }, await as('reader'), 10_000);
      await assert.rejects(publish('reader', 'secure'), denied);
      await assert.rejects(
        unaryCall(
          registry,
          registry.createTopic,
          { topic: Topic.fromPartial({ name: 'mine' }) },
          await as('reader'),
          10_000,
        ),
        denied,
      );
      // A publisher on one topic publishes there only; the refusal reads the same for a topic that exists and one that does not.
      await publish('pub', 'secure');
      let existing = '';
      let missing = '';
      await assert.rejects(
        publish('pub', 'other'),
        (error: grpc.ServiceError) => denied(error) && Boolean((existing = error.details)),
      );
      await assert.rejects(
        publish('pub', 'ghost'),
        (error: grpc.ServiceError) => denied(error) && Boolean((missing = error.details)),
      );
      assert.equal(existing.replace('other', 'X'), missing.replace('ghost', 'X'));
      // Nobody bound: nothing at all, pulls included.
      await assert.rejects(
        unaryCall(registry, registry.getTopic, { name: 'secure' }, await as('mallory'), 10_000),
        denied,
      );
      const dispatcher = new DispatcherServiceClient(stack.dispatchers[0]!.address, mtls());
      const pull = dispatcher.streamingPull(await as('mallory'));
      const pullError = new Promise<grpc.ServiceError>((resolve) => pull.on('error', resolve));
      pull.on('data', () => assert.fail('a message reached a caller without subscriptions.consume'));
      pull.write(StreamingPullRequest.fromPartial({ subscription: 'secure-sub', streamAckDeadlineSeconds: 10 }));
      denied(await pullError);
      dispatcher.close();
      // A change of the file is in force within seconds, without a restart.
      writeFileSync(
        policyFile,
        JSON.stringify({ ...policy, herald: [...policy.herald, { role: 'viewer', members: ['jwt:mallory'] }] }),
      );
      await waitFor(
        async () =>
          unaryCall(registry, registry.getTopic, { name: 'secure' }, await as('mallory'), 10_000).then(
            () => true,
            () => false,
          ),
        { timeoutMillis: 15_000, description: 'the new binding in force' },
      );
    } finally {
      registry.close();
      publisher.close();
    }
  });

  it('allows and denies exactly what each role grants: principals × every rpc, against the services', async function () {
    this.timeout(120_000);
    const admin = new Admin({ endpoints: [registryAddress()], tls: tls(), token: await token() });
    await admin.createTopic({ name: 'matrix', partitions: 1 });
    await admin.createSubscription({ name: 'matrix-sub', topic: 'matrix' });
    admin.close();
    const registry = new SubscriberRegistryServiceClient(registryAddress(), mtls());
    const publisher = new PublisherServiceClient(stack.publishers[0]!.address, mtls());
    const dispatcher = new DispatcherServiceClient(stack.dispatchers[0]!.address, mtls());
    const message = Message.fromPartial({ data: Buffer.from(payload) });
    let fresh = 0;
    /** The status a unary call ended with (OK when it succeeded). */
    const unary = <R>(call: Promise<R>) =>
      call.then(
        () => grpc.status.OK,
        (error: grpc.ServiceError) => error.code,
      );
    /** A stream's first verdict: its error's code, or OK once it answers or stays open a while. */
    const streamed = (stream: grpc.ClientReadableStream<unknown> | grpc.ClientDuplexStream<unknown, unknown>) =>
      new Promise<number>((resolve) => {
        const timer = setTimeout(() => {
          stream.cancel();
          resolve(grpc.status.OK);
        }, 1_500);
        stream.on('data', () => {
          clearTimeout(timer);
          stream.cancel();
          resolve(grpc.status.OK);
        });
        stream.on('error', (error: grpc.ServiceError) => {
          clearTimeout(timer);
          resolve(error.code === grpc.status.CANCELLED ? grpc.status.OK : error.code);
        });
      });
    // Destructive calls name resources that do not exist: allowed, they answer NOT_FOUND; denied, PERMISSION_DENIED.
    const rpcs: Record<string, (m: grpc.Metadata) => Promise<number>> = {
      Publish: (m) =>
        unary(unaryCall(publisher, publisher.publish, { topic: 'matrix', messages: [message] }, m, 10_000)),
      PublishStream: (m) => {
        const stream = publisher.publishStream(m);
        stream.write({ requestId: '1', topic: 'matrix', messages: [message] });
        return streamed(stream);
      },
      CreateTopic: (m) =>
        unary(
          unaryCall(
            registry,
            registry.createTopic,
            { topic: Topic.fromPartial({ name: `matrix-new-${++fresh}` }) },
            m,
            10_000,
          ),
        ),
      GetTopic: (m) => unary(unaryCall(registry, registry.getTopic, { name: 'matrix' }, m, 10_000)),
      ListTopics: (m) => unary(unaryCall(registry, registry.listTopics, { pageSize: 1, pageToken: '' }, m, 10_000)),
      DeleteTopic: (m) => unary(unaryCall(registry, registry.deleteTopic, { name: 'matrix-ghost' }, m, 10_000)),
      CreateSubscription: (m) =>
        unary(
          unaryCall(
            registry,
            registry.createSubscription,
            { subscription: Subscription.fromPartial({ name: `matrix-sub-new-${++fresh}`, topic: 'matrix' }) },
            m,
            10_000,
          ),
        ),
      GetSubscription: (m) => unary(unaryCall(registry, registry.getSubscription, { name: 'matrix-sub' }, m, 10_000)),
      ListSubscriptions: (m) =>
        unary(unaryCall(registry, registry.listSubscriptions, { pageSize: 1, pageToken: '', topic: '' }, m, 10_000)),
      UpdateSubscription: (m) =>
        unary(
          unaryCall(
            registry,
            registry.updateSubscription,
            {
              subscription: Subscription.fromPartial({ name: 'matrix-sub-ghost', ackDeadlineSeconds: 20 }),
              updateMask: ['ack_deadline_seconds'],
            },
            m,
            10_000,
          ),
        ),
      DeleteSubscription: (m) =>
        unary(unaryCall(registry, registry.deleteSubscription, { name: 'matrix-sub-ghost' }, m, 10_000)),
      Seek: (m) =>
        unary(
          unaryCall(
            registry,
            registry.seek,
            SeekRequest.fromPartial({ subscription: 'matrix-sub-ghost', target: { $case: 'time', value: new Date() } }),
            m,
            10_000,
          ),
        ),
      Watch: (m) => streamed(registry.watch({ afterRevision: '' }, m)),
      SetIamPolicy: (m) =>
        unary(
          unaryCall(
            registry,
            registry.setIamPolicy,
            { resource: 'subscriptions/matrix-sub-ghost', policy: { bindings: [], etag: '' } },
            m,
            10_000,
          ),
        ),
      GetIamPolicy: (m) => unary(unaryCall(registry, registry.getIamPolicy, { resource: 'topics/matrix' }, m, 10_000)),
      TestIamPermissions: (m) =>
        unary(
          unaryCall(
            registry,
            registry.testIamPermissions,
            { resource: 'topics/matrix', permissions: ['topics.publish'] },
            m,
            10_000,
          ),
        ),
      StreamingPull: (m) => {
        const stream = dispatcher.streamingPull(m);
        stream.write(StreamingPullRequest.fromPartial({ subscription: 'matrix-sub', streamAckDeadlineSeconds: 10 }));
        return streamed(stream);
      },
      Tail: (m) => streamed(dispatcher.tail(TailRequest.fromPartial({ topic: 'matrix' }), m)),
      GetSubscriptionStats: (m) =>
        unary(unaryCall(dispatcher, dispatcher.getSubscriptionStats, { subscriptions: ['matrix-sub'] }, m, 10_000)),
      PeekDeadLetters: (m) =>
        unary(
          unaryCall(
            dispatcher,
            dispatcher.peekDeadLetters,
            PeekDeadLettersRequest.fromPartial({ selection: { subscription: 'matrix-sub-ghost' }, maxMessages: 1 }),
            m,
            10_000,
          ),
        ),
      RedriveDeadLetters: (m) =>
        streamed(
          dispatcher.redriveDeadLetters(
            RedriveDeadLettersRequest.fromPartial({ selection: { subscription: 'matrix-sub-ghost' } }),
            m,
          ),
        ),
    };
    // Lists, Watch and TestIamPermissions are open to every authenticated caller: they show or answer only what
    // the caller may see (iam-policies.test.ts checks what each one shows).
    const open = ['ListTopics', 'ListSubscriptions', 'Watch', 'TestIamPermissions'];
    const readOnly = [...open, 'GetTopic', 'GetSubscription', 'GetSubscriptionStats'];
    const allowedBy: Record<string, string[]> = {
      'm-viewer': readOnly,
      'm-publisher': [...open, 'Publish', 'PublishStream', 'GetTopic'],
      'm-subscriber': [...open, 'GetSubscription', 'StreamingPull'],
      'm-editor': Object.keys(rpcs).filter((rpc) => rpc !== 'SetIamPolicy' && rpc !== 'GetIamPolicy'),
      alice: Object.keys(rpcs),
      'm-nobody': open,
    };
    const wrong: string[] = [];
    for (const [principal, allowed] of Object.entries(allowedBy)) {
      const metadata = new grpc.Metadata();
      metadata.set('authorization', `Bearer ${await token({ sub: principal })}`);
      for (const [rpc, call] of Object.entries(rpcs)) {
        const code = await call(metadata.clone());
        const deniedNow = code === grpc.status.PERMISSION_DENIED;
        if (code === grpc.status.UNAUTHENTICATED || deniedNow === allowed.includes(rpc)) {
          wrong.push(
            `${principal} ${rpc}: ${grpc.status[code]} (expected ${allowed.includes(rpc) ? 'allowed' : 'PERMISSION_DENIED'})`,
          );
        }
      }
    }
    registry.close();
    publisher.close();
    dispatcher.close();
    assert.deepEqual(wrong, []);
  });

  /** Runs a command to its end; resolves with its exit status and everything it printed. */
  const runClient = (command: string, args: string[], cwd: string, env: Record<string, string>) =>
    new Promise<{ status: number | null; output: string }>((resolve, reject) => {
      const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, output });
      });
    });
  const clientEnv = async () => ({
    ...stack.endpointEnv,
    HERALD_TLS_CA: ca.caFile,
    HERALD_TLS_CLIENT_CERT: alice.certFile,
    HERALD_TLS_CLIENT_KEY: alice.keyFile,
    HERALD_TOKEN: await token({ sub: 'polyglot' }),
  });

  it('serves the Python client over TLS with a client certificate and a token', async () => {
    const python = path.join(repoRoot, '.herald', 'venv', 'bin', 'python');
    assert.ok(
      existsSync(python) && existsSync(path.join(repoRoot, 'clients', 'python', 'gen', '.generated')),
      'no Python venv or stubs: run `make python-client`',
    );
    const { status, output } = await runClient(python, ['-m', 'pytest', '-q', 'clients/python'], repoRoot, {
      ...(await clientEnv()),
      PYTHONDONTWRITEBYTECODE: '1',
    });
    assert.equal(status, 0, `pytest failed (exit ${status}):\n${output}`);
    assert.match(output.trim().split('\n').at(-1) ?? '', /\d+ passed/);
  });

  it('serves the Go client over TLS with a client certificate and a token', async function () {
    if (spawnSync('go', ['version']).status !== 0) this.skip();
    assert.ok(
      existsSync(path.join(repoRoot, 'clients', 'go', 'gen', '.generated')),
      'no Go stubs: run `make go-client`',
    );
    const { status, output } = await runClient(
      'go',
      ['test', '-count=1', '-timeout=160s', '.'],
      path.join(repoRoot, 'clients', 'go'),
      { ...(await clientEnv()), GOPROXY: 'off' },
    );
    assert.equal(status, 0, `go test failed (exit ${status}):\n${output}`);
    assert.match(output.trim().split('\n').at(-1) ?? '', /^ok\s/);
  });

  it('takes a renewed certificate without a restart, keeping open streams', async () => {
    const registry = stack.registries[0]!;
    const pid = registry.pid;
    const servedCommonName = () =>
      new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({
          host: '127.0.0.1',
          servername: 'localhost',
          port: Number(registry.address.split(':')[1]),
          ca: readFileSync(ca.caFile),
          cert: readFileSync(alice.certFile),
          key: readFileSync(alice.keyFile),
          ALPNProtocols: ['h2'],
        });
        socket.once('secureConnect', () => {
          const cn = socket.getPeerCertificate().subject?.CN;
          socket.destroy();
          resolve(Array.isArray(cn) ? cn[0]! : (cn ?? ''));
        });
        socket.once('error', reject);
      });
    assert.equal(await servedCommonName(), 'herald-service');
    // A stream opened before the renewal: it must go on delivering after it.
    const jwt = await token();
    const endpoints = (kind: 'registries' | 'publishers' | 'dispatchers') => stack[kind].map((p) => p.address);
    const subscriber = new Subscriber({
      endpoints: endpoints('dispatchers'),
      subscription: 'secure-sub',
      tls: tls(),
      token: jwt,
    });
    const received: string[] = [];
    subscriber.on('message', (message) => {
      received.push(message.data.toString());
      message.ack();
    });
    const publisher = new Publisher({ endpoints: endpoints('publishers'), tls: tls(), token: jwt });
    await publisher.publish('secure', { data: 'before-renewal' });
    await waitFor(() => received.includes('before-renewal'), {
      timeoutMillis: 30_000,
      description: 'the message before',
    });

    ca.issue('service', { commonName: 'herald-service-renewed', hosts: ['127.0.0.1', 'localhost'] });
    await waitFor(async () => (await servedCommonName()) === 'herald-service-renewed', {
      timeoutMillis: 15_000,
      description: 'the renewed certificate served',
    });
    assert.equal(registry.pid, pid, 'the registry was restarted');
    await publisher.publish('secure', { data: 'after-renewal' });
    await waitFor(() => received.includes('after-renewal'), {
      timeoutMillis: 30_000,
      description: 'the message after',
    });
    await publisher.close();
    await subscriber.close();
    for (const service of stack.all) {
      assert.equal(await checkHealth(service.address, '', 2_000, mtls()), 'SERVING', service.name);
    }
  });

  it('never writes a token into a log line', async () => {
    const files = readdirSync(logDir).filter((file) => file.endsWith('.log'));
    assert.ok(files.length >= 3, `logs: ${files.join(', ')}`);
    let lines = 0;
    for (const file of files) {
      const text = readFileSync(path.join(logDir, file), 'utf8');
      lines += text.split('\n').length;
      for (const jwt of sentTokens) {
        // The signature part alone would identify a leak too; checking whole tokens and signatures both.
        const signature = jwt.split('.')[2] ?? '';
        assert.ok(!text.includes(jwt), `${file} holds a token`);
        if (signature.length >= 16) assert.ok(!text.includes(signature), `${file} holds a token signature`);
      }
      assert.ok(!text.includes(payload), `${file} holds a message payload`);
    }
    assert.ok(lines > 20, 'the services logged almost nothing: is the log capture working?');
  });
});
