import { type ClientReadableStream, Metadata, status } from '@grpc/grpc-js';
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
import { Admin, Publisher, type TlsOptions, channelCredentials, heraldChannelOptions } from '@herald/client';
import type { Logger } from '@herald/logging';
import { RegistryWatcher } from '@herald/registry-watch';

/** Where Herald's services are. */
export interface HeraldEndpoints {
  registry: string[];
  dispatcher: string[];
  publisher: string[];
}

/** TLS to the services (absent: plaintext) and the bearer token every call carries. */
export interface GatewaySecurity {
  tls?: TlsOptions | undefined;
  token?: string | (() => string) | undefined;
}

/**
 * The console's only way to Herald: the SDK's Admin and Publisher (failover and retries across
 * instances) and the generated dispatcher client for the rpcs the SDK leaves out. An operator waits
 * on the page for every call, so retries give up after seconds rather than the SDK's default minute.
 */
export class HeraldGateway {
  readonly admin: Admin;
  readonly publisher: Publisher;
  private readonly dispatchers: DispatcherServiceClient[];
  private nextDispatcher = 0;
  private readonly watchers: RegistryWatcher[] = [];

  constructor(
    readonly endpoints: HeraldEndpoints,
    private readonly security: GatewaySecurity = {},
  ) {
    const retry = { totalTimeoutMillis: 8_000, attemptTimeoutMillis: 8_000, connectTimeoutMillis: 2_000 };
    const { tls, token } = security;
    this.admin = new Admin({ endpoints: endpoints.registry, retry, tls, token });
    this.publisher = new Publisher({
      endpoints: endpoints.publisher,
      retry,
      batching: { maxDelayMillis: 0 },
      tls,
      token,
    });
    const creds = channelCredentials({ tls, token });
    this.dispatchers = endpoints.dispatcher.map(
      (address) => new DispatcherServiceClient(address, creds, heraldChannelOptions),
    );
  }

  /** Figures of the subscriptions among `names` that exist (any dispatcher answers for all of them). */
  subscriptionStats(names: string[]): Promise<SubscriptionStats[]> {
    if (names.length === 0) return Promise.resolve([]);
    return this.onDispatcher(
      async (client) =>
        (await unaryCall(client, client.getSubscriptionStats, { subscriptions: names }, new Metadata(), 10_000)).stats,
    );
  }

  peekDeadLetters(request: PeekDeadLettersRequest): Promise<PeekDeadLettersResponse> {
    return this.onDispatcher((client) => unaryCall(client, client.peekDeadLetters, request, new Metadata(), 60_000));
  }

  /** Starts a Tail on the next dispatcher; the caller cancels it. */
  tail(request: TailRequest): ClientReadableStream<TailResponse> {
    return this.pickDispatcher().tail(request);
  }

  /** Starts a redrive on the next dispatcher (which relays it to the one serving the subscription). */
  redrive(request: RedriveDeadLettersRequest): ClientReadableStream<RedriveDeadLettersResponse> {
    return this.pickDispatcher().redriveDeadLetters(request);
  }

  /**
   * A watch of the registry with this gateway's token (so the registry filters it to what that
   * token may see), started now and stopped by {@link close}.
   */
  watchRegistry(logger: Logger): RegistryWatcher {
    const watcher = new RegistryWatcher({
      addresses: this.endpoints.registry,
      logger,
      credentials: channelCredentials({ tls: this.security.tls, token: this.security.token }),
    });
    this.watchers.push(watcher);
    // Readiness is the index's to report (and the lists wait for it), so a slow first snapshot is no error here.
    watcher.start().catch(() => undefined);
    return watcher;
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) watcher.stop();
    this.admin.close();
    await this.publisher.close();
    for (const client of this.dispatchers) client.close();
  }

  private pickDispatcher(): DispatcherServiceClient {
    const client = this.dispatchers[this.nextDispatcher % this.dispatchers.length]!;
    this.nextDispatcher++;
    return client;
  }

  /** A unary dispatcher call, moved to the next instance when one is unreachable. */
  private async onDispatcher<T>(call: (client: DispatcherServiceClient) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let tried = 0; tried < this.dispatchers.length; tried++) {
      try {
        return await call(this.pickDispatcher());
      } catch (error) {
        lastError = error;
        if ((error as { code?: number }).code !== status.UNAVAILABLE) throw error;
      }
    }
    throw lastError;
  }
}
