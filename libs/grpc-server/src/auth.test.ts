import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { Message, PublisherServiceClient, PublisherServiceService, unaryCall } from '@herald/api';
import type { AuthSettings } from '@herald/config';
import { silentLogger } from '@herald/logging';
import { type JWK, type KeyLike, SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import { AuthenticationError, Authenticator, certificateIdentity, principalOf } from './auth';
import { HeraldServer, bindService } from './server';

const issuer = 'https://issuer.test';
const audience = 'herald';

interface Signer {
  privateKey: KeyLike;
  jwk: JWK;
}

async function signer(kid: string, alg = 'ES256'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function token(
  by: Signer,
  claims: Record<string, unknown> = {},
  options: { alg?: string; kid?: string; expiresIn?: string; iss?: string; aud?: string } = {},
): Promise<string> {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: options.alg ?? by.jwk.alg!, kid: options.kid ?? by.jwk.kid! })
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? audience)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(by.privateKey);
}

describe('Authenticator', () => {
  let dir: string;
  let jwksFile: string;
  let key: Signer;
  let other: Signer;
  let authenticator: Authenticator;
  const settings = (): AuthSettings => ({
    jwt: {
      jwks: jwksFile,
      issuer,
      audience: [audience],
      algorithms: ['ES256', 'RS256'],
      clockToleranceSeconds: 0,
      principalClaim: 'sub',
    },
    mtls: false,
  });
  const refusal = async (authorization: string | undefined, peer?: PeerCertificate): Promise<AuthenticationError> => {
    try {
      await authenticator.authenticate(authorization, peer);
    } catch (error) {
      assert.ok(error instanceof AuthenticationError, String(error));
      return error;
    }
    assert.fail('accepted');
  };

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-auth-'));
    jwksFile = path.join(dir, 'jwks.json');
    key = await signer('k1');
    other = await signer('k1'); // same key id, another key: a forgery
    writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk] }));
    authenticator = new Authenticator(settings(), silentLogger());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a valid token and names its subject', async () => {
    assert.deepEqual(await authenticator.authenticate(`Bearer ${await token(key)}`, undefined), {
      id: 'jwt:alice',
      method: 'jwt',
    });
  });

  it('refuses forged, expired, wrong-audience and wrong-issuer tokens, saying why without the token', async () => {
    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['forged', token(other), /signature is not valid/],
      ['expired', token(key, {}, { expiresIn: '-1m' }), /expired/],
      ['wrong audience', token(key, {}, { aud: 'someone-else' }), /aud claim is not accepted/],
      ['wrong issuer', token(key, {}, { iss: 'https://evil.test' }), /iss claim is not accepted/],
      ['unknown key', token(key, {}, { kid: 'k9' }), /key the issuer does not publish/],
      ['no subject', token(key, { sub: undefined }), /sub claim/],
    ];
    for (const [name, made, reason] of cases) {
      const jwt = await made;
      const error = await refusal(`Bearer ${jwt}`);
      assert.equal(error.code, grpc.status.UNAUTHENTICATED, name);
      assert.match(error.message, reason, name);
      assert.ok(!error.message.includes(jwt.split('.')[1]!), `${name}: the message repeats the token`);
    }
  });

  it('refuses alg none, and HS256 signed with the public key as the secret', async () => {
    const none = new UnsecuredJWT({ sub: 'alice' }).setIssuer(issuer).setAudience(audience).setExpirationTime('5m');
    assert.equal((await refusal(`Bearer ${none.encode()}`)).code, grpc.status.UNAUTHENTICATED);
    const secret = new TextEncoder().encode(JSON.stringify(key.jwk));
    const hs = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('5m')
      .sign(secret);
    assert.match((await refusal(`Bearer ${hs}`)).message, /algorithm that is not accepted/);
  });

  it('refuses a missing token, another scheme, and garbage', async () => {
    assert.match((await refusal(undefined)).message, /no credentials: send a bearer token/);
    assert.match((await refusal('Basic YWxpY2U6cHc=')).message, /must be "Bearer <token>"/);
    for (const garbage of ['x', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9..', '....', 'Bearer']) {
      assert.equal((await refusal(`Bearer ${garbage}`)).code, grpc.status.UNAUTHENTICATED, garbage);
    }
  });

  it('takes a key added to the JWKS file (rotation) without a restart', async () => {
    const next = await signer('k2', 'RS256');
    const jwt = await token(next);
    assert.match((await refusal(`Bearer ${jwt}`)).message, /does not publish/);
    writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk, next.jwk] }));
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // the file is checked at most once a second
    assert.equal((await authenticator.authenticate(`Bearer ${jwt}`, undefined)).id, 'jwt:alice');
  });

  it('fetches a JWKS URL once for many tokens, and answers UNAVAILABLE while the issuer is down', async () => {
    let fetches = 0;
    const issuerServer = http.createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] }));
    });
    await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
    const { port } = issuerServer.address() as AddressInfo;
    const remote = new Authenticator(
      { ...settings(), jwt: { ...settings().jwt!, jwks: `http://127.0.0.1:${port}/jwks.json` } },
      silentLogger(),
    );
    for (let i = 0; i < 5; i++) {
      assert.equal((await remote.authenticate(`Bearer ${await token(key)}`, undefined)).id, 'jwt:alice');
    }
    assert.equal(fetches, 1);
    await new Promise((resolve) => issuerServer.close(resolve));

    const down = new Authenticator(
      { ...settings(), jwt: { ...settings().jwt!, jwks: `http://127.0.0.1:${port}/jwks.json` } },
      silentLogger(),
    );
    const error = await down.authenticate(`Bearer ${await token(key)}`, undefined).then(
      () => assert.fail('accepted'),
      (failure: unknown) => failure as AuthenticationError,
    );
    assert.ok(error instanceof AuthenticationError);
    assert.equal(error.code, grpc.status.UNAVAILABLE);
  });

  it('names a client certificate by its URI, DNS or e-mail SAN, else its CN', () => {
    const cert = (subjectaltname: string | undefined, CN = 'cn-name') =>
      ({ subjectaltname, subject: { CN } }) as unknown as PeerCertificate;
    assert.equal(certificateIdentity(cert('DNS:a.test, URI:spiffe://herald/publisher')), 'spiffe://herald/publisher');
    assert.equal(certificateIdentity(cert('IP Address:127.0.0.1, DNS:a.test')), 'a.test');
    assert.equal(certificateIdentity(cert('email:ops@herald.test')), 'ops@herald.test');
    assert.equal(certificateIdentity(cert(undefined)), 'cn-name');
  });
});

describe('authInterceptor on a HeraldServer', () => {
  let dir: string;
  let key: Signer;
  let server: HeraldServer;
  let client: PublisherServiceClient;
  let seen: Array<string | undefined> = [];
  let seenAuthorization: unknown[] = [];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-auth-'));
    key = await signer('k1');
    writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [key.jwk] }));
    server = new HeraldServer({
      logger: silentLogger(),
      auth: {
        jwt: {
          jwks: path.join(dir, 'jwks.json'),
          issuer,
          audience: [audience],
          algorithms: ['ES256'],
          clockToleranceSeconds: 0,
          principalClaim: 'sub',
        },
        mtls: false,
      },
      services: [
        bindService('herald.v1.PublisherService', PublisherServiceService, {
          publish: async (request, call) => {
            seen.push(principalOf(call)?.id);
            seenAuthorization.push(call.metadata.get('authorization'));
            return { messageIds: request.messages.map((_, i) => `id-${i}`) };
          },
          publishStream: async () => {},
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
  beforeEach(() => {
    seen = [];
    seenAuthorization = [];
  });

  const getTopic = (authorization?: string) => {
    const metadata = new grpc.Metadata();
    if (authorization !== undefined) metadata.set('authorization', authorization);
    const messages = [Message.fromPartial({ data: Buffer.from('x') })];
    return unaryCall(client, client.publish, { topic: 'orders', messages }, metadata, 5_000);
  };

  it('hands the principal to the handler, without the authorization value', async () => {
    await getTopic(`Bearer ${await token(key, { sub: 'bob' })}`);
    assert.deepEqual(seen, ['jwt:bob']);
    assert.deepEqual(seenAuthorization, [[]]);
  });

  it('ends a call without a valid token with UNAUTHENTICATED, before the handler', async () => {
    await assert.rejects(getTopic(), (error: grpc.ServiceError) => error.code === grpc.status.UNAUTHENTICATED);
    await assert.rejects(getTopic('Bearer nope'), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAUTHENTICATED);
      assert.ok(!error.details.includes('nope'));
      return true;
    });
    assert.deepEqual(seen, []);
  });

  it('survives a few hundred mangled tokens, answering UNAUTHENTICATED to each', async () => {
    const valid = await token(key);
    const mangled: string[] = [];
    for (let i = 0; i < 300; i++) {
      const chars = [...valid];
      const kind = i % 3;
      if (kind === 0) chars[Math.floor(Math.random() * chars.length)] = String.fromCharCode(33 + (i % 90));
      if (kind === 1) chars.splice(Math.floor(Math.random() * chars.length), 1 + (i % 7));
      const text = kind === 2 ? randomBytes(1 + (i % 200)).toString('base64url') : chars.join('');
      if (text !== valid) mangled.push(text);
    }
    const outcomes = await Promise.allSettled(mangled.map((text) => getTopic(`Bearer ${text}`)));
    const codes = new Set(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as grpc.ServiceError).code : 'OK')));
    // A change in the signature's last characters can decode to the same bytes (base64url's spare bits).
    codes.delete('OK');
    assert.deepEqual([...codes], [grpc.status.UNAUTHENTICATED]);
    await getTopic(`Bearer ${valid}`);
  });
});
