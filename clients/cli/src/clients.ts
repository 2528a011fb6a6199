import { credentials } from '@grpc/grpc-js';
import { DispatcherServiceClient, type TailRequest, type TailResponse } from '@herald/api';
import { Admin, Publisher, Subscriber, type SubscriberOptions, heraldChannelOptions } from '@herald/client';
import type { Endpoints } from './endpoints';

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

/** The Herald clients of one command, made on first use and closed by {@link HeraldClients.close}. */
export interface HeraldClients {
  admin(): AdminApi;
  publisher(): PublisherApi;
  subscriber(options: Omit<SubscriberOptions, 'endpoints'>): SubscriberApi;
  /** Starts a Tail on dispatcher endpoint number `attempt` (modulo their count). */
  tail(request: TailRequest, attempt: number): TailCall;
  /** How many dispatcher endpoints there are. */
  readonly dispatcherCount: number;
  /** Whether any dispatcher endpoint accepts a connection within the time. */
  dispatcherReachable(timeoutMillis: number): Promise<boolean>;
  /** Flushes what the publisher holds and closes every connection. */
  close(): Promise<void>;
}

/** How the CLI's clients retry. */
export interface ConnectOptions {
  /** How long retryable failures (UNAVAILABLE...) of unary calls are retried. */
  retryTimeoutMillis: number;
}

/** The real clients, on Herald's SDK (and the generated DispatcherService client for Tail, which it lacks). */
export function connectClients(endpoints: Endpoints, options: ConnectOptions): HeraldClients {
  let admin: Admin | undefined;
  let publisher: Publisher | undefined;
  const dispatchers: DispatcherServiceClient[] = [];
  const retry = { totalTimeoutMillis: options.retryTimeoutMillis };
  const dispatcher = (index: number) => {
    const address = endpoints.dispatcher[index % endpoints.dispatcher.length]!;
    const client = new DispatcherServiceClient(address, credentials.createInsecure(), heraldChannelOptions);
    dispatchers.push(client);
    return client;
  };
  return {
    admin: () => (admin ??= new Admin({ endpoints: endpoints.registry, retry })),
    publisher: () => (publisher ??= new Publisher({ endpoints: endpoints.publisher, retry })),
    subscriber: (subscriberOptions) => new Subscriber({ ...subscriberOptions, endpoints: endpoints.dispatcher }),
    tail: (request, attempt) => dispatcher(attempt).tail(request),
    dispatcherCount: endpoints.dispatcher.length,
    async dispatcherReachable(timeoutMillis) {
      const probes = endpoints.dispatcher.map((_, i) => dispatcher(i));
      const deadline = Date.now() + timeoutMillis;
      const ready = probes.map(
        (client) => new Promise<boolean>((resolve) => client.waitForReady(deadline, (error) => resolve(!error))),
      );
      // The first endpoint that answers wins; false only once every one gave up.
      return new Promise<boolean>((resolve) => {
        for (const probe of ready) void probe.then((ok) => ok && resolve(true));
        void Promise.all(ready).then((results) => resolve(results.some(Boolean)));
      });
    },
    async close() {
      admin?.close();
      await publisher?.close();
      for (const client of dispatchers) client.close();
    },
  };
}
