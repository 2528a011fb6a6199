import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { commonEnv } from './common-env';
import { ConfigError, readEnv } from './env';
import { kafkaSecurity } from './kafka-security';

describe('kafkaSecurity', () => {
  let dir: string;
  let ca: string;
  let cert: string;
  let key: string;
  const read = (env: Record<string, string>) => kafkaSecurity(readEnv(commonEnv, env));
  /** The problems a ConfigError names, by variable; fails when something else is thrown. */
  const problemsOf = (env: Record<string, string>): Record<string, string> => {
    try {
      read(env);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error.problems;
    }
    assert.fail('no ConfigError');
  };

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'herald-kafka-security-'));
    ca = path.join(dir, 'ca.pem');
    cert = path.join(dir, 'client.pem');
    key = path.join(dir, 'client.key');
    for (const file of [ca, cert, key]) writeFileSync(file, '-----BEGIN CERTIFICATE-----\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is plaintext, with nothing else, by default', () => {
    assert.deepEqual(read({}), { protocol: 'plaintext' });
  });

  it('takes the protocol and mechanism in any case', () => {
    const settings = read({
      KAFKA_SECURITY_PROTOCOL: 'SASL_SSL',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'herald',
      KAFKA_SASL_PASSWORD: 'secret',
    });
    assert.deepEqual(settings, {
      protocol: 'sasl_ssl',
      tls: {},
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'herald', password: 'secret' },
    });
  });

  it('reads TLS files for ssl, with a client certificate and an encrypted key', () => {
    const settings = read({
      KAFKA_SECURITY_PROTOCOL: 'ssl',
      KAFKA_SSL_CA_LOCATION: ca,
      KAFKA_SSL_CERTIFICATE_LOCATION: cert,
      KAFKA_SSL_KEY_LOCATION: key,
      KAFKA_SSL_KEY_PASSWORD: 'pass',
    });
    assert.deepEqual(settings, {
      protocol: 'ssl',
      tls: { caLocation: ca, certificateLocation: cert, keyLocation: key, keyPassword: 'pass' },
    });
  });

  it('reads secrets from *_FILE variables, without the trailing line break', () => {
    const user = path.join(dir, 'user');
    const password = path.join(dir, 'password');
    writeFileSync(user, 'api-key\n');
    writeFileSync(password, 'p@ss word\r\n');
    const settings = read({
      KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME_FILE: user,
      KAFKA_SASL_PASSWORD_FILE: password,
    });
    assert.deepEqual(settings.sasl, { mechanism: 'PLAIN', username: 'api-key', password: 'p@ss word' });
    assert.equal(settings.tls, undefined);
  });

  it('refuses an unknown protocol or mechanism', () => {
    assert.throws(() => read({ KAFKA_SECURITY_PROTOCOL: 'tls' }), /KAFKA_SECURITY_PROTOCOL has an invalid value/);
    assert.throws(
      () => read({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_MECHANISM: 'GSSAPI' }),
      /KAFKA_SASL_MECHANISM has an invalid value "GSSAPI": must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/,
    );
  });

  it('refuses TLS settings the protocol would ignore', () => {
    const problems = problemsOf({ KAFKA_SSL_CA_LOCATION: ca, KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext' });
    assert.match(problems.KAFKA_SSL_CA_LOCATION!, /KAFKA_SECURITY_PROTOCOL is sasl_plaintext: TLS settings need ssl/);
  });

  it('refuses SASL settings the protocol would ignore, without echoing the password', () => {
    const problems = problemsOf({ KAFKA_SASL_USERNAME: 'herald', KAFKA_SASL_PASSWORD: 'hunter2' });
    assert.deepEqual(Object.keys(problems).sort(), ['KAFKA_SASL_PASSWORD', 'KAFKA_SASL_USERNAME']);
    assert.match(problems.KAFKA_SASL_PASSWORD!, /KAFKA_SECURITY_PROTOCOL is plaintext: SASL settings need/);
    assert.doesNotMatch(JSON.stringify(problems), /hunter2/);
  });

  it('requires a mechanism, a user name and a password with SASL, naming each', () => {
    const problems = problemsOf({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl' });
    assert.deepEqual(Object.keys(problems).sort(), [
      'KAFKA_SASL_MECHANISM',
      'KAFKA_SASL_PASSWORD',
      'KAFKA_SASL_USERNAME',
    ]);
    assert.match(problems.KAFKA_SASL_MECHANISM!, /required with KAFKA_SECURITY_PROTOCOL sasl_ssl/);
  });

  it('refuses a value given both directly and in a file', () => {
    const password = path.join(dir, 'password-both');
    writeFileSync(password, 'x');
    const problems = problemsOf({
      KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'x',
      KAFKA_SASL_PASSWORD_FILE: password,
    });
    assert.deepEqual(problems, {
      KAFKA_SASL_PASSWORD_FILE: 'is set together with KAFKA_SASL_PASSWORD: set one or the other',
    });
  });

  it('names a missing or empty secret file, never its content', () => {
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '\n');
    const problems = problemsOf({
      KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME_FILE: path.join(dir, 'absent'),
      KAFKA_SASL_PASSWORD_FILE: empty,
    });
    assert.match(problems.KAFKA_SASL_USERNAME_FILE!, /cannot be read: ENOENT/);
    assert.equal(problems.KAFKA_SASL_PASSWORD_FILE, `names an empty file (${empty})`);
    assert.equal(problems.KAFKA_SASL_USERNAME, undefined, 'the file variable carries the problem');
  });

  it('refuses a certificate without its key, a key without its certificate, and a key password without a key', () => {
    assert.match(
      problemsOf({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CERTIFICATE_LOCATION: cert }).KAFKA_SSL_KEY_LOCATION!,
      /required with KAFKA_SSL_CERTIFICATE_LOCATION/,
    );
    assert.match(
      problemsOf({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_KEY_LOCATION: key }).KAFKA_SSL_CERTIFICATE_LOCATION!,
      /required with KAFKA_SSL_KEY_LOCATION/,
    );
    assert.match(
      problemsOf({ KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_KEY_PASSWORD: 'p' }).KAFKA_SSL_KEY_PASSWORD!,
      /without KAFKA_SSL_KEY_LOCATION/,
    );
  });

  it('refuses TLS files that cannot be read, or are folders', () => {
    const problems = problemsOf({
      KAFKA_SECURITY_PROTOCOL: 'ssl',
      KAFKA_SSL_CA_LOCATION: path.join(dir, 'no-ca.pem'),
      KAFKA_SSL_CERTIFICATE_LOCATION: dir,
      KAFKA_SSL_KEY_LOCATION: key,
    });
    assert.match(problems.KAFKA_SSL_CA_LOCATION!, /cannot be read: ENOENT/);
    assert.equal(problems.KAFKA_SSL_CERTIFICATE_LOCATION, 'is not a file (a PEM file is expected)');
  });
});
