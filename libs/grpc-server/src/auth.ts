import type { PeerCertificate } from 'node:tls';
import {
  Metadata,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  type ServerMethodDefinition,
  ServerInterceptingCall,
  status,
} from '@grpc/grpc-js';
import { type AuthSettings, ReloadedFile } from '@herald/config';
import type { Logger } from '@herald/logging';
import { type JSONWebKeySet, type JWTVerifyGetKey, createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';

/** Who made a call, as authentication established it. */
export interface Principal {
  /** `jwt:<claim value>` or `mtls:<certificate identity>`: what policies bind roles to. */
  id: string;
  method: 'jwt' | 'mtls';
}

/** Authentication failed: the status to answer and a message that never repeats the credentials. */
export class AuthenticationError extends Error {
  constructor(
    message: string,
    readonly code: status = status.UNAUTHENTICATED,
  ) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** A JWKS file, read again when its size or modification time changes (checked at most once a second). */
class FileJwks {
  private readonly keys: ReloadedFile<ReturnType<typeof createLocalJWKSet>>;

  constructor(file: string) {
    this.keys = new ReloadedFile(file, (text) => createLocalJWKSet(JSON.parse(text) as JSONWebKeySet), 1_000);
  }

  readonly getKey: JWTVerifyGetKey = (header, token) => {
    let keys: ReturnType<typeof createLocalJWKSet>;
    try {
      keys = this.keys.read();
    } catch (error) {
      // Reported as jose reports a bad key set, so that the caller gets UNAVAILABLE, not a verdict on the token.
      throw Object.assign(new Error(`cannot read the JWKS file: ${(error as Error).message}`), {
        code: 'ERR_JWKS_INVALID',
      });
    }
    return keys(header, token);
  };
}

/** What a rejected token's error says, by jose's error code: what is wrong, never what the token held. */
const tokenProblems: Record<string, string> = {
  ERR_JWT_EXPIRED: 'the token has expired',
  ERR_JOSE_ALG_NOT_ALLOWED: 'the token is signed with an algorithm that is not accepted',
  ERR_JOSE_NOT_SUPPORTED: 'the token is signed with an algorithm that is not accepted',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'the token signature is not valid',
  ERR_JWKS_NO_MATCHING_KEY: 'the token is signed with a key the issuer does not publish',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'the token does not say which of the issuer’s keys signed it',
  ERR_JWS_INVALID: 'the token is not a well-formed signed JWT',
  ERR_JWT_INVALID: 'the token is not a well-formed JWT',
};

/** The identity in a verified client certificate: its first URI, DNS or e-mail SAN, else its subject CN. */
export function certificateIdentity(certificate: PeerCertificate): string | undefined {
  const names = (certificate.subjectaltname ?? '')
    .split(/,\s*/)
    .map((entry) => /^(URI|DNS|email):(.+)$/.exec(entry.trim()))
    .filter((match): match is RegExpExecArray => match !== null);
  for (const kind of ['URI', 'DNS', 'email']) {
    const found = names.find((match) => match[1] === kind);
    if (found) return found[2];
  }
  const cn = certificate.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn || undefined;
}

/**
 * Checks a call's credentials: a bearer JWT (signature against the issuer's
 * JWKS, algorithm among those allowed, issuer, audience, expiry), or the
 * client certificate the TLS handshake verified.
 */
export class Authenticator {
  private readonly getKey: JWTVerifyGetKey | undefined;

  constructor(
    private readonly settings: AuthSettings,
    private readonly logger: Logger,
  ) {
    const jwt = settings.jwt;
    if (jwt) {
      this.getKey = /^https?:\/\//.test(jwt.jwks)
        ? createRemoteJWKSet(new URL(jwt.jwks), {
            // Keys are fetched again after 10 minutes, and at once (at most every 30 s) for an unknown key id:
            // a rotated-in key is taken without waiting, and a flood of made-up key ids cannot hammer the issuer.
            cacheMaxAge: 600_000,
            cooldownDuration: 30_000,
            timeoutDuration: 5_000,
          })
        : new FileJwks(jwt.jwks).getKey;
    }
  }

  /**
   * The caller, from the `authorization` metadata value and the verified peer certificate.
   *
   * @throws AuthenticationError UNAUTHENTICATED for missing or bad credentials; UNAVAILABLE when the
   * issuer's keys cannot be fetched.
   */
  async authenticate(authorization: string | undefined, peer: PeerCertificate | undefined): Promise<Principal> {
    if (authorization !== undefined && this.getKey && this.settings.jwt) {
      const match = /^Bearer +([^\s]+) *$/i.exec(authorization);
      if (!match) throw new AuthenticationError('the authorization metadata must be "Bearer <token>"');
      return this.verifyToken(match[1]!);
    }
    if (authorization !== undefined && !this.settings.jwt) {
      throw new AuthenticationError('bearer tokens are not accepted here: authenticate with a client certificate');
    }
    if (this.settings.mtls && peer) {
      const identity = certificateIdentity(peer);
      if (identity) return { id: `mtls:${identity}`, method: 'mtls' };
      throw new AuthenticationError('the client certificate names no identity (no URI, DNS or e-mail SAN, no CN)');
    }
    const accepted = [this.settings.jwt && 'a bearer token ("authorization: Bearer <token>")']
      .concat(this.settings.mtls ? ['a client certificate'] : [])
      .filter(Boolean)
      .join(' or ');
    throw new AuthenticationError(`no credentials: send ${accepted}`);
  }

  private async verifyToken(token: string): Promise<Principal> {
    const jwt = this.settings.jwt!;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.getKey!, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: jwt.algorithms,
        clockTolerance: jwt.clockToleranceSeconds,
        requiredClaims: ['exp', jwt.principalClaim],
      }));
    } catch (error) {
      throw this.tokenError(error);
    }
    const name = payload[jwt.principalClaim];
    if (typeof name !== 'string' || name === '') {
      throw new AuthenticationError(`the token's ${jwt.principalClaim} claim is not a non-empty string`);
    }
    return { id: `jwt:${name}`, method: 'jwt' };
  }

  private tokenError(error: unknown): AuthenticationError {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
      const claim = (error as { claim?: unknown }).claim;
      const claimName = typeof claim === 'string' && /^[a-z_]{1,20}$/i.test(claim) ? claim : 'a';
      return new AuthenticationError(`the token's ${claimName} claim is not accepted`);
    }
    if (typeof code === 'string' && tokenProblems[code]) return new AuthenticationError(tokenProblems[code]);
    // The issuer's keys could not be had: a timeout, a refused connection (ECONNREFUSED...), a JWKS that is
    // not one. The caller is not at fault, and may retry.
    const keysUnavailable =
      code === 'ERR_JWKS_TIMEOUT' ||
      code === 'ERR_JWKS_INVALID' ||
      code === 'ERR_JOSE_GENERIC' ||
      (typeof code === 'string' && !code.startsWith('ERR_J'));
    if (keysUnavailable) {
      this.logger.warn(
        { err: { message: (error as Error).message, code }, jwks: this.settings.jwt!.jwks },
        'cannot check tokens: the JWKS cannot be read',
      );
      return new AuthenticationError(
        'cannot check tokens right now: the issuer keys are unavailable',
        status.UNAVAILABLE,
      );
    }
    return new AuthenticationError('the token is not accepted');
  }
}

const principals = new WeakMap<Metadata, Principal>();

/**
 * The authenticated caller of a call, set by {@link authInterceptor}; undefined
 * when authentication is off. Keyed by the call's metadata object, which a
 * client cannot forge, unlike a header.
 */
export function principalOf(call: { metadata: Metadata | undefined }): Principal | undefined {
  if (!call.metadata) return undefined;
  return principals.get(call.metadata);
}

/** Methods callable without credentials: health checks, which kubelets and load balancers make. */
export function isExempt(path: string): boolean {
  return path.startsWith('/grpc.health.v1.Health/');
}

/**
 * Authenticates every call (health checks excepted) before its handler runs;
 * a call without valid credentials ends with UNAUTHENTICATED and never
 * reaches the handler. The `authorization` value is taken out of the metadata
 * the handler sees, so that nothing downstream can log it.
 */
export function authInterceptor(authenticator: Authenticator, logger: Logger): ServerInterceptor {
  return (method: ServerMethodDefinition<unknown, unknown>, call: ServerInterceptingCallInterface) => {
    if (isExempt(method.path)) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            const values = metadata.get('authorization');
            metadata.remove('authorization');
            const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
            const peer = call.getAuthContext().sslPeerCertificate;
            const checked =
              values.length > 1
                ? Promise.reject(new AuthenticationError('more than one authorization metadata value'))
                : authenticator.authenticate(header, peer);
            checked.then(
              (principal) => {
                principals.set(metadata, principal);
                nextMetadata(metadata);
              },
              (error: unknown) => {
                const refusal =
                  error instanceof AuthenticationError
                    ? error
                    : new AuthenticationError('the credentials are not accepted');
                logger.debug({ method: method.path, code: refusal.code, reason: refusal.message }, 'call refused');
                call.sendStatus({ code: refusal.code, details: refusal.message, metadata: new Metadata() });
              },
            );
          },
        }),
    });
  };
}
