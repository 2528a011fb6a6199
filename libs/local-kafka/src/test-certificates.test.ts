import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTestCertificates } from './test-certificates';

describe('makeTestCertificates', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'herald-certs-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('signs a broker certificate for every address and a client certificate with an encrypted key', () => {
    const made = makeTestCertificates(path.join(dir, 'tls'), ['10.213.0.11', 'kafka-1']);
    const ca = new X509Certificate(readFileSync(made.caFile));
    assert.ok(ca.ca);

    const keyStore = readFileSync(made.brokerKeyStoreFile, 'utf8');
    assert.match(keyStore, /^-----BEGIN PRIVATE KEY-----/, 'Kafka reads a PKCS#8 key first, then the chain');
    const broker = new X509Certificate(keyStore.slice(keyStore.indexOf('-----BEGIN CERTIFICATE-----')));
    assert.ok(broker.verify(ca.publicKey) && broker.checkIssued(ca));
    for (const ip of ['127.0.0.1', '10.213.0.11']) assert.equal(broker.checkIP(ip), ip);
    for (const host of ['localhost', 'kafka-1']) assert.equal(broker.checkHost(host), host);
    assert.equal(broker.checkIP('10.213.0.12'), undefined);
    assert.equal(createPrivateKey(keyStore).asymmetricKeyType, 'ec');

    const client = new X509Certificate(readFileSync(made.clientCertificateFile));
    assert.ok(client.verify(ca.publicKey));
    assert.match(client.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/, 'for client authentication');
    const encrypted = readFileSync(made.clientKeyFile);
    assert.throws(() => createPrivateKey(encrypted), 'the client key needs its password');
    const key = createPrivateKey({ key: encrypted, passphrase: made.clientKeyPassword });
    assert.ok(client.checkPrivateKey(key));
  });
});
