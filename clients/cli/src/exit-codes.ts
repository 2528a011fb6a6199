import { status } from '@grpc/grpc-js';
import { HeraldClientError } from '@herald/client';
import { CommanderError } from 'commander';

/** The command did what it was asked. */
export const EXIT_OK = 0;

/**
 * A usage error: unknown command or option, a bad or missing value, an
 * unreadable input file. Commander's own default is 1, which is gRPC's
 * CANCELLED, so the CLI uses 2, as most Unix tools do. It shares 2 with gRPC's
 * UNKNOWN (failures that are not a gRPC status): either way stderr says what.
 */
export const EXIT_USAGE = 2;

/** Thrown by commands for a mistake in how they were called; exits with {@link EXIT_USAGE}. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * The process exit code for what a command threw: the gRPC status code of a
 * failed call (5 for NOT_FOUND, 14 for UNAVAILABLE...), 0 for `--help` and
 * `--version`, {@link EXIT_USAGE} for usage errors and anything unexpected.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof HeraldClientError) return error.code === status.OK ? status.UNKNOWN : error.code;
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  return EXIT_USAGE;
}

/**
 * The line to print on stderr for what a command threw, or undefined when
 * commander printed it already (it reports its own usage errors).
 */
export function errorLine(error: unknown): string | undefined {
  if (error instanceof CommanderError) return undefined;
  if (error instanceof HeraldClientError) return `herald: ${error.codeName}: ${error.details}`;
  if (error instanceof UsageError) return `herald: error: ${error.message}`;
  return `herald: ${error instanceof Error ? error.message : String(error)}`;
}
