import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { GlobalConfig } from '@confluentinc/kafka-javascript';
import type { SASLOptions } from 'kafkajs';

/**
 * How a client is let into the cluster: TLS and SASL settings, the same for
 * both client libraries. Services get it from `@herald/config`'s
 * `kafkaSecurity()`, which checked it at start-up; this library only maps it.
 */
export interface KafkaSecurity {
  protocol: 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';
  /** With `ssl` and `sasl_ssl`: PEM files; no CA means the system's trusted CAs. */
  tls?: {
    caLocation?: string;
    certificateLocation?: string;
    keyLocation?: string;
    keyPassword?: string;
  };
  /** With `sasl_plaintext` and `sasl_ssl`. */
  sasl?: {
    mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
    username: string;
    password: string;
  };
}

const plaintext: KafkaSecurity = { protocol: 'plaintext' };

function usesTls(security: KafkaSecurity): boolean {
  return security.protocol === 'ssl' || security.protocol === 'sasl_ssl';
}

function usesSasl(security: KafkaSecurity): boolean {
  return security.protocol === 'sasl_plaintext' || security.protocol === 'sasl_ssl';
}

/** A SASL protocol without its settings would make either library fall back to a mechanism Herald never set. */
function saslOf(security: KafkaSecurity): NonNullable<KafkaSecurity['sasl']> {
  if (!security.sasl) throw new Error(`Kafka security protocol ${security.protocol} needs SASL settings`);
  return security.sasl;
}

/**
 * librdkafka's settings for `security`. Server certificates are verified,
 * host name included (librdkafka's default, `ssl.endpoint.identification.algorithm=https`);
 * without a CA file librdkafka uses OpenSSL's trusted CAs.
 */
export function librdkafkaSecurityConfig(security: KafkaSecurity = plaintext): GlobalConfig {
  const config: GlobalConfig = { 'security.protocol': security.protocol };
  if (usesTls(security)) {
    const tls = security.tls ?? {};
    if (tls.caLocation) config['ssl.ca.location'] = tls.caLocation;
    if (tls.certificateLocation) config['ssl.certificate.location'] = tls.certificateLocation;
    if (tls.keyLocation) config['ssl.key.location'] = tls.keyLocation;
    if (tls.keyPassword) config['ssl.key.password'] = tls.keyPassword;
  }
  if (usesSasl(security)) {
    const sasl = saslOf(security);
    config['sasl.mechanisms'] = sasl.mechanism;
    config['sasl.username'] = sasl.username;
    config['sasl.password'] = sasl.password;
  }
  return config;
}

/**
 * Node TLS options for `security` (the PEM files read now), or undefined
 * without TLS: what kafkajs's `ssl` and the connectivity probe connect with.
 * Node verifies the server's certificate and host name by default; without a
 * CA file it trusts Node's bundled CAs.
 */
export function tlsConnectionOptions(
  security: KafkaSecurity = plaintext,
  readFile: (file: string) => Buffer = readFileSync,
): ConnectionOptions | undefined {
  if (!usesTls(security)) return undefined;
  const tls = security.tls ?? {};
  const options: ConnectionOptions = {};
  if (tls.caLocation) options.ca = readFile(tls.caLocation);
  if (tls.certificateLocation) options.cert = readFile(tls.certificateLocation);
  if (tls.keyLocation) options.key = readFile(tls.keyLocation);
  if (tls.keyPassword) options.passphrase = tls.keyPassword;
  return options;
}

/** kafkajs's `ssl` and `sasl` options for `security`. */
export function kafkajsSecurityOptions(
  security: KafkaSecurity = plaintext,
  readFile: (file: string) => Buffer = readFileSync,
): { ssl?: ConnectionOptions; sasl?: SASLOptions } {
  const options: { ssl?: ConnectionOptions; sasl?: SASLOptions } = {};
  const ssl = tlsConnectionOptions(security, readFile);
  if (ssl) options.ssl = ssl;
  if (usesSasl(security)) {
    const { mechanism, username, password } = saslOf(security);
    const lower = mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512';
    options.sasl = { mechanism: lower, username, password };
  }
  return options;
}

/** One line for the start-up log: protocol, mechanism, user and files, never a password. */
export function describeKafkaSecurity(security: KafkaSecurity = plaintext): string {
  const parts: string[] = [];
  if (usesSasl(security) && security.sasl) {
    parts.push(`${security.sasl.mechanism} as ${JSON.stringify(security.sasl.username)}`);
  }
  if (usesTls(security)) {
    const tls = security.tls ?? {};
    parts.push(tls.caLocation ? `CA ${tls.caLocation}` : 'system CAs');
    if (tls.certificateLocation) parts.push(`client certificate ${tls.certificateLocation}`);
  }
  const how = security.protocol === 'plaintext' ? 'plaintext, unauthenticated' : security.protocol;
  return parts.length > 0 ? `${how} (${parts.join(', ')})` : how;
}
