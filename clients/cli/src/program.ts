/**
 * The `herald` command line: its commands, and {@link run}, which parses
 * arguments, runs one command and says what the process exits with.
 *
 * @packageDocumentation
 */
import { Command, Option } from 'commander';
import { registerDeadLetterCommands } from './commands/dlq';
import { registerPublishCommand } from './commands/publish';
import { registerPullCommand } from './commands/pull';
import { registerSubscriptionCommands } from './commands/subs';
import { registerTailCommand } from './commands/tail';
import { registerIamCommands } from './commands/iam';
import { registerTopicCommands } from './commands/topics';
import { defaultEndpoints, endpointVariables } from './endpoints';
import { EXIT_OK, errorLine, exitCodeFor } from './exit-codes';
import type { CliDependencies } from './invocation';
import { parseDuration } from './parse';

export type { CliDependencies } from './invocation';
export type { Terminal, Writer } from './terminal';
export { processTerminal } from './terminal';

const exitCodesHelp = `
Exit codes: 0 success; 2 a usage error (or a failure with no gRPC status);
130 stopped by Ctrl-C before the end (publish, dlq redrive); otherwise the
gRPC status code of the failed call: 3 INVALID_ARGUMENT, 5 NOT_FOUND,
6 ALREADY_EXISTS, 7 PERMISSION_DENIED, 9 FAILED_PRECONDITION, 10 ABORTED (an IAM policy
changed since its etag was read), 8 RESOURCE_EXHAUSTED, 4 DEADLINE_EXCEEDED, and
14 UNAVAILABLE: a Herald service cannot be reached (within 3 s), or it cannot
reach Kafka; pull exits 14 too when no dispatcher is serving.`;

/** Builds the `herald` program; nothing runs until it parses arguments. */
export function buildProgram(dependencies: CliDependencies): Command {
  const { terminal } = dependencies;
  const endpointHelp = (kind: keyof typeof endpointVariables) =>
    `${kind} endpoints, host:port[,host:port...] (default: $${endpointVariables[kind]} or ${defaultEndpoints[kind].join(',')})`;
  const program = new Command('herald')
    .description("Herald's command line: topics, subscriptions, publish, pull, tail and dead letters")
    .version('0.1.0')
    // Before any subcommand: commander copies these settings into the subcommands it creates.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => terminal.stdout.write(text),
      writeErr: (text) => terminal.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .option('--registry <endpoints>', endpointHelp('registry'))
    .option('--publisher <endpoints>', endpointHelp('publisher'))
    .option('--dispatcher <endpoints>', endpointHelp('dispatcher'))
    .option('--json', 'print JSON, one object per line, for scripts')
    .option('--tls', 'connect with TLS, trusting the system CAs (default: $HERALD_TLS; on with any --tls-* option)')
    .option('--tls-ca <file>', 'PEM file of the CAs that sign the services’ certificates (default: $HERALD_TLS_CA)')
    .option(
      '--tls-cert <file>',
      'PEM client certificate, for services that require one (default: $HERALD_TLS_CLIENT_CERT)',
    )
    .option('--tls-key <file>', 'PEM key of --tls-cert (default: $HERALD_TLS_CLIENT_KEY)')
    .option(
      '--token <jwt>',
      'bearer token sent with every call; needs TLS (default: $HERALD_TOKEN, which ps cannot show)',
    )
    .addOption(
      new Option(
        '--retry-timeout <duration>',
        'how long to retry calls that failed with a retryable status (UNAVAILABLE...)',
      )
        .argParser(parseDuration)
        .default(15_000, '15s'),
    )
    .addHelpText('after', exitCodesHelp);
  registerTopicCommands(program, dependencies);
  registerSubscriptionCommands(program, dependencies);
  registerPublishCommand(program, dependencies);
  registerPullCommand(program, dependencies);
  registerTailCommand(program, dependencies);
  registerDeadLetterCommands(program, dependencies);
  registerIamCommands(program, dependencies);
  return program;
}

/**
 * Runs `herald` with `argv` (the arguments after the program name) and
 * resolves with the exit code; errors are written to the terminal's stderr.
 */
export async function run(argv: string[], dependencies: CliDependencies): Promise<number> {
  try {
    await buildProgram(dependencies).parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    const line = errorLine(error);
    if (line !== undefined) dependencies.terminal.stderr.write(`${line}\n`);
    return exitCodeFor(error);
  }
}
