import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { commonEnv } from './common-env';
import { ConfigError, readEnv } from './env';
import { grpcSecurity, isLoopbackHost } from './grpc-security';

describe('grpcSecurity', () => {
  let dir: string;
  let cert: string;
  let key: string;
  let ca: string;
  let jwks: string;
  const read = (env: Record<string, string>, host = '127.0.0.1') => grpcSecurity(readEnv(commonEnv, env), host);
  const problemsOf = (env: Record<string, string>, host = '127.0.0.1'): Record<string, string> => {
    try {
      read(env, host);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    assert.fail('no ConfigError');
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-grpc-security-'));
    [cert, key, ca, jwks] = ['server.pem', 'server.key', 'ca.pem', 'jwks.json'].map((name) => path.join(dir, name)) as [
      string,
      string,
      string,
      string,
    ];
    for (const file of [cert, key, ca, jwks]) writeFileSync(file, 'x');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is plaintext without authentication by default, on loopback', () => {
    assert.deepEqual(read({}), {});
    assert.deepEqual(read({}, 'localhost'), {});
  });

  it('refuses plaintext on another address unless HERALD_PLAINTEXT says so', () => {
    assert.match(problemsOf({}, '0.0.0.0').HERALD_TLS_CERT!, /required to listen on 0\.0\.0\.0.*HERALD_PLAINTEXT=true/);
    assert.deepEqual(read({ HERALD_PLAINTEXT: 'true' }, '0.0.0.0'), {});
  });

  it('serves TLS, dials peers with TLS, and reads client-certificate settings', () => {
    const settings = read(
      {
        HERALD_TLS_CERT: cert,
        HERALD_TLS_KEY: key,
        HERALD_TLS_CLIENT_CA: ca,
        HERALD_TLS_CLIENT_AUTH: 'require',
        HERALD_TLS_CA: ca,
        HERALD_TLS_CLIENT_CERT: cert,
        HERALD_TLS_CLIENT_KEY: key,
        HERALD_AUTH_MTLS: 'true',
      },
      '0.0.0.0',
    );
    assert.deepEqual(settings, {
      serverTls: {
        certFile: cert,
        keyFile: key,
        clientCaFile: ca,
        clientAuth: 'require',
        reloadIntervalMillis: 10_000,
      },
      peerTls: { caFile: ca, certFile: cert, keyFile: key, reloadIntervalMillis: 10_000 },
      auth: { mtls: true },
    });
  });

  it('names every inconsistent TLS variable', () => {
    assert.deepEqual(Object.keys(problemsOf({ HERALD_TLS_CERT: cert })), ['HERALD_TLS_KEY']);
    assert.match(problemsOf({ HERALD_TLS_CLIENT_AUTH: 'require' }).HERALD_TLS_CLIENT_CA!, /required with/);
    assert.match(
      problemsOf({ HERALD_TLS_CERT: path.join(dir, 'absent'), HERALD_TLS_KEY: key }).HERALD_TLS_CERT!,
      /ENOENT/,
    );
    assert.match(
      problemsOf({ HERALD_TLS_CERT: cert, HERALD_TLS_KEY: key, HERALD_PLAINTEXT: 'true' }).HERALD_PLAINTEXT!,
      /choose one/,
    );
    assert.match(problemsOf({ HERALD_TOKEN_FILE: jwks }).HERALD_TOKEN_FILE!, /never sent in plaintext/);
  });

  it('reads JWT authentication, and requires issuer and audience with it', () => {
    const settings = read({
      HERALD_AUTH_JWKS: jwks,
      HERALD_AUTH_ISSUER: 'https://issuer.test',
      HERALD_AUTH_AUDIENCE: 'herald, herald-prod',
    });
    assert.deepEqual(settings.auth, {
      jwt: {
        jwks,
        issuer: 'https://issuer.test',
        audience: ['herald', 'herald-prod'],
        algorithms: ['RS256', 'ES256', 'EdDSA'],
        clockToleranceSeconds: 30,
        principalClaim: 'sub',
      },
      mtls: false,
    });
    assert.deepEqual(Object.keys(problemsOf({ HERALD_AUTH_JWKS: jwks })).sort(), [
      'HERALD_AUTH_AUDIENCE',
      'HERALD_AUTH_ISSUER',
    ]);
  });

  it('refuses none and HMAC algorithms, and a JWKS over http to another host', () => {
    const base = { HERALD_AUTH_JWKS: jwks, HERALD_AUTH_ISSUER: 'i', HERALD_AUTH_AUDIENCE: 'a' };
    assert.match(
      problemsOf({ ...base, HERALD_AUTH_ALGORITHMS: 'RS256,none,HS256' }).HERALD_AUTH_ALGORITHMS!,
      /none, HS256/,
    );
    assert.match(
      problemsOf({ ...base, HERALD_AUTH_JWKS: 'http://issuer.example/jwks' }).HERALD_AUTH_JWKS!,
      /must be an https:\/\/ URL/,
    );
    assert.equal(
      read({ ...base, HERALD_AUTH_JWKS: 'https://issuer.example/jwks' }).auth?.jwt?.jwks,
      'https://issuer.example/jwks',
    );
  });

  it('takes a policy file only with authentication', () => {
    assert.match(problemsOf({ HERALD_AUTHZ_POLICY_FILE: jwks }).HERALD_AUTHZ_POLICY_FILE!, /needs authentication/);
    const base = { HERALD_AUTH_JWKS: jwks, HERALD_AUTH_ISSUER: 'i', HERALD_AUTH_AUDIENCE: 'a' };
    assert.equal(read({ ...base, HERALD_AUTHZ_POLICY_FILE: jwks }).authzPolicyFile, jwks);
  });

  it('takes quotas only with authentication, and leaves them out when none is set', () => {
    assert.match(problemsOf({ HERALD_QUOTA_STREAMS: '5' }).HERALD_QUOTA_STREAMS!, /quotas are per principal/);
    const base = { HERALD_AUTH_JWKS: jwks, HERALD_AUTH_ISSUER: 'i', HERALD_AUTH_AUDIENCE: 'a' };
    assert.equal(read(base).quotas, undefined);
    assert.deepEqual(read({ ...base, HERALD_QUOTA_PUBLISH_BYTES_PER_S: '1000000' }).quotas, {
      publishMessagesPerSecond: 0,
      publishBytesPerSecond: 1_000_000,
      streams: 0,
    });
  });

  it('requires client certificates for certificate authentication', () => {
    assert.match(problemsOf({ HERALD_AUTH_MTLS: 'true' }).HERALD_AUTH_MTLS!, /HERALD_TLS_CLIENT_AUTH/);
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) assert.ok(isLoopbackHost(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'herald.internal']) assert.ok(!isLoopbackHost(host), host);
  });
});
