import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Message, PublisherServiceClient, PublisherServiceService } from '@herald/api';
import { silentLogger } from '@herald/logging';
import { type KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { retryAfterKey } from './quota-interceptor';
import { HeraldServer, bindService } from './server';

describe('quotas per principal (a HeraldServer in this process)', function () {
  this.timeout(30_000);
  let dir: string;
  let privateKey: KeyLike;
  let server: HeraldServer;
  let client: PublisherServiceClient;
  const openStreams = new Set<() => void>();

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-quota-'));
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
    server = new HeraldServer({
      logger: silentLogger(),
      auth: {
        jwt: {
          jwks: path.join(dir, 'jwks.json'),
          issuer: 'https://issuer.test',
          audience: ['herald'],
          algorithms: ['ES256'],
          clockToleranceSeconds: 0,
          principalClaim: 'sub',
        },
        mtls: false,
      },
      quotas: { publishMessagesPerSecond: 10, publishBytesPerSecond: 1_000, streams: 2 },
      services: [
        bindService('herald.v1.PublisherService', PublisherServiceService, {
          publish: async (request) => ({ messageIds: request.messages.map((_, i) => `id-${i}`) }),
          publishStream: (call) =>
            new Promise<void>((resolve) => {
              const done = () => {
                openStreams.delete(done);
                resolve();
              };
              openStreams.add(done);
              call.on('data', () => {});
              call.on('end', () => {
                call.end();
                done();
              });
              call.on('cancelled', done);
              call.on('error', done);
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
    for (const done of openStreams) done();
    await server.stop(1_000);
    rmSync(dir, { recursive: true, force: true });
  });

  const as = async (sub: string) => {
    const jwt = await new SignJWT({ sub })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('https://issuer.test')
      .setAudience('herald')
      .setExpirationTime('5m')
      .sign(privateKey);
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${jwt}`);
    return metadata;
  };
  const publish = (metadata: grpc.Metadata, count: number, bytes = 1) =>
    new Promise<{ code: number; retryAfter?: string; details?: string }>((resolve) => {
      const messages = Array.from({ length: count }, () => Message.fromPartial({ data: Buffer.alloc(bytes) }));
      const call = client.publish({ topic: 't', messages }, metadata.clone(), (error) =>
        resolve({
          code: error ? error.code : grpc.status.OK,
          retryAfter: error?.metadata.get(retryAfterKey)[0] as string,
        }),
      );
      void call;
    });

  it('refuses messages over the rate with RESOURCE_EXHAUSTED and when to retry, without slowing anyone else', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    const first = await publish(alice, 10);
    assert.equal(first.code, grpc.status.OK, JSON.stringify(first));
    const over = await publish(alice, 5);
    assert.equal(over.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.ok(Number(over.retryAfter) > 0 && Number(over.retryAfter) <= 1_000, `retry-after-ms ${over.retryAfter}`);
    assert.equal((await publish(bob, 10)).code, grpc.status.OK, 'another principal has its own quota');
    await new Promise((resolve) => setTimeout(resolve, Number(over.retryAfter) + 50));
    assert.equal((await publish(alice, 5)).code, grpc.status.OK, 'after the wait it passes');
  });

  it('counts bytes too', async () => {
    const carol = await as('carol');
    assert.equal((await publish(carol, 1, 900)).code, grpc.status.OK);
    assert.equal((await publish(carol, 1, 900)).code, grpc.status.RESOURCE_EXHAUSTED);
  });

  it('limits the streams a principal holds open, and frees a place when one ends', async () => {
    const dave = await as('dave');
    const first = client.publishStream(dave.clone());
    const second = client.publishStream(dave.clone());
    first.on('error', () => {});
    second.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    const third = client.publishStream(dave.clone());
    const refused = await new Promise<grpc.ServiceError>((resolve) => third.on('error', resolve));
    assert.equal(refused.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(refused.details, /2 streams open/);
    const erin = client.publishStream((await as('erin')).clone());
    erin.on('error', () => {});
    first.end();
    await new Promise((resolve) => first.on('end', resolve).on('status', resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fourth = client.publishStream(dave.clone());
    const outcome = await new Promise<string>((resolve) => {
      fourth.on('error', (error: grpc.ServiceError) => resolve(grpc.status[error.code]));
      setTimeout(() => resolve('open'), 500);
    });
    assert.equal(outcome, 'open');
    for (const stream of [second, fourth, erin]) stream.cancel();
  });
});
