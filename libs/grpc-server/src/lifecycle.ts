import type { Logger } from '@herald/logging';

/**
 * Runs `stop` once on SIGTERM or SIGINT, then exits 0 (1 if stopping failed).
 * A second signal, or `stop` taking longer than `timeoutMillis`, exits at once
 * with code 1: an operator's repeated Ctrl-C always wins.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>, timeoutMillis = 30_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal; exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const timer = setTimeout(() => {
      logger.error({ timeoutMillis }, 'stop took too long; exiting');
      process.exit(1);
    }, timeoutMillis);
    timer.unref();
    stop().then(
      () => {
        logger.info('stopped');
        logger.flush?.();
        setImmediate(() => process.exit(0));
      },
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Runs a service's `main`. Anything it throws before the service is up (a bad
 * setting, Kafka unreachable at start) ends the process with code 1 and one
 * JSON line on standard error saying why.
 */
export function runMain(service: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    const line = {
      level: 'fatal',
      time: new Date().toISOString(),
      service,
      msg: 'start-up failed: ' + (error instanceof Error ? error.message : String(error)),
      ...(error instanceof Error && 'problems' in error ? { problems: error.problems } : {}),
    };
    process.stderr.write(JSON.stringify(line) + '\n', () => process.exit(1));
  });
}
