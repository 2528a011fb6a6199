import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import { TestCa, securedServiceEnv } from '@herald/testkit';

/** The identity the chaos process's own clients (load, checker, fuzz) show: a URI SAN of its client certificate. */
export const chaosClientIdentity = 'spiffe://herald.chaos/load';

/**
 * A secured deployment for the chaos runs (`--secure`): every listener serves
 * TLS and requires a client certificate, the services call each other over
 * mTLS, callers are identified by their certificate, and every rpc is checked
 * against role bindings in which only the services and the chaos process are
 * admins. Certificates come from a throwaway CA made at run time.
 */
export class ChaosSecurity {
  private constructor(
    private readonly ca: TestCa,
    private readonly policyFile: string,
    private readonly client: { certFile: string; keyFile: string },
    private readonly server: { certFile: string; keyFile: string },
  ) {}

  /** Makes the CA, the services' and the chaos client's certificates and the policy, in `dir`. */
  static create(dir: string): ChaosSecurity {
    const ca = new TestCa('Herald chaos CA', dir);
    const server = ca.issue('service', { commonName: 'herald-service', hosts: ['127.0.0.1', 'localhost'] });
    const client = ca.issue('chaos', { commonName: 'chaos', usage: 'client', uri: chaosClientIdentity });
    const policyFile = path.join(dir, 'policy.json');
    // The services name themselves by their certificate's first SAN (localhost); nobody else is bound.
    writeFileSync(
      policyFile,
      JSON.stringify({ herald: [{ role: 'admin', members: ['mtls:localhost', `mtls:${chaosClientIdentity}`] }] }),
    );
    return new ChaosSecurity(ca, policyFile, client, server);
  }

  /** The services' environment: TLS, mTLS required, certificate identities, the policy file. */
  serviceEnv(): Record<string, string> {
    return securedServiceEnv({ ca: this.ca, server: this.server, policyFile: this.policyFile });
  }

  /** Channel credentials of the chaos process's clients (the SDK's and raw ones): TLS with its certificate. */
  clientCredentials(): ChannelCredentials {
    const read = (file: string) => readFileSync(file);
    return credentials.createSsl(read(this.ca.caFile), read(this.client.keyFile), read(this.client.certFile));
  }

  /** Removes the certificates and keys. */
  remove(): void {
    this.ca.remove();
  }
}

/** How the chaos process's clients reach a deployment: plaintext, or TLS with its client certificate. */
export function clientCredentials(security: ChaosSecurity | undefined): ChannelCredentials {
  return security ? security.clientCredentials() : credentials.createInsecure();
}
