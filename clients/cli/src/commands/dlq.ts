import { status } from '@grpc/grpc-js';
import {
  type DeadLetterSelection,
  PeekDeadLettersRequest,
  RedriveDeadLettersRequest,
  type RedriveDeadLettersResponse,
} from '@herald/api';
import { HeraldClientError } from '@herald/client';
import { type Command, Option } from 'commander';
import type { HeraldClients } from '../clients';
import { InterruptedError } from '../exit-codes';
import { type DataEncoding, type MessageView, formatAttributes, messageJson, viewOfProto } from '../format-messages';
import { type CliDependencies, type Invocation, withClients } from '../invocation';
import { renderTable } from '../output';
import { parseInteger, parseTime } from '../parse';
import { Progress } from '../progress';

interface SelectionOptions {
  deadLetterTopic?: string;
  filter?: string;
  since?: Date;
  until?: Date;
}

interface PeekOptions extends SelectionOptions {
  count: number;
  base64?: boolean;
}

interface RedriveOptions extends SelectionOptions {
  rate: number;
}

/** The most one PeekDeadLetters call returns. */
const maxPeekPage = 1_000;
/** Pause before calling again after UNAVAILABLE (the subscription moving between dispatchers). */
const retryPauseMillis = 1_000;

/** The dead-letter attributes, shown in columns of their own by `peek`. */
const deadLetterAttribute = {
  subscription: 'herald-dead-letter-subscription',
  attempts: 'herald-dead-letter-attempts',
  messageId: 'herald-dead-letter-message-id',
  publishTime: 'herald-dead-letter-publish-time',
} as const;

/** `herald dlq peek` and `herald dlq redrive`. */
export function registerDeadLetterCommands(program: Command, dependencies: CliDependencies): void {
  const dlq = program
    .command('dlq')
    .description("a subscription's dead letters: look at them (peek), move them back to it (redrive)");

  selectionOptions(
    dlq
      .command('peek')
      .description('list dead letters of a subscription that no redrive moved yet, without moving them')
      .argument('<subscription>', 'the subscription the messages were dead-lettered from'),
  )
    .option('-n, --count <count>', 'show at most this many', (v) => parseInteger(v), 20)
    .option('--base64', 'show data as base64 (for binary payloads)')
    .action(
      withClients<PeekOptions>(dependencies, 'dispatcher', async (invocation, [subscription], options) => {
        await peek(invocation, subscription as string, options);
      }),
    );

  selectionOptions(
    dlq
      .command('redrive')
      .description(
        'move dead letters back to the subscription they came from (it alone receives them again); ' +
          'interrupted, the same command continues where it stopped, moving none twice',
      )
      .argument('<subscription>', 'the subscription the messages were dead-lettered from'),
  )
    .addOption(
      new Option('--rate <messages>', 'move at most this many a second (1 to 10000)')
        .argParser((v) => parseInteger(v))
        .default(100),
    )
    .action(
      withClients<RedriveOptions>(dependencies, 'dispatcher', async (invocation, [subscription], options) => {
        await redrive(invocation, subscription as string, options);
      }),
    );
}

function selectionOptions(command: Command): Command {
  return command
    .option('--dead-letter-topic <topic>', "read this topic (default: the subscription's dead-letter topic)")
    .option('--filter <expression>', 'only dead letters whose attributes match, e.g. \'attributes.region = "eu"\'')
    .option('--since <time>', 'only those dead-lettered at or after this time (ISO 8601, or e.g. 2h ago)', (v) =>
      parseTime(v),
    )
    .option('--until <time>', 'only those dead-lettered before this time', (v) => parseTime(v));
}

function selectionOf(subscription: string, options: SelectionOptions): DeadLetterSelection {
  return {
    subscription,
    deadLetterTopic: options.deadLetterTopic ?? '',
    filter: options.filter ?? '',
    startTime: options.since,
    endTime: options.until,
  };
}

async function peek({ out, clients }: Invocation, subscription: string, options: PeekOptions): Promise<void> {
  const encoding: DataEncoding = options.base64 ? 'base64' : 'text';
  const selection = selectionOf(subscription, options);
  const shown: MessageView[] = [];
  let pageToken = '';
  let more = false;
  do {
    const response = await onAnyDispatcher(clients, (attempt) =>
      clients.peekDeadLetters(
        PeekDeadLettersRequest.fromPartial({
          selection,
          maxMessages: Math.min(maxPeekPage, options.count - shown.length),
          pageToken,
        }),
        attempt,
      ),
    );
    for (const proto of response.messages) {
      const message = viewOfProto(proto);
      shown.push(message);
      if (out.json) out.item(messageJson(message, encoding), () => '');
    }
    pageToken = response.nextPageToken;
    more = pageToken !== '';
  } while (more && shown.length < options.count);
  if (out.json) return;
  if (shown.length === 0) {
    out.note(`No dead letters of "${subscription}" left to move.`);
    return;
  }
  out.note(deadLettersTable(shown, encoding));
  const count = `${shown.length} dead letter${shown.length === 1 ? '' : 's'} of "${subscription}"`;
  out.note(more ? `${count} shown; more may follow (--count).` : `${count}, not moved yet.`);
}

/** Dead letters as a table: where each came from in columns, the other attributes beside. */
export function deadLettersTable(messages: readonly MessageView[], encoding: DataEncoding): string {
  const origin = new Set<string>(Object.values(deadLetterAttribute));
  return renderTable(
    ['#', 'DEAD-LETTERED', 'ORIGINAL ID', 'ATTEMPTS', 'ATTRIBUTES', 'DATA'],
    messages.map((m, i) => [
      i + 1,
      m.publishTime.toISOString(),
      m.attributes[deadLetterAttribute.messageId] ?? '',
      m.attributes[deadLetterAttribute.attempts] ?? '',
      formatAttributes(Object.fromEntries(Object.entries(m.attributes).filter(([key]) => !origin.has(key)))),
      encoding === 'base64' ? m.data.toString('base64') : m.data.toString('utf8'),
    ]),
  );
}

/** What a redrive did over the calls it took. */
interface Totals {
  moved: number;
  recovered: number;
  /** Records examined by the calls before the current one. */
  examinedBefore: number;
}

async function redrive(invocation: Invocation, subscription: string, options: RedriveOptions): Promise<void> {
  const { out, terminal } = invocation;
  const request = RedriveDeadLettersRequest.fromPartial({
    selection: selectionOf(subscription, options),
    maxMessagesPerSecond: options.rate,
  });
  const totals: Totals = { moved: 0, recovered: 0, examinedBefore: 0 };
  const progress = new Progress({
    enabled: !out.json && terminal.stdoutIsTTY,
    stream: terminal.progressStream,
    label: 'examined',
  });
  let interrupted = false;
  const stopInterrupt = terminal.onInterrupt(() => (interrupted = true));
  let last: RedriveDeadLettersResponse | undefined;
  let lastProgressAt = Date.now();
  progress.start(undefined);
  try {
    // A call ended by UNAVAILABLE (the subscription moved, a dispatcher stopped) is made again: the
    // redrive goes on where it stopped. It gives up after --retry-timeout without progress.
    for (let attempt = 0; !interrupted; attempt++) {
      try {
        last = await redriveOnce(
          invocation,
          request,
          attempt,
          totals,
          progress,
          () => interrupted,
          () => {
            lastProgressAt = Date.now();
          },
        );
        break;
      } catch (error) {
        if (interrupted) break;
        const failure = HeraldClientError.from(error);
        if (failure.code !== status.UNAVAILABLE || Date.now() - lastProgressAt > invocation.globals.retryTimeout) {
          throw failure;
        }
        await new Promise((resolve) => setTimeout(resolve, retryPauseMillis));
      }
    }
  } finally {
    stopInterrupt();
    progress.stop();
  }
  const moved = `${totals.moved.toLocaleString('en-US')} dead letter${totals.moved === 1 ? '' : 's'}`;
  const recovered =
    totals.recovered > 0
      ? ` (${totals.recovered.toLocaleString('en-US')} of them found written back by an interrupted redrive)`
      : '';
  if (interrupted || !last?.done) {
    throw new InterruptedError(
      `interrupted: moved ${moved} back to "${subscription}"${recovered}; run the same command again to move the rest`,
    );
  }
  out.note(`Moved ${moved} back to "${subscription}"${recovered}.`);
}

/**
 * One RedriveDeadLetters call, until its end, a failure or Ctrl-C (which
 * cancels it: the dispatcher stops after the batch under way); resolves with
 * its last response. With `--json`, each response is a line of totals.
 */
function redriveOnce(
  { out, clients }: Invocation,
  request: RedriveDeadLettersRequest,
  attempt: number,
  totals: Totals,
  progress: Progress,
  interrupted: () => boolean,
  progressed: () => void,
): Promise<RedriveDeadLettersResponse | undefined> {
  return new Promise((resolve, reject) => {
    const call = clients.redriveDeadLetters(request, attempt);
    const before = { ...totals };
    let last: RedriveDeadLettersResponse | undefined;
    let examined = 0;
    const finish = (error?: Error) => {
      clearInterval(watch);
      totals.examinedBefore = before.examinedBefore + examined;
      if (error) reject(error);
      else resolve(last);
    };
    const watch = setInterval(() => {
      if (!interrupted()) return;
      finish();
      call.cancel();
    }, 50);
    call.on('data', (response) => {
      if (last === undefined) progress.setTotal(before.examinedBefore + Number(response.toExamine));
      last = response;
      progressed();
      progress.increment(Number(response.examined) - examined);
      examined = Number(response.examined);
      // What an interrupted call had written back without saying so counts as moved, by this call.
      totals.moved = before.moved + Number(response.moved) + Number(response.recovered);
      totals.recovered = before.recovered + Number(response.recovered);
      if (out.json) {
        out.item(
          {
            subscription: request.selection?.subscription,
            examined,
            toExamine: Number(response.toExamine),
            moved: totals.moved,
            recovered: totals.recovered,
            done: response.done,
          },
          () => '',
        );
      }
    });
    call.on('error', (error) => finish(error));
    call.on('end', () => finish());
  });
}

/** Runs `call` on each dispatcher endpoint in turn while they answer UNAVAILABLE. */
async function onAnyDispatcher<T>(clients: HeraldClients, call: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      const failure = HeraldClientError.from(error);
      if (failure.code !== status.UNAVAILABLE || attempt + 1 >= clients.dispatcherCount) throw failure;
    }
  }
}
