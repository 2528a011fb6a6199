import { readFileSync } from 'node:fs';
import type { TlsOptions } from '@herald/client';
import { UsageError } from './exit-codes';

/** The flags of TLS and authentication, as given. */
export interface SecurityFlags {
  tls?: boolean;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  token?: string;
}

/** How the CLI's connections are secured: TLS (absent: plaintext) and the bearer token sent on each call. */
export interface ConnectionSecurity {
  tls?: TlsOptions;
  token?: string;
}

/** The environment variable read when each flag is absent. */
export const securityVariables = {
  tls: 'HERALD_TLS',
  tlsCa: 'HERALD_TLS_CA',
  tlsCert: 'HERALD_TLS_CLIENT_CERT',
  tlsKey: 'HERALD_TLS_CLIENT_KEY',
  token: 'HERALD_TOKEN',
} as const;

/**
 * TLS and token from flags, else from their environment variables. TLS is on
 * when any TLS setting is given (`--tls` alone: TLS trusting the system's CAs).
 *
 * @throws UsageError for a file that cannot be read, a certificate without its key, or a token without TLS
 */
export function resolveSecurity(
  flags: SecurityFlags,
  env: Readonly<Record<string, string | undefined>>,
): ConnectionSecurity {
  const pick = (name: keyof typeof securityVariables): string | undefined => {
    const flag = flags[name];
    if (typeof flag === 'string' && flag !== '') return flag;
    const value = env[securityVariables[name]];
    return value === undefined || value === '' ? undefined : value;
  };
  const tlsOn = flags.tls === true || /^(1|true|yes|on)$/i.test(env[securityVariables.tls] ?? '');
  const read = (name: 'tlsCa' | 'tlsCert' | 'tlsKey'): Buffer | undefined => {
    const file = pick(name);
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UsageError(
        `${flag} (${securityVariables[name]}): cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  };
  const ca = read('tlsCa');
  const cert = read('tlsCert');
  const key = read('tlsKey');
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together (HERALD_TLS_CLIENT_CERT, HERALD_TLS_CLIENT_KEY)');
  }
  const token = pick('token');
  const security: ConnectionSecurity = {};
  if (tlsOn || ca || cert) {
    security.tls = { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) };
  }
  if (token !== undefined) {
    if (!security.tls) {
      throw new UsageError(
        'a token (--token, HERALD_TOKEN) needs TLS: add --tls-ca <file> or --tls; it is never sent in plaintext',
      );
    }
    security.token = token.trim();
  }
  return security;
}
