import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type SecureContextOptions, createSecureContext } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import type { ServerTlsSettings } from '@herald/config';
import type { Logger } from '@herald/logging';

/** What was read from the TLS files, checked to work together. */
interface LoadedTls {
  options: SecureContextOptions;
  /** Digest of every file, to notice a change without comparing the bytes. */
  fingerprint: string;
  subject: string;
  validTo: string;
}

/**
 * Reads the certificate, key and client CA, and checks that they make a
 * context: a key that does not match its certificate (a renewal caught half
 * written) throws here instead of reaching the server.
 */
export function loadServerTls(settings: ServerTlsSettings): LoadedTls {
  const cert = readFileSync(settings.certFile);
  const key = readFileSync(settings.keyFile);
  const ca = settings.clientCaFile ? readFileSync(settings.clientCaFile) : undefined;
  const options: SecureContextOptions = { cert, key, ...(ca ? { ca } : {}) };
  createSecureContext(options);
  const leaf = new X509Certificate(cert);
  const digest = createHash('sha256').update(cert).update(key);
  if (ca) digest.update(ca);
  return {
    options,
    fingerprint: digest.digest('hex'),
    subject: leaf.subject.replace(/\n/g, ', '),
    validTo: leaf.validTo,
  };
}

/**
 * Server credentials whose certificate, key and client CA are re-read every
 * `reloadIntervalMillis`. A change that loads is handed to the listening
 * server (`setSecureContext`), which uses it for new connections: open
 * connections, and the streams on them, keep the context they were made with.
 * A change that does not load (half written, mismatched) is logged and the
 * previous certificate stays in use.
 *
 * grpc-js has a certificate-provider API of its own (experimental), but its
 * file watcher swaps in whatever it reads, broken or not, and turns the
 * server's credentials off when a read fails, dropping new connections.
 */
export class ReloadingServerCredentials extends ServerCredentials {
  private timer: NodeJS.Timeout | undefined;
  private fingerprint: string;
  /** The last failure logged, so that files left broken are not reported at every check. */
  private lastFailure: string | undefined;

  constructor(
    private readonly settings: ServerTlsSettings,
    private readonly logger: Logger,
  ) {
    const loaded = loadServerTls(settings);
    super(
      {
        requestCert: settings.clientAuth !== 'none',
        rejectUnauthorized: settings.clientAuth === 'require',
      },
      loaded.options,
    );
    this.fingerprint = loaded.fingerprint;
    logger.info({ subject: loaded.subject, validTo: loaded.validTo, clientAuth: settings.clientAuth }, 'serving TLS');
  }

  /** Starts checking the files; the timer does not hold the process open. */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.reload(), this.settings.reloadIntervalMillis);
    this.timer.unref();
  }

  /** Stops checking the files. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the files now; true when a new certificate (or key, or CA) was taken. */
  reload(): boolean {
    let loaded: LoadedTls;
    try {
      loaded = loadServerTls(this.settings);
    } catch (error) {
      const failure = (error as Error).message;
      if (failure === this.lastFailure) return false;
      this.lastFailure = failure;
      this.logger.warn(
        { err: { message: (error as Error).message }, certFile: this.settings.certFile },
        'TLS files changed but do not load; the previous certificate stays in use',
      );
      return false;
    }
    this.lastFailure = undefined;
    if (loaded.fingerprint === this.fingerprint) return false;
    this.fingerprint = loaded.fingerprint;
    this.updateSecureContextOptions(loaded.options);
    this.logger.info({ subject: loaded.subject, validTo: loaded.validTo }, 'TLS certificate reloaded');
    return true;
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
