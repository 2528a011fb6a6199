import { readFileSync } from 'node:fs';
import { ConfigError, TokenFile, bool, hostPorts, int, port, readEnv, str } from '@herald/config';
import type { TlsOptions } from '@herald/client';

/** Every variable the console reads, with its default. */
export const consoleEnv = {
  CONSOLE_HOST: str({ default: '127.0.0.1', desc: 'Address the HTTP server binds; 0.0.0.0 in containers' }),
  CONSOLE_PORT: port({ default: 9470, desc: 'HTTP port of the page and its JSON API' }),
  REGISTRY_ADDRESSES: hostPorts({
    default: ['127.0.0.1:50052'],
    desc: 'Every subscriber-registry instance, comma-separated host:port',
  }),
  DISPATCHER_ADDRESSES: hostPorts({
    default: ['127.0.0.1:50053'],
    desc: 'Every dispatcher instance, comma-separated host:port',
  }),
  PUBLISHER_ADDRESSES: hostPorts({
    default: ['127.0.0.1:50051'],
    desc: 'Every publisher instance, comma-separated host:port (test messages from the page)',
  }),
  PUBLISHER_METRICS_URLS: str({
    default: '',
    desc: 'Every publisher’s /metrics URL, comma-separated, for the topics’ publish rates; empty: no rates shown',
  }),
  CONSOLE_STATS_INTERVAL_MS: int(
    500,
    60_000,
  )({
    default: 2_000,
    desc: 'How often the figures of a subscription someone is looking at are sampled for its charts',
  }),
  CONSOLE_WEB_DIR: str({
    default: '',
    desc: 'Folder of the built page; empty means dist/web beside the server',
  }),
  HERALD_TLS: bool({
    default: false,
    desc: 'Call the services over TLS, trusting the system’s CAs; on as well when HERALD_TLS_CA or a client certificate is set',
  }),
  HERALD_TLS_CA: str({ default: '', desc: 'PEM file of the CAs that sign the services’ certificates' }),
  HERALD_TLS_CLIENT_CERT: str({
    default: '',
    desc: 'PEM file of the console’s client certificate, for services that require mTLS; needs HERALD_TLS_CLIENT_KEY',
  }),
  HERALD_TLS_CLIENT_KEY: str({ default: '', desc: 'PEM file of HERALD_TLS_CLIENT_CERT’s private key' }),
  HERALD_TOKEN_FILE: str({
    default: '',
    desc: 'File holding the console’s own bearer token (re-read on each call), for its registry watch and figures; needs TLS',
  }),
  CONSOLE_SIGN_IN: bool({
    default: false,
    desc: 'Operators sign in with their own bearer token (needs TLS): every page and action is then served with it, and the services check it',
  }),
  LOG_LEVEL: str({
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    desc: 'Least severe level that is logged',
  }),
};

export type ConsoleConfig = ReturnType<typeof readConsoleConfig>;

export function readConsoleConfig(env: NodeJS.ProcessEnv = process.env) {
  const config = readEnv(consoleEnv, env);
  const tlsOn = config.HERALD_TLS || config.HERALD_TLS_CA !== '' || config.HERALD_TLS_CLIENT_CERT !== '';
  if (!tlsOn && config.CONSOLE_SIGN_IN) {
    throw new ConfigError({
      CONSOLE_SIGN_IN: 'needs TLS to the services (HERALD_TLS or HERALD_TLS_CA): tokens are never sent in plaintext',
    });
  }
  if (!tlsOn && config.HERALD_TOKEN_FILE !== '') {
    throw new ConfigError({ HERALD_TOKEN_FILE: 'needs TLS to the services (HERALD_TLS or HERALD_TLS_CA)' });
  }
  if ((config.HERALD_TLS_CLIENT_CERT === '') !== (config.HERALD_TLS_CLIENT_KEY === '')) {
    throw new ConfigError({ HERALD_TLS_CLIENT_CERT: 'and HERALD_TLS_CLIENT_KEY go together' });
  }
  return config;
}

/** How the console reaches the services: TLS (absent: plaintext) and its own token, read from config. */
export function connectionSecurity(config: ConsoleConfig): { tls?: TlsOptions; ownToken?: () => string } {
  const tlsOn = config.HERALD_TLS || config.HERALD_TLS_CA !== '' || config.HERALD_TLS_CLIENT_CERT !== '';
  if (!tlsOn) return {};
  const read = (file: string) => (file === '' ? undefined : readFileSync(file));
  const tls: TlsOptions = {};
  const ca = read(config.HERALD_TLS_CA);
  if (ca) tls.ca = ca;
  const cert = read(config.HERALD_TLS_CLIENT_CERT);
  const key = read(config.HERALD_TLS_CLIENT_KEY);
  if (cert && key) Object.assign(tls, { cert, key });
  const tokenFile = config.HERALD_TOKEN_FILE;
  if (tokenFile === '') return { tls };
  const ownToken = new TokenFile(tokenFile);
  return { tls, ownToken: () => ownToken.read() };
}
