import { status } from '@grpc/grpc-js';
import { TailRequest } from '@herald/api';
import { HeraldClientError, type StartAt, positionOrTime } from '@herald/client';
import type { Command } from 'commander';
import type { HeraldClients } from '../clients';
import { type DataEncoding, messageJson, messageLine, viewOfProto } from '../format-messages';
import { formatTime } from '../format-resources';
import { type CliDependencies, type Invocation, withClients } from '../invocation';
import { parseDuration, parseInteger, parseStartAt } from '../parse';

interface TailOptions {
  from: StartAt;
  filter?: string;
  count?: number;
  /** Milliseconds. */
  timeout?: number;
  base64?: boolean;
}

/** `herald tail`: the Tail rpc, which the SDK does not wrap, through the generated DispatcherService client. */
export function registerTailCommand(program: Command, dependencies: CliDependencies): void {
  program
    .command('tail')
    .description("print a topic's messages as they are published, without a subscription (Ctrl-C stops)")
    .argument('<topic>', 'topic name')
    .option('--from <position>', 'where to start: earliest, latest or a time', parseStartAt, 'latest' as StartAt)
    .option('--filter <expression>', 'only messages whose attributes match, e.g. \'attributes.region = "eu"\'')
    .option('-n, --count <count>', 'stop after this many messages', (v) => parseInteger(v))
    .option('-t, --timeout <duration>', 'stop after this long, e.g. 30s', parseDuration)
    .option('--base64', 'show data as base64 (for binary payloads)')
    .action(
      withClients<TailOptions>(dependencies, 'dispatcher', async (invocation, [topic], options) => {
        const from = options.from;
        const request = TailRequest.fromPartial({
          topic: topic as string,
          filter: options.filter ?? '',
          start: positionOrTime(from),
        });
        if (!invocation.out.json) {
          const where = from instanceof Date ? formatTime(from) : from;
          invocation.terminal.stderr.write(`Tailing "${topic as string}" from ${where}; Ctrl-C stops.\n`);
        }
        const shown = { count: 0 };
        // An unreachable dispatcher fails at once with UNAVAILABLE: try the next one.
        for (let attempt = 0; ; attempt++) {
          try {
            return await tailOnce(invocation, invocation.clients, request, attempt, options, shown);
          } catch (error) {
            const failure = HeraldClientError.from(error);
            const retry = failure.code === status.UNAVAILABLE && shown.count === 0;
            if (!retry || attempt + 1 >= invocation.clients.dispatcherCount) throw failure;
          }
        }
      }),
    );
}

/** Runs one Tail call until the count, the timeout, Ctrl-C, or the stream's end or failure. */
function tailOnce(
  { out, terminal }: Invocation,
  clients: HeraldClients,
  request: TailRequest,
  attempt: number,
  options: TailOptions,
  shown: { count: number },
): Promise<void> {
  const encoding: DataEncoding = options.base64 ? 'base64' : 'text';
  return new Promise<void>((resolve, reject) => {
    const call = clients.tail(request, attempt);
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopInterrupt();
      if (error) reject(error);
      else resolve();
    };
    // Ending on purpose: the CANCELLED error that follows is ignored.
    const stop = () => {
      settle();
      call.cancel();
    };
    const timer = options.timeout === undefined ? undefined : setTimeout(stop, options.timeout);
    const stopInterrupt = terminal.onInterrupt(stop);
    call.on('data', (response) => {
      for (const proto of response.messages) {
        if (settled) return;
        const message = viewOfProto(proto);
        out.item(messageJson(message, encoding), () => messageLine(message, encoding));
        shown.count++;
        if (options.count !== undefined && shown.count >= options.count) stop();
      }
    });
    call.on('error', (error) => settle(error));
    call.on('end', () => settle());
  });
}
