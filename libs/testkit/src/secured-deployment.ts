import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type JWK, type KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { IssuedCertificate, TestCa } from './test-ca';

/** The issuer and audience the test tokens carry, and the services of a secured test deployment check. */
export const testTokenIssuer = 'https://issuer.herald.test';
export const testTokenAudience = 'herald';

/** Claims and lifetime of a test token; left out, the defaults a secured deployment accepts. */
export interface TestTokenOptions {
  issuer?: string;
  audience?: string;
  /** A jose time span ('10m') or an epoch second. @defaultValue '10m' */
  expiresAt?: string | number;
}

/** An ES256 signing key of the token issuer in tests, with the JWKS file the services read. */
export class TestSigningKey {
  private constructor(
    readonly privateKey: KeyLike,
    readonly jwk: JWK,
  ) {}

  static async create(): Promise<TestSigningKey> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return new TestSigningKey(privateKey, { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' });
  }

  /** Writes a JWKS holding this key to `dir`/jwks.json; returns its path. */
  writeJwks(dir: string): string {
    const file = path.join(dir, 'jwks.json');
    writeFileSync(file, JSON.stringify({ keys: [this.jwk] }));
    return file;
  }

  /** A bearer token for `subject`, signed with this key. */
  sign(subject: string, claims: Record<string, unknown> = {}, options: TestTokenOptions = {}): Promise<string> {
    return new SignJWT({ sub: subject, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(options.issuer ?? testTokenIssuer)
      .setAudience(options.audience ?? testTokenAudience)
      .setIssuedAt()
      .setExpirationTime(options.expiresAt ?? '10m')
      .sign(this.privateKey);
  }
}

/** What a secured test deployment is made of. */
export interface SecuredDeployment {
  ca: TestCa;
  /** The services' certificate: served on every listener and shown on their calls to each other. */
  server: IssuedCertificate;
  /** Role bindings every rpc is checked against. */
  policyFile: string;
  /** When given, bearer tokens verified against this JWKS file are accepted too (issuer and audience above). */
  jwksFile?: string;
}

/**
 * The services' environment of a secured deployment: TLS on every listener
 * and on the services' own calls, client certificates required and verified
 * against the CA, callers named by their certificate (and by token when a
 * JWKS is given), every rpc checked against the policy file.
 */
export function securedServiceEnv(deployment: SecuredDeployment): Record<string, string> {
  const { ca, server, policyFile, jwksFile } = deployment;
  return {
    HERALD_TLS_CERT: server.certFile,
    HERALD_TLS_KEY: server.keyFile,
    HERALD_TLS_CLIENT_CA: ca.caFile,
    HERALD_TLS_CLIENT_AUTH: 'require',
    HERALD_TLS_CA: ca.caFile,
    HERALD_TLS_CLIENT_CERT: server.certFile,
    HERALD_TLS_CLIENT_KEY: server.keyFile,
    ...(jwksFile
      ? {
          HERALD_AUTH_JWKS: jwksFile,
          HERALD_AUTH_ISSUER: testTokenIssuer,
          HERALD_AUTH_AUDIENCE: testTokenAudience,
          HERALD_AUTH_ALGORITHMS: 'ES256',
        }
      : {}),
    HERALD_AUTH_MTLS: 'true',
    HERALD_AUTHZ_POLICY_FILE: policyFile,
  };
}
