import { status } from '@grpc/grpc-js';
import { HeraldClientError } from '@herald/client';
import type { Command } from 'commander';
import { InterruptedError } from '../exit-codes';
import { publishedTable } from '../format-messages';
import { type CliDependencies, withClients } from '../invocation';
import { messageSource, type SourceLine } from '../message-source';
import { collectAttribute } from '../parse';
import { Progress } from '../progress';

/** What became of one input line. */
interface Result {
  line: number;
  /** Set once published. */
  messageId: string | undefined;
  /** Published or failed. */
  settled: boolean;
}

interface PublishOptions {
  file?: string;
  attribute?: Record<string, string>;
  orderingKey?: string;
  idempotencyKey?: string;
}

/** Messages read ahead of their acknowledgement at most: reading pauses beyond it (memory stays flat on big files). */
const maxInFlight = 5_000;

/** Published messages are listed one by one in a table up to this many; beyond, only the summary. */
const maxTableRows = 20;

/** `herald publish`. */
export function registerPublishCommand(program: Command, dependencies: CliDependencies): void {
  program
    .command('publish')
    .description('publish messages to a topic, one per argument or one per line of a file or stdin')
    .argument('<topic>', 'topic name')
    .argument('[messages...]', 'messages; without any, lines are read from --file or stdin')
    .option('-f, --file <path>', 'read messages from a file, one per line ("-" for stdin); blank lines are skipped')
    .option('-a, --attribute <key=value>', 'an attribute of every message (repeat for more)', collectAttribute)
    .option('-k, --ordering-key <key>', 'ordering key of every message')
    .option(
      '-i, --idempotency-key <key>',
      'idempotency key: as given for a single message argument, else <key>-<line> for each line, so that running the same command again publishes nothing twice (default: a random key per message)',
    )
    .action(
      withClients<PublishOptions>(
        dependencies,
        'publisher',
        async ({ out, clients, terminal }, [topic, messages], options) => {
          const args = messages as string[];
          const source = await messageSource(args, options.file, terminal.stdin);
          if (source.description === 'stdin' && terminal.stdinIsTTY) {
            terminal.stderr.write('Reading messages from stdin, one per line; Ctrl-D ends.\n');
          }
          const started = Date.now();
          const progress = new Progress({
            enabled: !out.json && terminal.stdoutIsTTY,
            stream: terminal.progressStream,
            label: 'published',
          });
          const publisher = clients.publisher();
          const keyOf = (line: number) =>
            options.idempotencyKey === undefined
              ? undefined
              : args.length === 1
                ? options.idempotencyKey
                : `${options.idempotencyKey}-${line}`;

          // Results come back batch by batch, possibly out of order; they are reported in input order.
          // Only those not yet reported are kept, so that an endless stdin runs in flat memory.
          const unsettled: Result[] = [];
          const listed: Array<{ line: number; messageId: string }> = [];
          let publishedCount = 0;
          const reportSettled = () => {
            while (unsettled.length > 0 && unsettled[0]!.settled) {
              const { line, messageId } = unsettled.shift()!;
              if (messageId === undefined) continue;
              publishedCount++;
              if (out.json) out.item({ line, messageId }, () => '');
              else if (listed.length <= maxTableRows) listed.push({ line, messageId });
            }
          };
          let failure: { line: number; error: HeraldClientError } | undefined;
          const inFlight = new Set<Promise<void>>();
          const publishOne = ({ line, text }: SourceLine) => {
            const result: Result = { line, messageId: undefined, settled: false };
            unsettled.push(result);
            const done = publisher
              .publish(topic as string, {
                data: text,
                attributes: options.attribute,
                orderingKey: options.orderingKey,
                idempotencyKey: keyOf(line),
              })
              .then(
                (messageId) => {
                  result.messageId = messageId;
                  progress.increment();
                },
                (error: unknown) => {
                  failure ??= { line, error: HeraldClientError.from(error) };
                },
              )
              .finally(() => {
                result.settled = true;
                reportSettled();
                inFlight.delete(done);
              });
            inFlight.add(done);
          };

          // Ctrl-C stops reading at once (a pipe may never end), lets what was sent settle, and says how many made it.
          let interrupted = false;
          let interrupt = () => {};
          const interruption = new Promise<'interrupted'>((resolve) => {
            interrupt = () => {
              interrupted = true;
              resolve('interrupted');
            };
          });
          const stopInterrupt = terminal.onInterrupt(() => interrupt());
          const lines = source.lines[Symbol.asyncIterator]();
          progress.start(source.total);
          try {
            while (!failure) {
              const next = await Promise.race([lines.next(), interruption]);
              if (next === 'interrupted' || next.done === true) break;
              publishOne(next.value);
              if (inFlight.size >= maxInFlight) await Promise.race([...inFlight, interruption]);
              if (interrupted) break;
            }
            await Promise.all(inFlight);
          } finally {
            stopInterrupt();
            progress.stop();
            if (interrupted) {
              // The pending read never ends by itself on an open pipe: close the input so that the process can exit.
              if (source.description === 'stdin') (terminal.stdin as Partial<{ destroy(): void }>).destroy?.();
              void lines.return?.(undefined);
            }
          }
          if (listed.length > 0 && listed.length <= maxTableRows) out.note(publishedTable(listed));
          const seconds = (Date.now() - started) / 1000;
          const plural = publishedCount === 1 ? '' : 's';
          out.note(`Published ${publishedCount} message${plural} to "${topic as string}" in ${seconds.toFixed(1)} s.`);
          if (failure) {
            const { line, error } = failure;
            // Only a message's own fault names its line; NOT_FOUND (no such topic), UNAVAILABLE... concern every line.
            const details =
              error.code === status.INVALID_ARGUMENT ? `${error.details} (${source.where(line)})` : error.details;
            throw new HeraldClientError(error.code, details, { cause: error });
          }
          if (interrupted) {
            throw new InterruptedError(
              `interrupted: published ${publishedCount} message${plural} to "${topic as string}"; the rest of ${source.description} was not read`,
            );
          }
        },
      ),
    );
}
