import { ConfigError } from '@herald/config';
import { createLogger } from '@herald/logging';
import { startConsole } from './console';
import { connectionSecurity, readConsoleConfig } from './config';

async function main(): Promise<void> {
  let config;
  try {
    config = readConsoleConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger({ service: 'console', level: config.LOG_LEVEL });
  const running = await startConsole({
    endpoints: {
      registry: config.REGISTRY_ADDRESSES,
      dispatcher: config.DISPATCHER_ADDRESSES,
      publisher: config.PUBLISHER_ADDRESSES,
    },
    host: config.CONSOLE_HOST,
    port: config.CONSOLE_PORT,
    statsIntervalMillis: config.CONSOLE_STATS_INTERVAL_MS,
    publisherMetricsUrls: config.PUBLISHER_METRICS_URLS.split(',')
      .map((url) => url.trim())
      .filter((url) => url !== ''),
    ...connectionSecurity(config),
    signIn: config.CONSOLE_SIGN_IN,
    webDir: config.CONSOLE_WEB_DIR,
    log,
  });
  log.info({ url: running.url }, 'console listening');
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void running.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
