import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UsageError } from './exit-codes';
import { resolveSecurity } from './security';

describe('resolveSecurity', () => {
  let dir: string;
  let ca: string;
  let cert: string;
  let key: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-cli-security-'));
    [ca, cert, key] = ['ca.pem', 'me.pem', 'me.key'].map((name) => {
      const file = path.join(dir, name);
      writeFileSync(file, `pem of ${name}`);
      return file;
    }) as [string, string, string];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is plaintext without a token by default', () => {
    assert.deepEqual(resolveSecurity({}, {}), {});
  });

  it('reads the files named by flags, before the environment', () => {
    const security = resolveSecurity(
      { tlsCa: ca, tlsCert: cert, tlsKey: key, token: 'abc' },
      { HERALD_TLS_CA: path.join(dir, 'absent'), HERALD_TOKEN: 'from-env' },
    );
    assert.equal(security.tls?.ca?.toString(), 'pem of ca.pem');
    assert.equal(security.tls?.cert?.toString(), 'pem of me.pem');
    assert.equal(security.token, 'abc');
  });

  it('takes the environment when flags are absent, and --tls alone for the system CAs', () => {
    const security = resolveSecurity({}, { HERALD_TLS_CA: ca, HERALD_TOKEN: 'tok\n' });
    assert.equal(security.tls?.ca?.toString(), 'pem of ca.pem');
    assert.equal(security.token, 'tok');
    assert.deepEqual(resolveSecurity({ tls: true }, {}), { tls: {} });
    assert.deepEqual(resolveSecurity({}, { HERALD_TLS: 'true' }), { tls: {} });
  });

  it('refuses a token without TLS, never printing it', () => {
    assert.throws(
      () => resolveSecurity({}, { HERALD_TOKEN: 'secret-token' }),
      (error: unknown) =>
        error instanceof UsageError && /needs TLS/.test(error.message) && !error.message.includes('secret'),
    );
  });

  it('refuses a certificate without its key, and an unreadable file, naming the flag', () => {
    assert.throws(() => resolveSecurity({ tlsCert: cert }, {}), /--tls-cert and --tls-key go together/);
    assert.throws(
      () => resolveSecurity({ tlsCa: path.join(dir, 'nope') }, {}),
      /--tls-ca \(HERALD_TLS_CA\): cannot read .*ENOENT/,
    );
  });
});
