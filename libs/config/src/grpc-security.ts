import { makeValidator } from 'envalid';
import { ConfigError, bool, int, str, unreadableFile } from './env';

/** Whether the server asks for, and checks, client certificates. */
export const tlsClientAuthModes = ['none', 'optional', 'require'] as const;
export type TlsClientAuth = (typeof tlsClientAuthModes)[number];

/**
 * Signature algorithms a JWT may use. Only asymmetric ones: a JWKS is public,
 * so an HMAC key in it would let anyone who reads it sign tokens.
 */
export const jwtAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** A comma-separated list, possibly empty. */
const optionalList = makeValidator<string[]>((input) =>
  input
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

/** Variables of the gRPC listeners' TLS, the services' own calls to each other, and authentication. */
export const grpcSecurityEnv = {
  HERALD_TLS_CERT: str({
    default: '',
    desc: 'PEM file of the gRPC server certificate (with its chain); set with HERALD_TLS_KEY to serve TLS. Reloaded when it changes',
  }),
  HERALD_TLS_KEY: str({ default: '', desc: 'PEM file of HERALD_TLS_CERT’s private key; reloaded when it changes' }),
  HERALD_TLS_CLIENT_CA: str({
    default: '',
    desc: 'PEM file of the CAs that sign client certificates (mTLS); needs HERALD_TLS_CLIENT_AUTH optional or require',
  }),
  HERALD_TLS_CLIENT_AUTH: str({
    default: 'none',
    choices: tlsClientAuthModes,
    desc: 'Client certificates: none, optional (checked against HERALD_TLS_CLIENT_CA when sent) or require (mTLS: connections without one are refused)',
  }),
  HERALD_TLS_RELOAD_INTERVAL_MS: int(
    100,
    3_600_000,
  )({
    default: 10_000,
    desc: 'How often the TLS files are checked for changes; a renewed certificate is used for new connections, open ones keep theirs',
  }),
  HERALD_PLAINTEXT: bool({
    default: false,
    desc: 'Serve plaintext gRPC on a non-loopback address (behind a TLS-terminating proxy or mesh). Without TLS files and without this, a service serves plaintext on loopback only',
  }),
  HERALD_TLS_CA: str({
    default: '',
    desc: 'Calls to other Herald services: PEM file of the CAs that sign their certificates; empty: the system’s. Those calls use TLS when this is set or HERALD_TLS_CERT is',
  }),
  HERALD_TLS_CLIENT_CERT: str({
    default: '',
    desc: 'Calls to other Herald services: PEM file of this service’s client certificate (for peers that require mTLS); needs HERALD_TLS_CLIENT_KEY',
  }),
  HERALD_TLS_CLIENT_KEY: str({ default: '', desc: 'PEM file of HERALD_TLS_CLIENT_CERT’s private key' }),
  HERALD_TOKEN_FILE: str({
    default: '',
    desc: 'Calls to other Herald services: file holding the bearer token this service sends (re-read when it changes); needs TLS to them',
  }),
  HERALD_AUTH_JWKS: str({
    default: '',
    desc: 'Turns on bearer-token authentication: JWKS of the token issuer’s public keys, an https:// URL (cached, fetched again for an unknown key id) or a file (re-read when it changes)',
  }),
  HERALD_AUTH_ISSUER: str({ default: '', desc: 'The iss every token must carry (required with HERALD_AUTH_JWKS)' }),
  HERALD_AUTH_AUDIENCE: optionalList({
    default: [],
    desc: 'Comma-separated aud values; a token must carry one (required with HERALD_AUTH_JWKS)',
  }),
  HERALD_AUTH_ALGORITHMS: optionalList({
    default: ['RS256', 'ES256', 'EdDSA'],
    desc: `Signature algorithms tokens may use, among ${jwtAlgorithms.join(', ')} (never none or HS*)`,
  }),
  HERALD_AUTH_CLOCK_TOLERANCE_S: int(0, 600)({ default: 30, desc: 'Leeway on exp and nbf, in seconds' }),
  HERALD_AUTH_PRINCIPAL_CLAIM: str({
    default: 'sub',
    desc: 'Claim naming the caller; the principal is jwt:<value>',
  }),
  HERALD_AUTHZ_POLICY_FILE: str({
    default: '',
    desc: "Turns on authorisation: JSON file of role bindings on Herald, topics and subscriptions (the first admin, the services' identities), to which the IAM policies set through the API add (README, Security); re-read when it changes. Needs authentication",
  }),
  HERALD_QUOTA_PUBLISH_MESSAGES_PER_S: int(
    0,
    10_000_000,
  )({
    default: 0,
    desc: 'Messages each principal may publish per second (through this instance); over it, RESOURCE_EXHAUSTED with retry-after-ms. 0: no limit. Needs authentication',
  }),
  HERALD_QUOTA_PUBLISH_BYTES_PER_S: int(
    0,
    10_000_000_000,
  )({
    default: 0,
    desc: 'Bytes (data, attributes, keys) each principal may publish per second (through this instance); 0: no limit. Needs authentication',
  }),
  HERALD_QUOTA_STREAMS: int(
    0,
    1_000_000,
  )({
    default: 0,
    desc: 'Streams (StreamingPull, PublishStream, Tail, Watch, RedriveDeadLetters) each principal may hold open on this instance; 0: no limit. Needs authentication',
  }),
  HERALD_AUTH_MTLS: bool({
    default: false,
    desc: 'Turns on client-certificate authentication: a verified client certificate names the caller (mtls:<first URI, DNS or e-mail SAN, else subject CN>); needs HERALD_TLS_CLIENT_AUTH optional or require',
  }),
};

/** The values {@link grpcSecurityEnv} yields. */
export interface GrpcSecurityEnv {
  HERALD_TLS_CERT: string;
  HERALD_TLS_KEY: string;
  HERALD_TLS_CLIENT_CA: string;
  HERALD_TLS_CLIENT_AUTH: string;
  HERALD_TLS_RELOAD_INTERVAL_MS: number;
  HERALD_PLAINTEXT: boolean;
  HERALD_TLS_CA: string;
  HERALD_TLS_CLIENT_CERT: string;
  HERALD_TLS_CLIENT_KEY: string;
  HERALD_TOKEN_FILE: string;
  HERALD_AUTH_JWKS: string;
  HERALD_AUTH_ISSUER: string;
  HERALD_AUTH_AUDIENCE: string[];
  HERALD_AUTH_ALGORITHMS: string[];
  HERALD_AUTH_CLOCK_TOLERANCE_S: number;
  HERALD_AUTH_PRINCIPAL_CLAIM: string;
  HERALD_AUTH_MTLS: boolean;
  HERALD_AUTHZ_POLICY_FILE: string;
  HERALD_QUOTA_PUBLISH_MESSAGES_PER_S: number;
  HERALD_QUOTA_PUBLISH_BYTES_PER_S: number;
  HERALD_QUOTA_STREAMS: number;
}

/** TLS of a gRPC listener: PEM files, re-read every `reloadIntervalMillis`. */
export interface ServerTlsSettings {
  certFile: string;
  keyFile: string;
  /** CAs that sign client certificates; present when clientAuth is not `none`. */
  clientCaFile?: string;
  clientAuth: TlsClientAuth;
  reloadIntervalMillis: number;
}

/** How calls to the service are authenticated; absent when anyone may call. */
export interface AuthSettings {
  jwt?: {
    /** An `https://` (or `http://` on loopback) URL, or a file path. */
    jwks: string;
    issuer: string;
    audience: string[];
    algorithms: string[];
    clockToleranceSeconds: number;
    principalClaim: string;
  };
  /** A verified client certificate names the caller. */
  mtls: boolean;
}

/** Everything a service needs to build its listener and the credentials of its calls to other services. */
export interface GrpcSecuritySettings {
  /** Absent: plaintext (on loopback, or with HERALD_PLAINTEXT). */
  serverTls?: ServerTlsSettings;
  /** Present when calls to other services use TLS. */
  peerTls?: { caFile?: string; certFile?: string; keyFile?: string; reloadIntervalMillis: number };
  /** A file holding the bearer token sent to other services. */
  peerTokenFile?: string;
  auth?: AuthSettings;
  /** The role bindings in force; absent: any authenticated caller may make any call. */
  authzPolicyFile?: string;
  /** Limits per principal (0: none); absent when none is set. */
  quotas?: { publishMessagesPerSecond: number; publishBytesPerSecond: number; streams: number };
}

/** Whether `host` only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * Checks the gRPC security variables together and returns what they mean for
 * a service listening on `host`.
 *
 * @throws ConfigError naming every inconsistent variable: a certificate
 * without its key, client authentication without a CA, plaintext on a
 * non-loopback address without HERALD_PLAINTEXT, a token without TLS, `none`
 * or HS* algorithms...
 */
export function grpcSecurity(env: GrpcSecurityEnv, host: string): GrpcSecuritySettings {
  const problems: Record<string, string> = {};
  const checkFile = (name: keyof GrpcSecurityEnv) => {
    const value = env[name];
    if (typeof value === 'string' && value !== '') {
      const problem = unreadableFile(value);
      if (problem) problems[name] = problem;
    }
  };
  for (const name of [
    'HERALD_TLS_CERT',
    'HERALD_TLS_KEY',
    'HERALD_TLS_CLIENT_CA',
    'HERALD_TLS_CA',
    'HERALD_TLS_CLIENT_CERT',
    'HERALD_TLS_CLIENT_KEY',
    'HERALD_TOKEN_FILE',
    'HERALD_AUTHZ_POLICY_FILE',
  ] as const) {
    checkFile(name);
  }
  const serving = env.HERALD_TLS_CERT !== '' || env.HERALD_TLS_KEY !== '';
  if (env.HERALD_TLS_CERT !== '' && env.HERALD_TLS_KEY === '')
    problems.HERALD_TLS_KEY = 'is required with HERALD_TLS_CERT';
  if (env.HERALD_TLS_KEY !== '' && env.HERALD_TLS_CERT === '')
    problems.HERALD_TLS_CERT = 'is required with HERALD_TLS_KEY';
  const clientAuth = env.HERALD_TLS_CLIENT_AUTH as TlsClientAuth;
  if (clientAuth !== 'none' && env.HERALD_TLS_CLIENT_CA === '') {
    problems.HERALD_TLS_CLIENT_CA = `is required with HERALD_TLS_CLIENT_AUTH ${clientAuth}`;
  }
  if (clientAuth === 'none' && env.HERALD_TLS_CLIENT_CA !== '') {
    problems.HERALD_TLS_CLIENT_AUTH = 'is none while HERALD_TLS_CLIENT_CA is set: say optional or require';
  }
  if (!serving && (clientAuth !== 'none' || env.HERALD_TLS_CLIENT_CA !== '')) {
    problems.HERALD_TLS_CERT = 'is required for client certificates (HERALD_TLS_CLIENT_AUTH, HERALD_TLS_CLIENT_CA)';
  }
  if (!serving && !env.HERALD_PLAINTEXT && !isLoopbackHost(host)) {
    problems.HERALD_TLS_CERT =
      `is required to listen on ${host}: set HERALD_TLS_CERT and HERALD_TLS_KEY, ` +
      'or HERALD_PLAINTEXT=true to serve plaintext (behind a TLS-terminating proxy)';
  }
  if (serving && env.HERALD_PLAINTEXT) problems.HERALD_PLAINTEXT = 'is true while HERALD_TLS_CERT is set: choose one';
  if ((env.HERALD_TLS_CLIENT_CERT !== '') !== (env.HERALD_TLS_CLIENT_KEY !== '')) {
    const missing = env.HERALD_TLS_CLIENT_CERT === '' ? 'HERALD_TLS_CLIENT_CERT' : 'HERALD_TLS_CLIENT_KEY';
    const other = missing === 'HERALD_TLS_CLIENT_CERT' ? 'HERALD_TLS_CLIENT_KEY' : 'HERALD_TLS_CLIENT_CERT';
    problems[missing] = `is required with ${other}`;
  }
  const peerTls = serving || env.HERALD_TLS_CA !== '' || env.HERALD_TLS_CLIENT_CERT !== '';
  if (env.HERALD_TOKEN_FILE !== '' && !peerTls) {
    problems.HERALD_TOKEN_FILE =
      'needs TLS to the other services (HERALD_TLS_CA or HERALD_TLS_CERT): a token is never sent in plaintext';
  }

  let auth: AuthSettings | undefined;
  if (env.HERALD_AUTH_JWKS !== '') {
    const jwks = env.HERALD_AUTH_JWKS;
    if (/^https?:\/\//.test(jwks)) {
      const url = new URL(jwks);
      if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
        problems.HERALD_AUTH_JWKS = 'must be an https:// URL (http:// only on loopback)';
      }
    } else {
      const problem = unreadableFile(jwks);
      if (problem) problems.HERALD_AUTH_JWKS = problem;
    }
    if (env.HERALD_AUTH_ISSUER === '') problems.HERALD_AUTH_ISSUER = 'is required with HERALD_AUTH_JWKS';
    if (env.HERALD_AUTH_AUDIENCE.length === 0) problems.HERALD_AUTH_AUDIENCE = 'is required with HERALD_AUTH_JWKS';
    const bad = env.HERALD_AUTH_ALGORITHMS.filter((alg) => !jwtAlgorithms.includes(alg));
    if (bad.length > 0) {
      problems.HERALD_AUTH_ALGORITHMS = `lists ${bad.join(', ')}: only ${jwtAlgorithms.join(', ')} are accepted`;
    } else if (env.HERALD_AUTH_ALGORITHMS.length === 0) {
      problems.HERALD_AUTH_ALGORITHMS = 'must list at least one algorithm';
    }
    auth = {
      jwt: {
        jwks,
        issuer: env.HERALD_AUTH_ISSUER,
        audience: env.HERALD_AUTH_AUDIENCE,
        algorithms: env.HERALD_AUTH_ALGORITHMS,
        clockToleranceSeconds: env.HERALD_AUTH_CLOCK_TOLERANCE_S,
        principalClaim: env.HERALD_AUTH_PRINCIPAL_CLAIM,
      },
      mtls: env.HERALD_AUTH_MTLS,
    };
  } else {
    for (const name of ['HERALD_AUTH_ISSUER'] as const) {
      if (env[name] !== '') problems[name] = 'is set without HERALD_AUTH_JWKS';
    }
    if (env.HERALD_AUTH_AUDIENCE.length > 0) problems.HERALD_AUTH_AUDIENCE = 'is set without HERALD_AUTH_JWKS';
    if (env.HERALD_AUTH_MTLS) auth = { mtls: true };
  }
  if (env.HERALD_AUTHZ_POLICY_FILE !== '' && !auth) {
    problems.HERALD_AUTHZ_POLICY_FILE =
      'needs authentication (HERALD_AUTH_JWKS or HERALD_AUTH_MTLS): without it no caller has a name';
  }
  const quotas = {
    publishMessagesPerSecond: env.HERALD_QUOTA_PUBLISH_MESSAGES_PER_S,
    publishBytesPerSecond: env.HERALD_QUOTA_PUBLISH_BYTES_PER_S,
    streams: env.HERALD_QUOTA_STREAMS,
  };
  const quotasSet = Object.values(quotas).some((limit) => limit > 0);
  if (quotasSet && !auth) {
    for (const name of [
      'HERALD_QUOTA_PUBLISH_MESSAGES_PER_S',
      'HERALD_QUOTA_PUBLISH_BYTES_PER_S',
      'HERALD_QUOTA_STREAMS',
    ] as const) {
      if (env[name] > 0)
        problems[name] = 'needs authentication (HERALD_AUTH_JWKS or HERALD_AUTH_MTLS): quotas are per principal';
    }
  }
  if (env.HERALD_AUTH_MTLS && clientAuth === 'none') {
    problems.HERALD_AUTH_MTLS = 'needs client certificates: HERALD_TLS_CLIENT_AUTH optional or require';
  }
  if (Object.keys(problems).length > 0) throw new ConfigError(problems);

  const settings: GrpcSecuritySettings = {};
  if (serving) {
    settings.serverTls = {
      certFile: env.HERALD_TLS_CERT,
      keyFile: env.HERALD_TLS_KEY,
      clientAuth,
      reloadIntervalMillis: env.HERALD_TLS_RELOAD_INTERVAL_MS,
      ...(env.HERALD_TLS_CLIENT_CA ? { clientCaFile: env.HERALD_TLS_CLIENT_CA } : {}),
    };
  }
  if (peerTls) {
    settings.peerTls = {
      reloadIntervalMillis: env.HERALD_TLS_RELOAD_INTERVAL_MS,
      ...(env.HERALD_TLS_CA ? { caFile: env.HERALD_TLS_CA } : {}),
      ...(env.HERALD_TLS_CLIENT_CERT
        ? { certFile: env.HERALD_TLS_CLIENT_CERT, keyFile: env.HERALD_TLS_CLIENT_KEY }
        : {}),
    };
  }
  if (env.HERALD_TOKEN_FILE) settings.peerTokenFile = env.HERALD_TOKEN_FILE;
  if (auth) settings.auth = auth;
  if (env.HERALD_AUTHZ_POLICY_FILE) settings.authzPolicyFile = env.HERALD_AUTHZ_POLICY_FILE;
  if (quotasSet) settings.quotas = quotas;
  return settings;
}
