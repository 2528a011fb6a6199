import { status } from '@grpc/grpc-js';
import { HeraldClientError } from '@herald/client';
import type { Command } from 'commander';
import { connectClients, type ConnectOptions, type HeraldClients } from './clients';
import { type Endpoints, type ServiceKind, resolveEndpoints } from './endpoints';
import { type SecurityFlags, resolveSecurity } from './security';
import { Output } from './output';
import type { Terminal } from './terminal';

/** What the CLI runs with: the process's terminal and how it connects (tests give fakes of both). */
export interface CliDependencies {
  terminal: Terminal;
  /** @defaultValue {@link connectClients}, Herald's SDK */
  connect?: (endpoints: Endpoints, options: ConnectOptions) => HeraldClients;
}

/** The options every command takes (declared on the program). */
export interface GlobalOptions extends SecurityFlags {
  registry?: string;
  publisher?: string;
  dispatcher?: string;
  json?: boolean;
  /** Milliseconds. */
  retryTimeout: number;
}

/** What a command's handler works with. */
export interface Invocation {
  out: Output;
  clients: HeraldClients;
  terminal: Terminal;
  /** The options every command takes, as given. */
  globals: GlobalOptions;
}

/** How long the first connection to the service a command needs may take before the command fails. */
export const connectTimeoutMillis = 3_000;

/**
 * A commander action that resolves endpoints from flags and environment,
 * connects, checks that the service it `needs` accepts connections (else it
 * fails at once with UNAVAILABLE, naming the addresses), runs `handler` with
 * the command's parsed arguments and options, and closes every connection
 * afterwards, whatever happened.
 */
export function withClients<Options>(
  dependencies: CliDependencies,
  needs: ServiceKind,
  handler: (invocation: Invocation, args: unknown[], options: Options) => Promise<void>,
): (...params: unknown[]) => Promise<void> {
  return async (...params) => {
    const command = params[params.length - 1] as Command;
    const globals = command.optsWithGlobals<GlobalOptions>();
    const terminal = dependencies.terminal;
    const endpoints = resolveEndpoints(globals, terminal.env);
    const security = resolveSecurity(globals, terminal.env);
    const clients = (dependencies.connect ?? connectClients)(endpoints, {
      retryTimeoutMillis: globals.retryTimeout,
      security,
    });
    const out = new Output(terminal.stdout, globals.json === true);
    try {
      const unreachable = await clients.unreachable(needs, connectTimeoutMillis);
      if (unreachable !== undefined) throw new HeraldClientError(status.UNAVAILABLE, unreachable);
      await handler({ out, clients, terminal, globals }, command.processedArgs, command.opts() as Options);
    } finally {
      await clients.close();
    }
  };
}
