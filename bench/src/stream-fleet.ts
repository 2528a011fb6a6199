import { type ClientDuplexStream, credentials, status } from '@grpc/grpc-js';
import {
  DispatcherServiceClient,
  type ReceivedMessage,
  StreamingPullRequest,
  type StreamingPullResponse,
} from '@herald/api';
import { heraldChannelOptions } from '@herald/client';

/** Options of {@link StreamFleet.open}. */
export interface StreamFleetOptions {
  /** One subscription per stream. */
  subscriptions: readonly string[];
  /** Dispatcher addresses; stream i goes to `endpoints[i % endpoints.length]` (round robin). */
  endpoints: readonly string[];
  /** Streams that share one gRPC channel (one HTTP/2 connection). */
  streamsPerChannel: number;
  /**
   * Ask each dispatcher reached to name the one serving the subscription (`accept_redirect`), and open the
   * stream there instead of being relayed, as the SDK's `connectToServingDispatcher` does.
   */
  acceptRedirect?: boolean;
  /** Called for every message delivered, with the index of its stream's subscription. */
  onMessage: (subscription: number, message: ReceivedMessage) => void;
}

/** How a stream stands. */
type StreamState = 'open' | 'ended' | 'failed';

/** A gRPC channel (one HTTP/2 connection) and how many streams it carries (redirected ones leave it). */
interface Channel {
  client: DispatcherServiceClient;
  streams: number;
}

/**
 * Many StreamingPull streams, one per subscription, from one process, as
 * cheap as the API allows: raw grpc-js calls over a few shared channels
 * (the SDK's `Subscriber` has a client per instance and lease machinery
 * per subscription). Streams open in waves ({@link StreamFleet.openNext}), so
 * that a caller can stop before a dispatcher takes the machine down. Every
 * delivery is acked at once, on its stream. A stream that ends is not
 * reopened (but for a redirect): the fleet reports it (status and count)
 * instead, so that a benchmark says how many subscriptions stayed attached.
 */
export class StreamFleet {
  private readonly calls: Array<ClientDuplexStream<StreamingPullRequest, StreamingPullResponse> | undefined>;
  private readonly states: StreamState[];
  /** Where each stream is (was last) open: its endpoint, or where it was redirected to. */
  private readonly addresses: string[];
  /** Channels by dispatcher address, filled up to `streamsPerChannel` streams each in turn. */
  private readonly channelsByAddress = new Map<string, Channel[]>();
  /** Why streams ended, by gRPC status name and message, with how many. */
  readonly endings = new Map<string, number>();
  /** Streams opened so far, in subscription order. */
  opened = 0;
  /** Streams opened again where a dispatcher said their subscription is served. */
  redirected = 0;
  private closed = false;

  private constructor(private readonly options: StreamFleetOptions) {
    this.calls = new Array(options.subscriptions.length);
    this.states = new Array<StreamState>(options.subscriptions.length).fill('open');
    this.addresses = new Array<string>(options.subscriptions.length);
  }

  /** The dispatcher address stream `index` is open at (its endpoint, or where it was redirected); undefined before it opened. */
  addressOf(index: number): string | undefined {
    return this.addresses[index];
  }

  /** A fleet with no stream open until {@link StreamFleet.openNext}. */
  static create(options: StreamFleetOptions): StreamFleet {
    return new StreamFleet(options);
  }

  /** Opens the next `count` streams (each sends its first request), without waiting for the dispatchers. */
  openNext(count: number): void {
    const end = Math.min(this.options.subscriptions.length, this.opened + count);
    while (!this.closed && this.opened < end) {
      const index = this.opened++;
      this.openStream(index, this.options.endpoints[index % this.options.endpoints.length]!, false);
    }
  }

  /** gRPC channels (connections) in all. */
  get channels(): number {
    let count = 0;
    for (const list of this.channelsByAddress.values()) count += list.length;
    return count;
  }

  /** Streams opened and still open (not ended by the server or an error). */
  get open(): number {
    let count = 0;
    for (let i = 0; i < this.opened; i++) if (this.states[i] === 'open') count++;
    return count;
  }

  /** `RESOURCE_EXHAUSTED ×12: ...`: why streams ended, most frequent first. */
  describeEndings(): string[] {
    return [...this.endings.entries()].sort((a, b) => b[1] - a[1]).map(([why, count]) => `${count} × ${why}`);
  }

  private openStream(index: number, address: string, redirected: boolean): void {
    const channel = this.channelFor(address);
    channel.streams++;
    const call = channel.client.streamingPull();
    this.calls[index] = call;
    this.addresses[index] = address;
    call.on('data', (response: StreamingPullResponse) => {
      if (response.servedBy) {
        if (redirected || this.calls[index] !== call || this.closed) return;
        // The only response of this stream, which ends with OK: nothing was leased on it.
        channel.streams--;
        this.redirected++;
        this.openStream(index, response.servedBy, true);
        return;
      }
      const ackIds: string[] = [];
      for (const message of response.receivedMessages) {
        this.options.onMessage(index, message);
        ackIds.push(message.ackId);
      }
      if (ackIds.length > 0 && this.states[index] === 'open') call.write(StreamingPullRequest.fromPartial({ ackIds }));
    });
    const current = () => this.calls[index] === call;
    call.on('error', (error: Error & { code?: number; details?: string }) => {
      if (current()) this.ended(index, error);
    });
    call.on('end', () => {
      if (current()) this.ended(index, undefined);
    });
    call.write(
      StreamingPullRequest.fromPartial({
        subscription: this.options.subscriptions[index],
        maxOutstandingMessages: '1000',
        clientId: `herald-bench-fanout-${index}`,
        acceptRedirect: (this.options.acceptRedirect ?? false) && !redirected,
      }),
    );
  }

  /** The channel the next stream to `address` goes on: the latest one, or a new one when it has its share. */
  private channelFor(address: string): Channel {
    let list = this.channelsByAddress.get(address);
    if (!list) this.channelsByAddress.set(address, (list = []));
    let channel = list[list.length - 1];
    if (!channel || channel.streams >= Math.max(1, this.options.streamsPerChannel)) {
      channel = {
        // A local subchannel pool gives each channel its own connection: grpc-js shares one between channels
        // of the same target and options otherwise.
        client: new DispatcherServiceClient(address, credentials.createInsecure(), {
          ...heraldChannelOptions,
          'grpc.use_local_subchannel_pool': 1,
        }),
        streams: 0,
      };
      list.push(channel);
    }
    return channel;
  }

  private ended(index: number, error: (Error & { code?: number; details?: string }) | undefined): void {
    if (this.states[index] !== 'open') return;
    this.states[index] = error ? 'failed' : 'ended';
    this.calls[index] = undefined;
    // Ours: closing cancels every call, which is no news.
    if (this.closed) return;
    const why = error
      ? `${status[error.code ?? status.UNKNOWN] ?? error.code}: ${(error.details ?? error.message).slice(0, 160)}`
      : 'ended by the dispatcher';
    this.endings.set(why, (this.endings.get(why) ?? 0) + 1);
  }

  /** Cancels every stream (the dispatchers give back what is unsettled) and closes the channels. */
  close(): void {
    this.closed = true;
    for (const call of this.calls) call?.cancel();
    this.calls.fill(undefined);
    for (const list of this.channelsByAddress.values()) for (const channel of list) channel.client.close();
  }
}
