import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { PushTokens } from './push-token';

describe('PushTokens', () => {
  it('signs tokens that verify against its JWKS, with issuer, audience and subscription', async () => {
    const tokens = await PushTokens.create('', 'https://dispatcher.example');
    const token = await tokens.token('https://hooks.example.com/in', 'orders-push');
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(tokens.jwks()), {
      issuer: 'https://dispatcher.example',
      audience: 'https://hooks.example.com/in',
    });
    assert.equal(payload.sub, 'orders-push');
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.exp! - payload.iat!, 3600);
    await assert.rejects(
      jwtVerify(token, createLocalJWKSet(tokens.jwks()), { audience: 'https://elsewhere.example.com/' }),
      /unexpected "aud" claim value/,
    );
  });

  it('reuses a token until five minutes before it ends', async () => {
    let now = 1_000_000_000_000;
    const tokens = await PushTokens.create('', 'iss', () => now);
    const first = await tokens.token('aud', 'sub-a');
    now += 3_000_000;
    assert.equal(await tokens.token('aud', 'sub-a'), first);
    assert.notEqual(await tokens.token('aud', 'sub-b'), first);
    now += 400_000;
    assert.notEqual(await tokens.token('aud', 'sub-a'), first);
  });

  it('signs with a P-256 key from a file as ES256, and names a bad file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'push-token-'));
    const file = path.join(dir, 'key.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const tokens = await PushTokens.create(file, 'iss');
    const { protectedHeader } = await jwtVerify(await tokens.token('aud', 'sub'), createLocalJWKSet(tokens.jwks()));
    assert.equal(protectedHeader.alg, 'ES256');
    writeFileSync(file, 'not a key');
    await assert.rejects(PushTokens.create(file, 'iss'), /key\.pem is not a PEM private key/);
    await assert.rejects(PushTokens.create(path.join(dir, 'missing.pem'), 'iss'), /missing\.pem cannot be read/);
  });
});
