import { type ChannelCredentials, type ChannelOptions, type Client, Metadata, credentials } from '@grpc/grpc-js';

/** TLS of a connection: PEM contents (read the files yourself, or let the CLI do it). */
export interface TlsOptions {
  /** CAs that signed the servers' certificates. @defaultValue the system's trusted CAs */
  ca?: Buffer | string;
  /** Client certificate, for servers that require one (mTLS); with `key`. */
  cert?: Buffer | string;
  key?: Buffer | string;
}

/** Where a client connects, and how it proves who it is. */
export interface ConnectionOptions {
  /** Every instance of the service, `host:port`; calls fail over between them. */
  endpoints: string[];
  /** Connect with TLS (`{}`: TLS trusting the system's CAs). @defaultValue plaintext */
  tls?: TlsOptions;
  /**
   * Bearer token (a JWT) sent with every call, or a function giving the current one (called per call, so
   * it can renew it). Needs `tls`: a token is never sent in plaintext.
   */
  token?: string | (() => string | Promise<string>);
  /** Channel credentials made by hand; replaces `tls` and `token`. @defaultValue plaintext */
  credentials?: ChannelCredentials;
  /** Extra grpc-js channel options. */
  channelOptions?: ChannelOptions;
}

/**
 * Options every Herald channel gets: room for 10 MB messages, keepalive for
 * long streams, reconnection at most 5 s apart, and a 16 MiB flow-control window. For generated clients made without the SDK (as the CLI's Tail).
 */
export const heraldChannelOptions: ChannelOptions = {
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  // grpc-js waits up to 120 s between reconnections by default: an endpoint back after an outage would
  // stay unused for minutes. The SDK's own retries back off to 5 s; the channel keeps the same pace.
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 5_000,
  // grpc-js opens a connection with 64 KiB of HTTP/2 flow-control window shared by all its streams (and the
  // same per stream): 1,000 fan-out streams on one connection had ~60 deliveries of 1 KB in flight between
  // them, the dispatcher waiting on the subscriber's window updates (p99 publish-to-delivery 117 ms, 78 with room).
  // What a stream may hold is bounded by Herald's flow control (outstanding messages and bytes), not here.
  'grpc-node.flow_control_window': 16 * 1024 * 1024,
  // Channelz keeps per-call trackers and stamps the time on every message for a debugging service Herald's
  // clients never expose: memory per stream and work per message for nothing.
  'grpc.enable_channelz': 0,
};

const pem = (value: Buffer | string | undefined) =>
  value === undefined ? null : Buffer.isBuffer(value) ? value : Buffer.from(value);

/**
 * The channel credentials `tls` and `token` describe: plaintext without `tls`.
 *
 * @throws Error for a token without TLS, or a client certificate without its key.
 */
export function channelCredentials(
  options: Pick<ConnectionOptions, 'tls' | 'token' | 'credentials'>,
): ChannelCredentials {
  if (options.credentials) return options.credentials;
  const { tls, token } = options;
  if (!tls) {
    if (token !== undefined) throw new Error('a token needs TLS (the tls option): it is never sent in plaintext');
    return credentials.createInsecure();
  }
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new Error('tls.cert and tls.key go together (a client certificate needs its key)');
  }
  const channel = credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
  if (token === undefined) return channel;
  return channel.compose(
    credentials.createFromMetadataGenerator((_params, callback) => {
      Promise.resolve(typeof token === 'function' ? token() : token).then(
        (value) => {
          const metadata = new Metadata();
          metadata.set('authorization', `Bearer ${value}`);
          callback(null, metadata);
        },
        (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
      );
    }),
  );
}

/**
 * One generated client per endpoint, and which one is current. `next()`
 * moves on after a failure, so that a client fails over to another instance.
 */
export class EndpointPool<C extends Client> {
  private readonly clients: C[];
  private readonly addresses: string[];
  /** Clients of addresses the service named (a dispatcher serving a subscription), beyond the endpoints. */
  private readonly named = new Map<string, C>();
  private readonly creds: ChannelCredentials;
  private readonly channelOptions: ChannelOptions;
  private index = 0;

  constructor(
    private readonly make: new (address: string, creds: ChannelCredentials, options: ChannelOptions) => C,
    options: ConnectionOptions,
    /** What the endpoints are, for error messages: `publisher`, `subscriber-registry`... */
    readonly service = 'Herald',
  ) {
    if (options.endpoints.length === 0) throw new Error('at least one endpoint is required');
    this.creds = channelCredentials(options);
    this.channelOptions = { ...heraldChannelOptions, ...options.channelOptions };
    // Start at a random instance so that many clients spread over the service.
    this.index = Math.floor(Math.random() * options.endpoints.length);
    this.addresses = [...options.endpoints];
    this.clients = options.endpoints.map((endpoint) => new make(endpoint, this.creds, this.channelOptions));
  }

  /**
   * The client of `address`, with the endpoints' credentials and options: an endpoint's own client, or one
   * made for it on first use and kept until {@link EndpointPool.close}. The current endpoint does not move.
   */
  clientAt(address: string): C {
    const endpoint = this.addresses.indexOf(address);
    if (endpoint >= 0) return this.clients[endpoint]!;
    let client = this.named.get(address);
    if (!client) {
      client = new this.make(address, this.creds, this.channelOptions);
      this.named.set(address, client);
    }
    return client;
  }

  /** The address of the current endpoint. */
  get currentAddress(): string {
    return this.addresses[this.index]!;
  }

  /** Every endpoint's address. */
  get allAddresses(): readonly string[] {
    return this.addresses;
  }

  get current(): C {
    return this.clients[this.index]!;
  }

  get size(): number {
    return this.clients.length;
  }

  /** Moves to the next endpoint and returns its client. */
  next(): C {
    this.index = (this.index + 1) % this.clients.length;
    return this.current;
  }

  close(): void {
    for (const client of [...this.clients, ...this.named.values()]) client.close();
    this.named.clear();
  }
}
