import { readFileSync } from 'node:fs';
import { makeValidator } from 'envalid';
import { ConfigError, str, unreadableFile } from './env';

/** How Herald's Kafka clients reach the brokers, in the words of Kafka's `security.protocol`. */
export const kafkaSecurityProtocols = ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'] as const;
export type KafkaSecurityProtocol = (typeof kafkaSecurityProtocols)[number];

/** The SASL mechanisms both client libraries speak. */
export const kafkaSaslMechanisms = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type KafkaSaslMechanism = (typeof kafkaSaslMechanisms)[number];

/** TLS settings: PEM files, as librdkafka and Node's TLS both read them. */
export interface KafkaTlsSettings {
  /** CA certificates that signed the brokers' certificates; absent: the system's trusted CAs. */
  caLocation?: string;
  /** Client certificate (mTLS), with {@link keyLocation}. */
  certificateLocation?: string;
  keyLocation?: string;
  /** Passphrase of an encrypted key. */
  keyPassword?: string;
}

export interface KafkaSaslSettings {
  mechanism: KafkaSaslMechanism;
  username: string;
  password: string;
}

/** Everything a Kafka client needs beyond the bootstrap servers to be let in. */
export interface KafkaSecuritySettings {
  protocol: KafkaSecurityProtocol;
  /** Present exactly when the protocol is `ssl` or `sasl_ssl`. */
  tls?: KafkaTlsSettings;
  /** Present exactly when the protocol is `sasl_plaintext` or `sasl_ssl`. */
  sasl?: KafkaSaslSettings;
}

/** One of `choices`, any case in, the case of `choices` out (operators copy `SASL_SSL` from Kafka's docs). */
function caseInsensitiveChoice<T extends string>(choices: readonly T[], allowEmpty: boolean) {
  return makeValidator<T | ''>((input) => {
    const value = input.trim();
    if (value === '' && allowEmpty) return '';
    const match = choices.find((choice) => choice.toLowerCase() === value.toLowerCase());
    if (!match) throw new Error(`must be one of ${choices.join(', ')}`);
    return match;
  });
}

/** Variables of the Kafka clients' TLS and SASL settings; part of {@link commonEnv}. */
export const kafkaSecurityEnv = {
  KAFKA_SECURITY_PROTOCOL: caseInsensitiveChoice(
    kafkaSecurityProtocols,
    false,
  )({
    default: 'plaintext',
    desc: 'How Kafka clients connect: plaintext, ssl (TLS), sasl_plaintext or sasl_ssl (SASL over TLS, as MSK and Confluent Cloud want)',
  }),
  KAFKA_SSL_CA_LOCATION: str({
    default: '',
    desc: 'ssl and sasl_ssl: PEM file of the CAs that signed the brokers’ certificates; empty: the system’s trusted CAs',
  }),
  KAFKA_SSL_CERTIFICATE_LOCATION: str({
    default: '',
    desc: 'ssl and sasl_ssl: PEM file of the client certificate, for brokers that require one (mTLS); needs KAFKA_SSL_KEY_LOCATION',
  }),
  KAFKA_SSL_KEY_LOCATION: str({
    default: '',
    desc: 'PEM file of the client certificate’s private key (mTLS)',
  }),
  KAFKA_SSL_KEY_PASSWORD: str({ default: '', desc: 'Passphrase of an encrypted KAFKA_SSL_KEY_LOCATION' }),
  KAFKA_SSL_KEY_PASSWORD_FILE: str({
    default: '',
    desc: 'File holding KAFKA_SSL_KEY_PASSWORD (a mounted secret); set one or the other',
  }),
  KAFKA_SASL_MECHANISM: caseInsensitiveChoice(
    kafkaSaslMechanisms,
    true,
  )({
    default: '',
    desc: 'sasl_plaintext and sasl_ssl: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (required with those protocols)',
  }),
  KAFKA_SASL_USERNAME: str({ default: '', desc: 'SASL user name (Confluent Cloud: the API key)' }),
  KAFKA_SASL_USERNAME_FILE: str({ default: '', desc: 'File holding KAFKA_SASL_USERNAME; set one or the other' }),
  KAFKA_SASL_PASSWORD: str({
    default: '',
    desc: 'SASL password (Confluent Cloud: the API secret); never logged',
  }),
  KAFKA_SASL_PASSWORD_FILE: str({
    default: '',
    desc: 'File holding KAFKA_SASL_PASSWORD (a mounted secret); set one or the other',
  }),
};

/** The values {@link kafkaSecurity} reads: a service's configuration, which includes {@link commonEnv}. */
export interface KafkaSecurityEnv {
  readonly KAFKA_SECURITY_PROTOCOL: KafkaSecurityProtocol | '';
  readonly KAFKA_SSL_CA_LOCATION: string;
  readonly KAFKA_SSL_CERTIFICATE_LOCATION: string;
  readonly KAFKA_SSL_KEY_LOCATION: string;
  readonly KAFKA_SSL_KEY_PASSWORD: string;
  readonly KAFKA_SSL_KEY_PASSWORD_FILE: string;
  readonly KAFKA_SASL_MECHANISM: KafkaSaslMechanism | '';
  readonly KAFKA_SASL_USERNAME: string;
  readonly KAFKA_SASL_USERNAME_FILE: string;
  readonly KAFKA_SASL_PASSWORD: string;
  readonly KAFKA_SASL_PASSWORD_FILE: string;
}

const tlsVariables = [
  'KAFKA_SSL_CA_LOCATION',
  'KAFKA_SSL_CERTIFICATE_LOCATION',
  'KAFKA_SSL_KEY_LOCATION',
  'KAFKA_SSL_KEY_PASSWORD',
  'KAFKA_SSL_KEY_PASSWORD_FILE',
] as const;
const saslVariables = [
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_USERNAME_FILE',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
] as const;

/**
 * The Kafka clients' TLS and SASL settings from a service's configuration,
 * checked as a whole at start-up: settings the protocol would ignore, a
 * certificate without its key, SASL without credentials, unreadable files.
 * Secrets named by `*_FILE` variables are read here, once.
 *
 * @throws ConfigError naming every variable at fault; never a secret's value.
 */
export function kafkaSecurity(config: KafkaSecurityEnv): KafkaSecuritySettings {
  const problems: Record<string, string> = {};
  const protocol = config.KAFKA_SECURITY_PROTOCOL || 'plaintext';
  const usesTls = protocol === 'ssl' || protocol === 'sasl_ssl';
  const usesSasl = protocol === 'sasl_plaintext' || protocol === 'sasl_ssl';

  if (!usesTls) {
    for (const name of tlsVariables) {
      if (config[name])
        problems[name] = `is set, but KAFKA_SECURITY_PROTOCOL is ${protocol}: TLS settings need ssl or sasl_ssl`;
    }
  }
  if (!usesSasl) {
    for (const name of saslVariables) {
      if (config[name]) {
        problems[name] =
          `is set, but KAFKA_SECURITY_PROTOCOL is ${protocol}: SASL settings need sasl_plaintext or sasl_ssl`;
      }
    }
  }
  if (Object.keys(problems).length > 0) throw new ConfigError(problems);

  const settings: KafkaSecuritySettings = { protocol };
  if (usesTls) {
    const tls: KafkaTlsSettings = {};
    for (const [name, key] of [
      ['KAFKA_SSL_CA_LOCATION', 'caLocation'],
      ['KAFKA_SSL_CERTIFICATE_LOCATION', 'certificateLocation'],
      ['KAFKA_SSL_KEY_LOCATION', 'keyLocation'],
    ] as const) {
      const file = config[name];
      if (!file) continue;
      const unreadable = unreadableFile(file);
      if (unreadable) problems[name] = unreadable;
      else tls[key] = file;
    }
    if (config.KAFKA_SSL_CERTIFICATE_LOCATION && !config.KAFKA_SSL_KEY_LOCATION) {
      problems.KAFKA_SSL_KEY_LOCATION =
        'is required with KAFKA_SSL_CERTIFICATE_LOCATION (a client certificate needs its key)';
    }
    if (config.KAFKA_SSL_KEY_LOCATION && !config.KAFKA_SSL_CERTIFICATE_LOCATION) {
      problems.KAFKA_SSL_CERTIFICATE_LOCATION = 'is required with KAFKA_SSL_KEY_LOCATION (a key needs its certificate)';
    }
    const keyPassword = secret(config, 'KAFKA_SSL_KEY_PASSWORD', problems);
    if (keyPassword !== undefined) {
      if (!config.KAFKA_SSL_KEY_LOCATION) {
        problems[config.KAFKA_SSL_KEY_PASSWORD_FILE ? 'KAFKA_SSL_KEY_PASSWORD_FILE' : 'KAFKA_SSL_KEY_PASSWORD'] =
          'is set without KAFKA_SSL_KEY_LOCATION: there is no key to decrypt';
      } else tls.keyPassword = keyPassword;
    }
    settings.tls = tls;
  }
  if (usesSasl) {
    const mechanism = config.KAFKA_SASL_MECHANISM;
    if (!mechanism) {
      problems.KAFKA_SASL_MECHANISM = `is required with KAFKA_SECURITY_PROTOCOL ${protocol}: ${kafkaSaslMechanisms.join(', ')}`;
    }
    const username = secret(config, 'KAFKA_SASL_USERNAME', problems);
    const password = secret(config, 'KAFKA_SASL_PASSWORD', problems);
    if (username === undefined && !problems.KAFKA_SASL_USERNAME_FILE) {
      problems.KAFKA_SASL_USERNAME = `is required with KAFKA_SECURITY_PROTOCOL ${protocol} (or KAFKA_SASL_USERNAME_FILE)`;
    }
    if (password === undefined && !problems.KAFKA_SASL_PASSWORD_FILE) {
      problems.KAFKA_SASL_PASSWORD = `is required with KAFKA_SECURITY_PROTOCOL ${protocol} (or KAFKA_SASL_PASSWORD_FILE)`;
    }
    if (mechanism && username !== undefined && password !== undefined) {
      settings.sasl = { mechanism, username, password };
    }
  }
  if (Object.keys(problems).length > 0) throw new ConfigError(problems);
  return settings;
}

/**
 * A value given either in `NAME` or in the file `NAME_FILE` names (Kubernetes
 * mounts secrets as files); the file's trailing line break is not part of it.
 * Undefined when neither is set or the file cannot be used (then a problem says why).
 */
function secret(
  config: KafkaSecurityEnv,
  name: 'KAFKA_SSL_KEY_PASSWORD' | 'KAFKA_SASL_USERNAME' | 'KAFKA_SASL_PASSWORD',
  problems: Record<string, string>,
): string | undefined {
  const fileName = `${name}_FILE` as const;
  const file = config[fileName];
  if (config[name] && file) {
    problems[fileName] = `is set together with ${name}: set one or the other`;
    return undefined;
  }
  if (config[name]) return config[name];
  if (!file) return undefined;
  let value: string;
  try {
    value = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    // The error names the file and why (ENOENT, EACCES), never its content.
    problems[fileName] = `cannot be read: ${(error as Error).message}`;
    return undefined;
  }
  if (value === '') {
    problems[fileName] = `names an empty file (${file})`;
    return undefined;
  }
  return value;
}
