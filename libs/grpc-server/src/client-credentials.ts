import { readFileSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { type ChannelCredentials, Metadata, credentials, experimental } from '@grpc/grpc-js';
import { type GrpcSecuritySettings, TokenFile } from '@herald/config';

/** Files of a client's TLS: the CAs it trusts (absent: the system's) and its own certificate. */
export interface PeerTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * The CA and client certificate of outgoing connections, read at start and
 * again every `intervalMillis`: a renewal that loads (the pair checked with
 * `createSecureContext`) is used for the next connections; one that does not
 * is ignored until it does. grpc-js's own file watcher would hand over a half
 * written pair, and none at all after a failed read.
 */
export class ReloadingPeerCertificates implements experimental.CertificateProvider {
  private ca: experimental.CaCertificateUpdate;
  private identity: experimental.IdentityCertificateUpdate | null;
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly files: PeerTlsFiles,
    intervalMillis: number,
  ) {
    const loaded = this.load();
    this.ca = loaded.ca;
    this.identity = loaded.identity;
    this.timer = setInterval(() => this.reload(), intervalMillis);
    this.timer.unref();
  }

  /** Reads the files now; true when something changed and was taken. */
  reload(): boolean {
    let loaded: ReturnType<ReloadingPeerCertificates['load']>;
    try {
      loaded = this.load();
    } catch {
      return false;
    }
    const caChanged = !loaded.ca.caCertificate.equals(this.ca.caCertificate);
    const identityChanged =
      loaded.identity !== null &&
      (!this.identity ||
        !loaded.identity.certificate.equals(this.identity.certificate) ||
        !loaded.identity.privateKey.equals(this.identity.privateKey));
    if (caChanged) {
      this.ca = loaded.ca;
      for (const listener of this.caListeners) listener(this.ca);
    }
    if (identityChanged) {
      this.identity = loaded.identity;
      for (const listener of this.identityListeners) listener(this.identity);
    }
    return caChanged || identityChanged;
  }

  close(): void {
    clearInterval(this.timer);
  }

  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    process.nextTick(listener, this.ca);
  }

  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }

  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    process.nextTick(listener, this.identity);
  }

  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }

  private load() {
    const caCertificate = this.files.caFile
      ? readFileSync(this.files.caFile)
      : Buffer.from(rootCertificates.join('\n'));
    const identity =
      this.files.certFile && this.files.keyFile
        ? { certificate: readFileSync(this.files.certFile), privateKey: readFileSync(this.files.keyFile) }
        : null;
    createSecureContext({ ca: caCertificate, cert: identity?.certificate, key: identity?.privateKey });
    return { ca: { caCertificate }, identity };
  }
}

/**
 * Credentials of a service's calls to other Herald services (Watch and the
 * registry lookups, a dispatcher forwarding to another): TLS when the settings
 * say so (the CA to trust, a client certificate for peers that require mTLS,
 * both re-read every HERALD_TLS_RELOAD_INTERVAL_MS), and the bearer token of
 * HERALD_TOKEN_FILE on every call. Plaintext otherwise, where the services
 * serve plaintext too.
 */
export function peerCredentials(settings: GrpcSecuritySettings): ChannelCredentials {
  const tls = settings.peerTls;
  if (!tls) return credentials.createInsecure();
  const certificates = new ReloadingPeerCertificates(tls, tls.reloadIntervalMillis);
  const channel = experimental.createCertificateProviderChannelCredentials(
    certificates,
    tls.certFile ? certificates : null,
  );
  if (!settings.peerTokenFile) return channel;
  const tokenFile = new TokenFile(settings.peerTokenFile);
  return channel.compose(
    credentials.createFromMetadataGenerator((_params, callback) => {
      try {
        const metadata = new Metadata();
        metadata.set('authorization', `Bearer ${tokenFile.read()}`);
        callback(null, metadata);
      } catch (error) {
        callback(new Error(`cannot read HERALD_TOKEN_FILE: ${(error as NodeJS.ErrnoException).code ?? 'error'}`));
      }
    }),
  );
}
