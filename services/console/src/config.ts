import { hostPorts, int, port, readEnv, str } from '@herald/config';

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
  LOG_LEVEL: str({
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    desc: 'Least severe level that is logged',
  }),
};

export type ConsoleConfig = ReturnType<typeof readConsoleConfig>;

export function readConsoleConfig(env: NodeJS.ProcessEnv = process.env) {
  return readEnv(consoleEnv, env);
}
