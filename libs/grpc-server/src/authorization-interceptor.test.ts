import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Message, PublisherServiceClient, PublisherServiceService, type PublishStreamResponse } from '@herald/api';
import { silentLogger } from '@herald/logging';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { type Binding, type PolicySource, isAllowed, policiesByName } from './authorization';
import { FilePolicySource } from './authorization-interceptor';
import { principalOf } from './auth';
import { HeraldServer, bindService } from './server';

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
    assert.ok(isAllowed(principal('jwt:v'), 'topics.get', { kind: 'herald' }, source));
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
      bad('inherited.json', JSON.stringify({ herald: [{ role: 'constructor', members: ['jwt:x'] }] })),
      /role must be one of/,
    );
    assert.throws(
      bad('members.json', JSON.stringify({ topics: { t: [{ role: 'viewer', members: [''] }] } })),
      /topics\.t\[0\]: members/,
    );
    assert.throws(bad('json.json', '{'), SyntaxError);
  });
});

describe('authorizationInterceptor on open streams', () => {
  const issuer = 'https://issuer.test';
  let dir: string;
  let server: HeraldServer;
  let client: PublisherServiceClient;
  let sign: (sub: string) => Promise<string>;
  /** The policy of topic orders, changed by the tests; listeners hear of each change. */
  let orders: Binding[] = [];
  const listeners: Array<() => void> = [];
  const source: PolicySource = policiesByName(
    (resource) => (resource === 'topics/orders' ? { bindings: orders, etag: 'e' } : undefined),
    (listener) => listeners.push(listener),
  );
  const change = (bindings: Binding[]) => {
    orders = bindings;
    for (const listener of listeners) listener();
  };
  /** Whose handlers saw their stream cancelled before the caller ended it. */
  let cancelled: string[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-authz-'));
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
    sign = (sub) =>
      new SignJWT({ sub })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(issuer)
        .setAudience('herald')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    server = new HeraldServer({
      logger: silentLogger(),
      auth: {
        jwt: {
          jwks: path.join(dir, 'jwks.json'),
          issuer,
          audience: ['herald'],
          algorithms: ['ES256'],
          clockToleranceSeconds: 0,
          principalClaim: 'sub',
        },
        mtls: false,
      },
      authz: source,
      services: [
        bindService('herald.v1.PublisherService', PublisherServiceService, {
          publish: async () => ({ messageIds: [] }),
          // Answers each request and stays open until the caller or the interceptor ends the stream.
          publishStream: (call) =>
            new Promise<void>((resolve) => {
              call.on('data', (request: { requestId: string }) =>
                call.write({ requestId: request.requestId, messageIds: ['m'], error: undefined }),
              );
              let endedByCaller = false;
              call.on('cancelled', () => {
                if (!endedByCaller) cancelled.push(principalOf(call)?.id ?? '?');
                resolve();
              });
              call.on('end', () => {
                endedByCaller = true;
                call.end();
                resolve();
              });
            }),
        }),
      ],
    });
    const port = await server.listen('127.0.0.1', 0);
    server.setServing(true);
    client = new PublisherServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client.close();
    await server.stop(1_000);
    rmSync(dir, { recursive: true, force: true });
  });

  /** A PublishStream as `sub` that sent one request and got its answer. */
  const openStream = async (sub: string) => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${await sign(sub)}`);
    const stream = client.publishStream(metadata);
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    const answered = new Promise<PublishStreamResponse>((resolve) => stream.once('data', resolve));
    stream.on('data', () => undefined);
    stream.write({ requestId: '1', topic: 'orders', messages: [Message.fromPartial({ data: Buffer.from('x') })] });
    await answered;
    return { stream, ended };
  };

  it('ends a stream whose caller lost its permission, and leaves the others open', async () => {
    cancelled = [];
    change([{ role: 'publisher', members: ['jwt:bob', 'jwt:carol'] }]);
    const bob = await openStream('bob');
    const carol = await openStream('carol');
    change([{ role: 'publisher', members: ['jwt:carol'] }]);
    const error = await bob.ended;
    assert.equal(error.code, grpc.status.PERMISSION_DENIED);
    assert.equal(error.details, 'jwt:bob lacks topics.publish on topic orders');
    // carol's stream is still open and answering.
    const next = new Promise<PublishStreamResponse>((resolve) => carol.stream.once('data', resolve));
    carol.stream.write({
      requestId: '2',
      topic: 'orders',
      messages: [Message.fromPartial({ data: Buffer.from('y') })],
    });
    assert.equal((await next).requestId, '2');
    carol.stream.end();
    await new Promise((resolve) => carol.stream.on('status', resolve));
    assert.deepEqual(cancelled, ['jwt:bob'], "bob's handler, and only his, saw its stream cancelled");
  });

  it('refuses a new stream as before, and a change that grants nothing ends nothing', async () => {
    change([{ role: 'publisher', members: ['jwt:dan'] }]);
    const dan = await openStream('dan');
    change([{ role: 'publisher', members: ['jwt:dan', 'jwt:erin'] }]);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${await sign('frank')}`);
    const frank = client.publishStream(metadata);
    frank.write({ requestId: '1', topic: 'orders', messages: [] });
    const refused = await new Promise<grpc.ServiceError>((resolve) => frank.on('error', resolve));
    assert.equal(refused.code, grpc.status.PERMISSION_DENIED);
    const next = new Promise<PublishStreamResponse>((resolve) => dan.stream.once('data', resolve));
    dan.stream.write({ requestId: '2', topic: 'orders', messages: [] });
    assert.equal((await next).requestId, '2');
    dan.stream.end();
  });
});
