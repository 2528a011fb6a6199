import { readFileSync, statSync } from 'node:fs';
import { type ChannelCredentials, Metadata, credentials } from '@grpc/grpc-js';
import type { GrpcSecuritySettings } from '@herald/config';

/**
 * A token file's content, read again when its size or modification time
 * changes (a projected service-account token is rewritten in place).
 */
export class TokenFile {
  private token = '';
  private stamp = '';

  constructor(private readonly file: string) {}

  read(): string {
    const stats = statSync(this.file);
    const stamp = `${stats.size}:${stats.mtimeMs}`;
    if (stamp !== this.stamp) {
      this.token = readFileSync(this.file, 'utf8').trim();
      this.stamp = stamp;
    }
    return this.token;
  }
}

/**
 * Credentials of a service's calls to other Herald services (Watch and the
 * registry lookups, a dispatcher forwarding to another): TLS when the settings
 * say so (the CA to trust, a client certificate for peers that require mTLS),
 * and the bearer token of HERALD_TOKEN_FILE on every call. Plaintext
 * otherwise, where the services serve plaintext too.
 */
export function peerCredentials(settings: GrpcSecuritySettings): ChannelCredentials {
  const tls = settings.peerTls;
  if (!tls) return credentials.createInsecure();
  const channel = credentials.createSsl(
    tls.caFile ? readFileSync(tls.caFile) : null,
    tls.keyFile ? readFileSync(tls.keyFile) : null,
    tls.certFile ? readFileSync(tls.certFile) : null,
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
