import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Certificates of a local cluster's TLS listeners, all PEM files in one folder. */
export interface TestCertificates {
  /** The CA that signed the brokers' and the client's certificates: what clients trust. */
  caFile: string;
  /** The brokers' private key and certificate in one file (Kafka's PEM key store); the key is not encrypted. */
  brokerKeyStoreFile: string;
  /** A client certificate the CA signed, for listeners that require one (mTLS). */
  clientCertificateFile: string;
  /** Its private key, encrypted (PKCS#8, AES-256) with {@link clientKeyPassword}. */
  clientKeyFile: string;
  clientKeyPassword: string;
}

/**
 * Makes a throwaway CA, a broker certificate for `hosts` (IP addresses and
 * names, checked by clients against the address they dial) and a client
 * certificate, with the system's `openssl`, valid for 30 days. Nothing of it
 * is ever committed: a cluster makes its own at each start.
 */
export function makeTestCertificates(dir: string, hosts: string[]): TestCertificates {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => path.join(dir, name);
  const altNames = [...new Set(['127.0.0.1', 'localhost', ...hosts])].map((host, i) =>
    net.isIP(host) ? `IP.${i + 1} = ${host}` : `DNS.${i + 1} = ${host}`,
  );
  // A config of our own: the system's openssl.cnf adds extensions of its choosing to `req -x509`.
  writeFileSync(
    file('openssl.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = unused',
      '[ca_ext]',
      'basicConstraints = critical,CA:TRUE',
      'keyUsage = critical,keyCertSign,cRLSign',
      'subjectKeyIdentifier = hash',
      '[broker_ext]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = serverAuth,clientAuth',
      'authorityKeyIdentifier = keyid',
      'subjectAltName = @alt',
      '[client_ext]',
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = clientAuth',
      'authorityKeyIdentifier = keyid',
      '[alt]',
      ...altNames,
      '',
    ].join('\n'),
  );
  const config = ['-config', file('openssl.cnf')];
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const days = ['-days', '30'];
  openssl(
    ['req', '-x509', '-new', ...config, '-extensions', 'ca_ext', ...newKey, ...days].concat([
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-subj',
      '/CN=Herald local Kafka test CA',
    ]),
  );
  const signed = (name: string, subject: string, extensions: string) => {
    openssl(
      ['req', '-new', ...config, ...newKey, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`)].concat([
        '-subj',
        subject,
      ]),
    );
    openssl(
      ['x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key')]
        .concat(['-set_serial', `0x${randomBytes(8).toString('hex')}`, ...days])
        .concat(['-extfile', file('openssl.cnf'), '-extensions', extensions, '-out', file(`${name}.pem`)]),
    );
  };
  signed('broker', '/CN=localhost', 'broker_ext');
  signed('client', '/CN=herald-test-client', 'client_ext');

  const brokerKeyStoreFile = file('broker-keystore.pem');
  writeFileSync(
    brokerKeyStoreFile,
    readFileSync(file('broker.key'), 'utf8') + readFileSync(file('broker.pem'), 'utf8'),
  );
  const clientKeyPassword = randomBytes(12).toString('hex');
  const passwordFile = file('client-key-password');
  writeFileSync(passwordFile, clientKeyPassword, { mode: 0o600 });
  const clientKeyFile = file('client-encrypted.key');
  openssl(
    ['pkcs8', '-topk8', '-v2', 'aes-256-cbc', '-in', file('client.key'), '-out', clientKeyFile].concat([
      '-passout',
      `file:${passwordFile}`,
    ]),
  );
  rmSync(file('client.key'));
  return {
    caFile: file('ca.pem'),
    brokerKeyStoreFile,
    clientCertificateFile: file('client.pem'),
    clientKeyFile,
    clientKeyPassword,
  };
}

function openssl(args: string[]): void {
  try {
    execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error(
        'openssl not found: the local Kafka makes its TLS test certificates with it (apt-get install openssl)',
      );
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}
