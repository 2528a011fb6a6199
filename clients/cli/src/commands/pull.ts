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
/** How long pull waits for any dispatcher endpoint to accept a connection. */
const connectTimeoutMillis = 5_000;

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
      withClients<PullOptions>(dependencies, async ({ out, clients, terminal }, [subscription], options) => {
        const ack = options.ack === true;
        const encoding: DataEncoding = options.base64 ? 'base64' : 'text';
        if (!ack && options.count > maxOutstandingMessages) {
          throw new UsageError(
            `--count above ${maxOutstandingMessages} needs --ack (unacked messages fill the lease window)`,
          );
        }
        if (!(await clients.dispatcherReachable(Math.min(options.timeout, connectTimeoutMillis)))) {
          throw new HeraldClientError(status.UNAVAILABLE, 'no dispatcher accepted a connection (--dispatcher)');
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
        if (received.length === 0) {
          out.note(`No messages on "${subscription as string}" within ${formatDuration(options.timeout)}.`);
          return;
        }
        out.note(messagesTable(received, encoding));
        const settled = ack ? 'acknowledged' : 'not acknowledged: they will be delivered again';
        out.note(`${received.length} message${received.length === 1 ? '' : 's'}, ${settled}.`);
      }),
    );
}
