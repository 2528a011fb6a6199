import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** A certificate and its (unencrypted) key, as PEM files. */
export interface IssuedCertificate {
  certFile: string;
  keyFile: string;
}

/** What a certificate is for, and whom it names. */
export interface IssueOptions {
  /** Subject CN. */
  commonName: string;
  /** IP addresses and DNS names (subjectAltName): a server's certificate must name the address clients dial. */
  hosts?: string[];
  /** A URI SAN (a SPIFFE id...), which Herald takes as the identity of a client certificate. */
  uri?: string;
  /** serverAuth and clientAuth (a service's certificate), or clientAuth only. @defaultValue server */
  usage?: 'server' | 'client';
  /** Validity in days. @defaultValue 30 */
  days?: number;
}

/**
 * A throwaway certificate authority for tests, made with the system's
 * `openssl` in a temporary folder at test time: nothing of it is ever
 * committed. `issue` signs a certificate (again under the same name: a
 * renewal, written over the old files).
 */
export class TestCa {
  readonly dir: string;
  readonly caFile: string;
  private readonly caKey: string;

  constructor(name = 'Herald test CA', dir?: string) {
    this.dir = dir ?? mkdtempSync(path.join(tmpdir(), 'herald-test-ca-'));
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.caFile = this.file('ca.pem');
    this.caKey = this.file('ca.key');
    this.writeConfig('ca', ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign']);
    openssl(
      ['req', '-x509', '-new', '-config', this.file('ca.cnf'), '-extensions', 'ext', ...newKey, '-days', '30'].concat([
        '-keyout',
        this.caKey,
        '-out',
        this.caFile,
        '-subj',
        `/CN=${name}`,
      ]),
    );
  }

  /** Signs a certificate named `name` (files `<name>.pem` and `<name>.key` in {@link TestCa.dir}). */
  issue(name: string, options: IssueOptions): IssuedCertificate {
    const hosts = options.hosts ?? [];
    const alt = [
      ...hosts.map((host, i) => (net.isIP(host) ? `IP.${i + 1} = ${host}` : `DNS.${i + 1} = ${host}`)),
      ...(options.uri ? [`URI.1 = ${options.uri}`] : []),
    ];
    this.writeConfig(name, [
      'basicConstraints = CA:FALSE',
      'keyUsage = critical,digitalSignature',
      `extendedKeyUsage = ${options.usage === 'client' ? 'clientAuth' : 'serverAuth,clientAuth'}`,
      ...(alt.length > 0 ? ['subjectAltName = @alt', '[alt]', ...alt] : []),
    ]);
    const certFile = this.file(`${name}.pem`);
    const keyFile = this.file(`${name}.key`);
    const csr = this.file(`${name}.csr`);
    openssl(
      ['req', '-new', '-config', this.file(`${name}.cnf`), ...newKey, '-keyout', keyFile, '-out', csr].concat([
        '-subj',
        `/CN=${options.commonName}`,
      ]),
    );
    const validity = ['-days', String(options.days ?? 30)];
    openssl(
      ['x509', '-req', '-in', csr, '-CA', this.caFile, '-CAkey', this.caKey, ...validity]
        .concat(['-set_serial', `0x${randomBytes(8).toString('hex')}`])
        .concat(['-extfile', this.file(`${name}.cnf`), '-extensions', 'ext', '-out', certFile]),
    );
    return { certFile, keyFile };
  }

  /** Removes the folder and everything in it. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  // A config of our own: the system's openssl.cnf adds extensions of its choosing.
  private writeConfig(name: string, ext: string[]): void {
    writeFileSync(
      this.file(`${name}.cnf`),
      ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', 'CN = unused', '[ext]', ...ext, ''].join('\n'),
    );
  }
}

const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): Buffer {
  try {
    return execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('openssl not found: the tests make their certificates with it');
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}
