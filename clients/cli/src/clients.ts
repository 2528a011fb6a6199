import { Metadata } from '@grpc/grpc-js';
import {
  DispatcherServiceClient,
  type PeekDeadLettersRequest,
  type PeekDeadLettersResponse,
  type RedriveDeadLettersRequest,
  type RedriveDeadLettersResponse,
  type SubscriptionStats,
  type TailRequest,
  type TailResponse,
  unaryCall,
} from '@herald/api';
import {
  Admin,
  Publisher,
  Subscriber,
  type SubscriberOptions,
  channelCredentials,
  heraldChannelOptions,
} from '@herald/client';
import { type Endpoints, type ServiceKind, endpointVariables } from './endpoints';
import { healthStatus, unreachableReason } from './reachability';
import type { ConnectionSecurity } from './security';

/** The Admin calls the CLI makes. */
export type AdminApi = Pick<
  Admin,
  | 'createTopic'
  | 'getTopic'
  | 'listTopics'
  | 'deleteTopic'
  | 'createSubscription'
  | 'getSubscription'
  | 'listSubscriptions'
  | 'updateSubscription'
  | 'deleteSubscription'
  | 'seek'
  | 'getIamPolicy'
  | 'setIamPolicy'
  | 'grantRole'
  | 'revokeRole'
  | 'testIamPermissions'
>;

/** The Publisher calls the CLI makes. */
export type PublisherApi = Pick<Publisher, 'publish'>;

/** The Subscriber calls the CLI makes. */
export type SubscriberApi = Pick<Subscriber, 'on' | 'close'>;

/** A running Tail rpc: batches of messages until it ends, fails or is cancelled. */
export interface TailCall {
  on(event: 'data', listener: (response: TailResponse) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  cancel(): void;
}

/** A running RedriveDeadLetters rpc: progress until it is done, fails or is cancelled. */
export interface RedriveCall {
  on(event: 'data', listener: (response: RedriveDeadLettersResponse) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  cancel(): void;
}

/** How long one PeekDeadLetters call may read a dead-letter topic. */
const peekDeadlineMillis = 60_000;

/** The Herald clients of one command, made on first use and closed by {@link HeraldClients.close}. */
export interface HeraldClients {
  admin(): AdminApi;
  publisher(): PublisherApi;
  subscriber(options: Omit<SubscriberOptions, 'endpoints'>): SubscriberApi;
  /** Starts a Tail on dispatcher endpoint number `attempt` (modulo their count). */
  tail(request: TailRequest, attempt: number): TailCall;
  /** Reads a page of dead letters on dispatcher endpoint number `attempt` (modulo their count). */
  peekDeadLetters(request: PeekDeadLettersRequest, attempt: number): Promise<PeekDeadLettersResponse>;
  /** Starts a RedriveDeadLetters on dispatcher endpoint number `attempt` (modulo their count). */
  redriveDeadLetters(request: RedriveDeadLettersRequest, attempt: number): RedriveCall;
  /** How many dispatcher endpoints there are. */
  readonly dispatcherCount: number;
  /** Backlog figures of existing subscriptions among `names`, from the first dispatcher endpoint that answers. */
  subscriptionStats(names: string[]): Promise<SubscriptionStats[]>;
  /**
   * Undefined when an endpoint of `kind` accepts a connection within the
   * time; else one line saying which addresses could not be reached and why.
   */
  unreachable(kind: ServiceKind, timeoutMillis: number): Promise<string | undefined>;
  /** Undefined when a dispatcher's health check answers SERVING; else each dispatcher's address and status. */
  dispatchersNotServing(timeoutMillis: number): Promise<string | undefined>;
  /** Flushes what the publisher holds and closes every connection. */
  close(): Promise<void>;
}

/** How the CLI's clients retry. */
export interface ConnectOptions {
  /** How long retryable failures (UNAVAILABLE...) of unary calls are retried. */
  retryTimeoutMillis: number;
  /** TLS and token of every connection. @defaultValue plaintext, no token */
  security?: ConnectionSecurity;
}

/** The real clients, on Herald's SDK (and the generated DispatcherService client for Tail, which it lacks). */
export function connectClients(endpoints: Endpoints, options: ConnectOptions): HeraldClients {
  let admin: Admin | undefined;
  let publisher: Publisher | undefined;
  const dispatchers: DispatcherServiceClient[] = [];
  const retry = { totalTimeoutMillis: options.retryTimeoutMillis };
  const security = options.security ?? {};
  const credentials = channelCredentials(security);
  const dispatcher = (index: number) => {
    const address = endpoints.dispatcher[index % endpoints.dispatcher.length]!;
    const client = new DispatcherServiceClient(address, credentials, heraldChannelOptions);
    dispatchers.push(client);
    return client;
  };
  return {
    admin: () => (admin ??= new Admin({ endpoints: endpoints.registry, retry, credentials })),
    publisher: () => (publisher ??= new Publisher({ endpoints: endpoints.publisher, retry, credentials })),
    subscriber: (subscriberOptions) =>
      new Subscriber({ ...subscriberOptions, endpoints: endpoints.dispatcher, credentials }),
    tail: (request, attempt) => dispatcher(attempt).tail(request),
    peekDeadLetters(request, attempt) {
      const client = dispatcher(attempt);
      return unaryCall(client, client.peekDeadLetters, request, new Metadata(), peekDeadlineMillis);
    },
    redriveDeadLetters: (request, attempt) => dispatcher(attempt).redriveDeadLetters(request),
    dispatcherCount: endpoints.dispatcher.length,
    async subscriptionStats(names) {
      const stats: SubscriptionStats[] = [];
      // The rpc takes 1,000 names at a time; any dispatcher answers for all (relaying to the owners).
      for (let from = 0; from < names.length; from += 1_000) {
        const subscriptions = names.slice(from, from + 1_000);
        let lastError: unknown;
        for (let attempt = 0; attempt < endpoints.dispatcher.length; attempt++) {
          const client = dispatcher(attempt);
          try {
            const response = await unaryCall(
              client,
              client.getSubscriptionStats,
              { subscriptions },
              new Metadata(),
              15_000,
            );
            stats.push(...response.stats);
            lastError = undefined;
            break;
          } catch (error) {
            lastError = error;
          }
        }
        if (lastError) throw lastError;
      }
      return stats;
    },
    unreachable: (kind, timeoutMillis) => unreachableLine(kind, endpoints[kind], timeoutMillis),
    async dispatchersNotServing(timeoutMillis) {
      const statuses = await Promise.all(
        endpoints.dispatcher.map((address) => healthStatus(address, timeoutMillis, credentials)),
      );
      if (statuses.includes('SERVING')) return undefined;
      return endpoints.dispatcher.map((address, i) => `${address} (${statuses[i]})`).join(', ');
    },
    async close() {
      admin?.close();
      await publisher?.close();
      for (const client of dispatchers) client.close();
    },
  };
}

const serviceNames: Record<ServiceKind, string> = {
  registry: 'subscriber registry',
  publisher: 'publisher',
  dispatcher: 'dispatcher',
};

/**
 * Probes every address of a service at once: undefined as soon as one
 * accepts a connection, else one line such as
 * "cannot reach the publisher at 127.0.0.1:1 (connection refused); check --publisher or HERALD_PUBLISHER".
 */
export async function unreachableLine(
  kind: ServiceKind,
  addresses: readonly string[],
  timeoutMillis: number,
): Promise<string | undefined> {
  const probes = addresses.map((address) => unreachableReason(address, timeoutMillis));
  const reachable = await new Promise<boolean>((resolve) => {
    for (const probe of probes) void probe.then((reason) => reason === undefined && resolve(true));
    void Promise.all(probes).then((reasons) => resolve(reasons.includes(undefined)));
  });
  if (reachable) return undefined;
  const reasons = await Promise.all(probes);
  const where = addresses.map((address, i) => `${address} (${reasons[i]})`).join(', ');
  return `cannot reach the ${serviceNames[kind]} at ${where}; check --${kind} or ${endpointVariables[kind]}`;
}
