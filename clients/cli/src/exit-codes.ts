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

/** Ctrl-C stopped a command before it had done all it was asked: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** Thrown by a command that Ctrl-C stopped halfway (`herald publish` from a pipe); exits with {@link EXIT_INTERRUPTED}. */
export class InterruptedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InterruptedError';
  }
}

/**
 * The process exit code for what a command threw: the gRPC status code of a
 * failed call (5 for NOT_FOUND, 14 for UNAVAILABLE...), 0 for `--help` and
 * `--version`, {@link EXIT_INTERRUPTED} after Ctrl-C, {@link EXIT_USAGE} for usage errors and anything unexpected.
 */
export function exitCodeFor(thrown: unknown): number {
  const error = plainFailure(thrown);
  if (error instanceof HeraldClientError) return error.code === status.OK ? status.UNKNOWN : error.code;
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (error instanceof InterruptedError) return EXIT_INTERRUPTED;
  return EXIT_USAGE;
}

/**
 * The line to print on stderr for what a command threw, or undefined when
 * commander printed it already (it reports its own usage errors).
 */
export function errorLine(thrown: unknown): string | undefined {
  const error = plainFailure(thrown);
  if (error instanceof CommanderError) return undefined;
  if (error instanceof HeraldClientError) return `herald: ${error.codeName}: ${error.details}`;
  if (error instanceof UsageError) return `herald: error: ${error.message}`;
  if (error instanceof InterruptedError) return `herald: ${error.message}`;
  return `herald: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * A failed call as the CLI reports it: on one line, and grpc-js's wording of
 * connection failures said plainly. A call that never got a connection
 * (grpc-js reports `DEADLINE_EXCEEDED ... Waiting for LB pick` after the
 * deadline) is UNAVAILABLE, as it is when a connection is refused; an empty
 * `Resolution note:` is dropped. Anything else is returned as it is.
 */
export function plainFailure(error: unknown): unknown {
  if (!(error instanceof HeraldClientError)) return error;
  const details = error.details.replace(/\s+/g, ' ').trim();
  const plain = (code: number, text: string) =>
    code === error.code && text === error.details ? error : new HeraldClientError(code, text, { cause: error });
  if (error.code === status.DEADLINE_EXCEEDED && details.includes('LB pick')) {
    const after = /after ([\d.]+)s/.exec(details)?.[1];
    const within = after === undefined ? '' : ` within ${after} s`;
    const remote = /remote_addr=([^,\s]+)/.exec(details)?.[1];
    if (details.includes('Waiting for LB pick') || remote === undefined) {
      return plain(status.UNAVAILABLE, `no connection to the service${within}`);
    }
    return plain(status.DEADLINE_EXCEEDED, `no answer from ${remote}${within}`);
  }
  const refused =
    /No connection established\. Last error: (?:\w*Error: )?connect (\w+) (\S+?)\.?(?: Resolution note:.*)?$/.exec(
      details,
    );
  if (refused) {
    const reason = refused[1] === 'ECONNREFUSED' ? 'connection refused' : refused[1]!;
    return plain(status.UNAVAILABLE, `cannot connect to ${refused[2]} (${reason})`);
  }
  const unresolved = /Name resolution failed for target (?:dns:)?(\S+)/.exec(details);
  if (unresolved) return plain(status.UNAVAILABLE, `cannot resolve the host of ${unresolved[1]} (unknown host)`);
  return plain(error.code, details.replace(/\.? Resolution note: ?$/, ''));
}
