#!/usr/bin/env node
/**
 * `make run`: Herald's local stack (libs/devstack's run-local: Kafka and the three services) and the
 * console beside it, on CONSOLE_PORT (9470). The stack's lines are passed through; once it is up,
 * the console starts against its ports and prints its URL. Ctrl-C stops everything; the stack
 * stopping for any reason stops the console too.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createLogger } from '@herald/logging';
import { type RunningConsole, startConsole } from './console';
import { connectionSecurity, readConsoleConfig } from './config';

const say = (line: string) => console.log(`[herald] ${line}`);

function portFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

async function main(): Promise<void> {
  const env = process.env;
  const host = env.CONSOLE_HOST || '127.0.0.1';
  const config = readConsoleConfig({
    ...env,
    REGISTRY_ADDRESSES: `127.0.0.1:${env.REGISTRY_PORT || 50052}`,
    DISPATCHER_ADDRESSES: `127.0.0.1:${env.DISPATCHER_PORT || 50053}`,
    PUBLISHER_ADDRESSES: `127.0.0.1:${env.PUBLISHER_PORT || 50051}`,
    // The stack's publisher serves its metrics here unless they are off: the topics' publish rates.
    PUBLISHER_METRICS_URLS:
      env.PUBLISHER_METRICS_URLS ??
      (env.HERALD_METRICS_ENABLED === 'false'
        ? ''
        : `http://${env.PUBLISHER_HOST || '127.0.0.1'}:${env.PUBLISHER_METRICS_PORT || 9461}/metrics`),
  });
  // Checked before Kafka starts, as the stack checks its own ports: a port in use fails in a second.
  if (!(await portFree(config.CONSOLE_PORT, host))) {
    say(`CONSOLE_PORT ${config.CONSOLE_PORT} on ${host} is in use; set CONSOLE_PORT to a free port`);
    process.exit(1);
  }
  const runLocal = path.resolve(__dirname, '../../../../libs/devstack/dist/src/run-local.js');
  const stack = spawn(process.execPath, [runLocal], { stdio: ['inherit', 'pipe', 'inherit'] });
  let running: RunningConsole | undefined;
  let stopping = false;

  stack.on('exit', (code, signal) => {
    stopping = true;
    void (running?.stop() ?? Promise.resolve()).then(() => process.exit(code ?? (signal ? 1 : 0)));
  });
  // The terminal's Ctrl-C reaches the whole process group, the stack included (which ignores a second
  // one); a signal sent to this process alone is passed on. Either way this process ends when the
  // stack has stopped.
  process.on('SIGINT', () => {
    void running?.stop();
    stack.kill('SIGINT');
  });
  process.on('SIGTERM', () => {
    void running?.stop();
    stack.kill('SIGTERM');
  });

  for await (const line of createInterface({ input: stack.stdout! })) {
    console.log(line);
    if (!line.includes('Ctrl-C stops everything') || running || stopping) continue;
    try {
      running = await startConsole({
        endpoints: {
          registry: config.REGISTRY_ADDRESSES,
          dispatcher: config.DISPATCHER_ADDRESSES,
          publisher: config.PUBLISHER_ADDRESSES,
        },
        host,
        port: config.CONSOLE_PORT,
        statsIntervalMillis: config.CONSOLE_STATS_INTERVAL_MS,
        publisherMetricsUrls: config.PUBLISHER_METRICS_URLS.split(',')
          .map((url) => url.trim())
          .filter((url) => url !== ''),
        ...connectionSecurity(config),
        signIn: config.CONSOLE_SIGN_IN,
        webDir: config.CONSOLE_WEB_DIR,
        log: createLogger({ service: 'console', level: env.LOG_LEVEL || 'warn' }),
      });
      say(`console              ${running.url}`);
    } catch (error) {
      say(`the console did not start: ${error instanceof Error ? error.message : String(error)}`);
      stack.kill('SIGINT');
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
