import type { PushSpec, StartAt, SubscriptionChanges } from '@herald/client';
import { durationToMillis } from '@herald/api';
import type { Command } from 'commander';
import type { AdminApi, HeraldClients } from '../clients';
import { UsageError } from '../exit-codes';
import {
  type StatsOrProblem,
  formatTime,
  subscriptionDetails,
  subscriptionJson,
  subscriptionsTable,
} from '../format-resources';
import { type CliDependencies, withClients } from '../invocation';
import { parseDuration, parseInteger, parseStartAt } from '../parse';

/** Options that create and update share. */
interface PolicyOptions {
  ackDeadline?: number;
  /** Milliseconds. */
  minBackoff?: number;
  /** Milliseconds. */
  maxBackoff?: number;
  deadLetterTopic?: string;
  maxDeliveryAttempts?: number;
  pushEndpoint?: string;
  pushMode?: 'binary' | 'structured';
  pushAudience?: string;
  pushGrpc?: string;
  pushMaxOutstanding?: number;
}

interface UpdateOptions extends PolicyOptions {
  pull?: boolean;
  exactlyOnce?: boolean;
}

interface CreateOptions extends PolicyOptions {
  topic: string;
  ordering?: boolean;
  exactlyOnce?: boolean;
  filter?: string;
  start: StartAt;
}

/** The retry policy's defaults, filled in when only one bound is given (see RetryPolicy in types.proto). */
const defaultBackoffMillis = { minimum: 1_000, maximum: 60_000 };

/** `herald subs create|get|list|update|delete|seek`. */
export function registerSubscriptionCommands(program: Command, dependencies: CliDependencies): void {
  const subs = program
    .command('subs')
    .alias('subscriptions')
    .description('create, show, list, change, delete and seek subscriptions');

  policyOptions(
    subs
      .command('create')
      .description('create a subscription to a topic')
      .argument('<name>', 'subscription name (same rules as topic names)')
      .requiredOption('-t, --topic <topic>', 'the topic to receive from'),
  )
    .option('--ordering', 'deliver messages with the same ordering key in publish order, one at a time')
    .option('--exactly-once', 'exactly-once delivery: acks are confirmed, and a confirmed one never comes again')
    .option('--filter <expression>', 'only messages whose attributes match, e.g. \'attributes.region = "eu"\'')
    .option('--start <position>', 'where it starts: earliest, latest or a time', parseStartAt, 'latest' as StartAt)
    .action(
      withClients<CreateOptions>(dependencies, 'registry', async ({ out, clients }, [name], options) => {
        const subscription = await clients.admin().createSubscription({
          name: name as string,
          topic: options.topic,
          ackDeadlineSeconds: options.ackDeadline,
          retryPolicy: retryPolicy(options, defaultBackoffMillis),
          deadLetterPolicy: deadLetterPolicy(options),
          enableMessageOrdering: options.ordering,
          enableExactlyOnceDelivery: options.exactlyOnce,
          filter: options.filter,
          startAt: options.start,
          push: pushSpec(options),
        });
        out.item(subscriptionJson(subscription), () => subscriptionDetails(subscription));
      }),
    );

  subs
    .command('get')
    .description("show a subscription's settings and where it starts")
    .argument('<name>', 'subscription name')
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }, [name]) => {
        const subscription = await clients.admin().getSubscription(name as string);
        const stats = await statsOf(clients, [subscription.name]);
        const figures = stats(subscription.name);
        out.item(subscriptionJson(subscription, figures), () => subscriptionDetails(subscription, figures));
      }),
    );

  subs
    .command('list')
    .alias('ls')
    .description('list subscriptions, by name')
    .option('-t, --topic <topic>', 'only those of this topic')
    .action(
      withClients<{ topic?: string }>(dependencies, 'registry', async ({ out, clients }, _args, options) => {
        const all = [];
        for await (const subscription of clients.admin().listSubscriptions(options.topic)) all.push(subscription);
        const stats = await statsOf(
          clients,
          all.filter((s) => !s.detached).map((s) => s.name),
        );
        out.list(
          all,
          (s) => subscriptionJson(s, stats(s.name)),
          (list) => subscriptionsTable(list, stats),
        );
      }),
    );

  policyOptions(
    subs
      .command('update')
      .description("change a subscription's ack deadline, retry backoff, dead-letter policy, or push and pull")
      .argument('<name>', 'subscription name'),
  )
    .option('--pull', 'make a push subscription a pull subscription again')
    .option('--exactly-once', 'switch exactly-once delivery on (its streams reconnect once)')
    .option('--no-exactly-once', 'switch exactly-once delivery off')
    .action(
      withClients<UpdateOptions>(dependencies, 'registry', async ({ out, clients }, [name], options) => {
        const changes = await subscriptionChanges(clients.admin(), name as string, options);
        const subscription = await clients.admin().updateSubscription(name as string, changes);
        out.item(subscriptionJson(subscription), () => subscriptionDetails(subscription));
      }),
    );

  subs
    .command('delete')
    .alias('rm')
    .description('delete a subscription')
    .argument('<name>', 'subscription name')
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }, [name]) => {
        await clients.admin().deleteSubscription(name as string);
        out.item({ name, deleted: true }, () => `Deleted subscription "${name as string}".`);
      }),
    );

  subs
    .command('seek')
    .description('replay (earliest, a past time) or skip (latest) messages, on every dispatcher')
    .argument('<name>', 'subscription name')
    .argument('<position>', 'earliest, latest or a time such as 2026-05-01T10:00:00Z', parseStartAt)
    .action(
      withClients(dependencies, 'registry', async ({ out, clients }, [name, position]) => {
        const subscription = await clients.admin().seek(name as string, position as StartAt);
        const where = position instanceof Date ? formatTime(position) : (position as string);
        out.item(subscriptionJson(subscription), () => `Moved subscription "${subscription.name}" to ${where}.`);
      }),
    );
}

/**
 * The backlog figures of `names` from the dispatchers. Settings come from the
 * registry alone: when no dispatcher answers, they are still shown, with why
 * the figures are missing.
 */
async function statsOf(clients: HeraldClients, names: string[]): Promise<(name: string) => StatsOrProblem> {
  if (names.length === 0) return () => undefined;
  try {
    const stats = new Map((await clients.subscriptionStats(names)).map((s) => [s.subscription, s]));
    return (name) => stats.get(name);
  } catch (error) {
    const problem = {
      problem: `no dispatcher answered: ${(error as { details?: string }).details || (error as Error).message}`,
    };
    return (name) => (names.includes(name) ? problem : undefined);
  }
}

function policyOptions(command: Command): Command {
  return command
    .option('--ack-deadline <seconds>', 'seconds a delivery stays leased before redelivery, 10 to 600', (v) =>
      parseInteger(v),
    )
    .option('--min-backoff <duration>', 'wait before the first redelivery, e.g. 500ms or 1s', parseDuration)
    .option('--max-backoff <duration>', 'longest wait before a redelivery, e.g. 1m', parseDuration)
    .option('--dead-letter-topic <topic>', 'where messages go after too many failed deliveries')
    .option('--max-delivery-attempts <count>', 'deliveries before dead-lettering, 5 to 100 (default 5)', (v) =>
      parseInteger(v),
    )
    .option('--push-endpoint <url>', 'push each message to this https URL as a CloudEvent (a push subscription)')
    .option(
      '--push-mode <mode>',
      'CloudEvents content mode of --push-endpoint: binary (default) or structured',
      parsePushMode,
    )
    .option('--push-audience <audience>', "the push token's aud claim (default: the endpoint URL)")
    .option(
      '--push-grpc <host:port>',
      'push each message to a herald.v1.PushEndpointService (grpc://host:port: plaintext)',
    )
    .option('--push-max-outstanding <count>', 'most push requests in flight, 1 to 1000 (default 100)', (v) =>
      parseInteger(v),
    );
}

function parsePushMode(value: string): 'binary' | 'structured' {
  if (value !== 'binary' && value !== 'structured')
    throw new UsageError(`--push-mode is binary or structured, not "${value}"`);
  return value;
}

/** The push configuration the options give, if any. */
function pushSpec(options: PolicyOptions): PushSpec | undefined {
  const { pushEndpoint, pushGrpc, pushMode, pushAudience, pushMaxOutstanding } = options;
  if (pushEndpoint !== undefined && pushGrpc !== undefined) {
    throw new UsageError('give one of --push-endpoint and --push-grpc');
  }
  if (pushEndpoint === undefined && (pushMode !== undefined || pushAudience !== undefined)) {
    throw new UsageError('--push-mode and --push-audience need --push-endpoint');
  }
  if (pushEndpoint === undefined && pushGrpc === undefined) {
    if (pushMaxOutstanding !== undefined)
      throw new UsageError('--push-max-outstanding needs --push-endpoint or --push-grpc');
    return undefined;
  }
  const common = pushMaxOutstanding === undefined ? {} : { maxOutstanding: pushMaxOutstanding };
  return pushGrpc !== undefined
    ? { grpcTarget: pushGrpc, ...common }
    : { endpoint: pushEndpoint!, mode: pushMode, audience: pushAudience, ...common };
}

function retryPolicy(options: PolicyOptions, current: { minimum: number; maximum: number }) {
  if (options.minBackoff === undefined && options.maxBackoff === undefined) return undefined;
  const minimumBackoffMillis = options.minBackoff ?? current.minimum;
  return {
    minimumBackoffMillis,
    maximumBackoffMillis: options.maxBackoff ?? Math.max(current.maximum, minimumBackoffMillis),
  };
}

function deadLetterPolicy(options: PolicyOptions) {
  if (options.deadLetterTopic === undefined) {
    if (options.maxDeliveryAttempts !== undefined)
      throw new UsageError('--max-delivery-attempts needs --dead-letter-topic');
    return undefined;
  }
  // Zero means the registry's default (5).
  return { deadLetterTopic: options.deadLetterTopic, maxDeliveryAttempts: options.maxDeliveryAttempts ?? 0 };
}

/** What `subs update` changes; a single backoff bound keeps the other from the subscription as it is. */
async function subscriptionChanges(
  admin: AdminApi,
  name: string,
  options: UpdateOptions,
): Promise<SubscriptionChanges> {
  const changes: SubscriptionChanges = { deadLetterPolicy: deadLetterPolicy(options) };
  const push = pushSpec(options);
  if (options.pull && push) throw new UsageError('--pull switches push off; leave out the --push-* options');
  if (push) changes.push = push;
  if (options.pull) changes.push = null;
  if (options.ackDeadline !== undefined) changes.ackDeadlineSeconds = options.ackDeadline;
  if (options.exactlyOnce !== undefined) changes.enableExactlyOnceDelivery = options.exactlyOnce;
  if (options.minBackoff !== undefined || options.maxBackoff !== undefined) {
    let current = defaultBackoffMillis;
    if (options.minBackoff === undefined || options.maxBackoff === undefined) {
      const policy = (await admin.getSubscription(name)).retryPolicy;
      current = {
        minimum: durationToMillis(policy?.minimumBackoff) ?? defaultBackoffMillis.minimum,
        maximum: durationToMillis(policy?.maximumBackoff) ?? defaultBackoffMillis.maximum,
      };
    }
    changes.retryPolicy = retryPolicy(options, current);
  }
  if (Object.values(changes).every((value) => value === undefined)) {
    throw new UsageError(
      'nothing to change: give --ack-deadline, --min-backoff, --max-backoff, --dead-letter-topic, --push-endpoint, --push-grpc, --pull or --[no-]exactly-once',
    );
  }
  return changes;
}
