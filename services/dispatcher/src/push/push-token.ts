import { type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type JWK, SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';

/** How long a token is valid; a cached one is renewed well before it ends. */
const tokenLifetimeSeconds = 3600;
const renewBeforeSeconds = 300;

/** The keys receivers verify push tokens with, as served at `/.well-known/jwks.json`. */
export interface Jwks {
  keys: JWK[];
}

/**
 * Signs the tokens push requests carry (`Authorization: Bearer <JWT>`): `iss`
 * this dispatcher's issuer, `aud` the endpoint (or its audience override),
 * `sub` the subscription, valid an hour. Tokens are cached per audience and
 * subscription and renewed 5 minutes before they end, so a request signs
 * nothing. The key comes from a PEM file (PKCS #8, RSA for RS256 or P-256 for
 * ES256), shared by every dispatcher so that receivers can pin it; without a
 * file each dispatcher makes its own key at start and receivers must fetch the
 * JWKS of each.
 */
export class PushTokens {
  private readonly cache = new Map<string, { token: string; renewAt: number }>();

  private constructor(
    private readonly key: KeyObject,
    private readonly alg: string,
    private readonly kid: string,
    private readonly publicJwk: JWK,
    readonly issuer: string,
    /** Where the key came from, for the start-up log. */
    readonly origin: string,
    private readonly now: () => number,
  ) {}

  /**
   * @param keyFile - PEM file of the private key; empty: an ephemeral RS256 key.
   * @throws Error naming the file when it cannot be read or is not a usable key.
   */
  static async create(keyFile: string, issuer: string, now: () => number = Date.now): Promise<PushTokens> {
    let key: KeyObject;
    let alg: string;
    let origin: string;
    if (keyFile) {
      const pem = await readFile(keyFile, 'utf8').catch((error: Error) => {
        throw new Error(`push signing key ${keyFile} cannot be read: ${error.message}`);
      });
      try {
        key = createPrivateKey(pem);
      } catch (error) {
        throw new Error(`push signing key ${keyFile} is not a PEM private key: ${(error as Error).message}`);
      }
      alg = algorithmOf(key, keyFile);
      origin = keyFile;
    } else {
      ({ privateKey: key } = await generateKeyPair('RS256', { modulusLength: 2048 }));
      alg = 'RS256';
      origin = 'ephemeral';
    }
    const publicJwk = await exportJWK(createPublicKey(key));
    const kid = await calculateJwkThumbprint(publicJwk);
    return new PushTokens(key, alg, kid, { ...publicJwk, kid, alg, use: 'sig' }, issuer, origin, now);
  }

  /** The public key set receivers verify with. */
  jwks(): Jwks {
    return { keys: [this.publicJwk] };
  }

  /** A token for a request to `audience` on behalf of `subscription`. */
  async token(audience: string, subscription: string): Promise<string> {
    const cacheKey = `${subscription}\u0000${audience}`;
    const nowSeconds = Math.floor(this.now() / 1000);
    const cached = this.cache.get(cacheKey);
    if (cached && cached.renewAt > nowSeconds) return cached.token;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: this.alg, kid: this.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(audience)
      .setSubject(subscription)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + tokenLifetimeSeconds)
      .sign(this.key);
    this.cache.set(cacheKey, { token, renewAt: nowSeconds + tokenLifetimeSeconds - renewBeforeSeconds });
    return token;
  }

  /** Drops the cached tokens of a subscription that stopped pushing. */
  forget(subscription: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${subscription}\u0000`)) this.cache.delete(key);
  }
}

function algorithmOf(key: KeyObject, file: string): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error(
    `push signing key ${file} is ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}; use RSA (RS256) or EC P-256 (ES256)`,
  );
}
