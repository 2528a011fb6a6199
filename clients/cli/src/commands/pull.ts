import { status } from '@grpc/grpc-js';
import { HeraldClientError, type ReceivedMessage } from '@herald/client';
import { type Command, Option } from 'commander';
import { formatDuration } from '../format-resources';
import { type DataEncoding, messageJson, messagesTable } from '../format-messages';
import { UsageError } from '../exit-codes';
import { type CliDependencies, withClients } from '../invocation';
import { parseDuration, parseInteger } from '../parse';
import { Progress } from '../progress';

interface PullOptions {
  count: number;
  /** Milliseconds. */
  timeout: number;
  ack?: boolean;
  base64?: boolean;
}

/** With `--ack`, at most this many messages are leased at once; acked ones make room for more. */
const ackWindow = 1_000;
/** The dispatcher's ceiling on max_outstanding_messages. */
const maxOutstandingMessages = 100_000;
/** Received messages are shown in a table up to this many; beyond, the first ones and a count of the rest. */
export const maxTableRows = 20;
/** How long the health check after a short pull may take. */
const healthTimeoutMillis = 2_000;

/** `herald pull`. */
export function registerPullCommand(program: Command, dependencies: CliDependencies): void {
  program
    .command('pull')
    .description("receive a subscription's messages: up to --count of them, or what comes within --timeout")
    .argument('<subscription>', 'subscription name')
    .option('-n, --count <count>', 'stop after this many messages', (v) => parseInteger(v), 10)
    .addOption(
      new Option('-t, --timeout <duration>', 'stop after this long, e.g. 30s or 2m')
        .argParser(parseDuration)
        .default(5_000, '5s'),
    )
    .option('--ack', 'acknowledge the messages received: they are not delivered again')
    .option('--no-ack', 'leave them unacknowledged: they are delivered again once pull ends (the default)')
    .option('--base64', 'show data as base64 (for binary payloads)')
    .action(
      withClients<PullOptions>(
        dependencies,
        'dispatcher',
        async ({ out, clients, terminal }, [subscription], options) => {
          const ack = options.ack === true;
          const encoding: DataEncoding = options.base64 ? 'base64' : 'text';
          if (!ack && options.count > maxOutstandingMessages) {
            throw new UsageError(
              `--count above ${maxOutstandingMessages} needs --ack (unacked messages fill the lease window)`,
            );
          }
          // Without acks nothing makes room, so the lease window must hold them all. With acks, the
          // early ones are acked at once, but only so many that no more than --count can ever arrive.
          const window = Math.min(options.count, ack ? ackWindow : maxOutstandingMessages);
          const subscriber = clients.subscriber({
            subscription: subscription as string,
            flowControl: { maxOutstandingMessages: window },
            closeTimeoutMillis: 0,
          });
          const progress = new Progress({
            enabled: !out.json && terminal.stdoutIsTTY,
            stream: terminal.progressStream,
            label: 'received',
          });
          const received: ReceivedMessage[] = [];
          let ackedEarly = 0;
          let stopped = false;
          let stopInterrupt = () => {};
          let timer: NodeJS.Timeout | undefined;
          progress.start(options.count);
          try {
            await new Promise<void>((resolve, reject) => {
              const stop = () => {
                stopped = true;
                resolve();
              };
              timer = setTimeout(stop, options.timeout);
              stopInterrupt = terminal.onInterrupt(stop);
              subscriber.on('error', reject);
              subscriber.on('message', (message: ReceivedMessage) => {
                // Late ones are left alone: close() gives back whatever is unsettled.
                if (stopped) return;
                received.push(message);
                progress.increment();
                if (out.json) out.item(messageJson(message, encoding), () => '');
                if (ack && ackedEarly < options.count - window) {
                  message.ack();
                  ackedEarly++;
                }
                if (received.length >= options.count) stop();
              });
            });
          } finally {
            stopped = true;
            clearTimeout(timer);
            stopInterrupt();
            progress.stop();
            if (ack) for (const message of received) message.ack();
            await subscriber.close();
          }
          // Fewer messages than asked for may mean an outage rather than an empty subscription: the
          // subscriber reconnects quietly, but the dispatcher's health check says NOT_SERVING then.
          const outage =
            received.length < options.count ? await clients.dispatchersNotServing(healthTimeoutMillis) : undefined;
          const outageError = () =>
            new HeraldClientError(
              status.UNAVAILABLE,
              `no dispatcher is serving: ${outage}; a dispatcher answers NOT_SERVING while Kafka or the registry is out of its reach`,
            );
          if (received.length === 0) {
            if (outage !== undefined) throw outageError();
            out.note(`No messages on "${subscription as string}" within ${formatDuration(options.timeout)}.`);
            return;
          }
          out.note(messagesTable(received.slice(0, maxTableRows), encoding));
          if (received.length > maxTableRows) {
            const more = received.length - maxTableRows;
            out.note(`... and ${more.toLocaleString('en-US')} more not shown (--json prints every message).`);
          }
          const settled = ack ? 'acknowledged' : 'not acknowledged: they will be delivered again';
          out.note(`${received.length} message${received.length === 1 ? '' : 's'}, ${settled}.`);
          if (outage !== undefined) throw outageError();
        },
      ),
    );
}
