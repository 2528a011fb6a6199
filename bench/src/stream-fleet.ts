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
  /** Called for every message delivered, with the index of its stream's subscription. */
  onMessage: (subscription: number, message: ReceivedMessage) => void;
}

/** How a stream stands. */
type StreamState = 'open' | 'ended' | 'failed';

/**
 * Many StreamingPull streams, one per subscription, from one process, as
 * cheap as the API allows: raw grpc-js calls over a few shared channels
 * (the SDK's `Subscriber` has a client per instance and lease machinery
 * per subscription). Streams open in waves ({@link StreamFleet.openNext}), so
 * that a caller can stop before a dispatcher takes the machine down. Every
 * delivery is acked at once, on its stream. A stream that ends is not
 * reopened: the fleet reports it (status and count) instead, so that a
 * benchmark says how many subscriptions stayed attached.
 */
export class StreamFleet {
  private readonly calls: Array<ClientDuplexStream<StreamingPullRequest, StreamingPullResponse> | undefined>;
  private readonly states: StreamState[];
  /** Why streams ended, by gRPC status name and message, with how many. */
  readonly endings = new Map<string, number>();
  /** Streams opened so far, in subscription order. */
  opened = 0;
  private closed = false;

  private constructor(
    private readonly options: StreamFleetOptions,
    private readonly clients: DispatcherServiceClient[][],
  ) {
    this.calls = new Array(options.subscriptions.length);
    this.states = new Array<StreamState>(options.subscriptions.length).fill('open');
  }

  /** Makes the channels; no stream is open until {@link StreamFleet.openNext}. */
  static create(options: StreamFleetOptions): StreamFleet {
    const total = options.subscriptions.length;
    const endpoints = options.endpoints.length;
    const perEndpoint = options.endpoints.map((_, e) => (total > e ? Math.floor((total - e - 1) / endpoints) + 1 : 0));
    const clients = options.endpoints.map((endpoint, e) =>
      Array.from(
        { length: Math.max(1, Math.ceil(perEndpoint[e]! / Math.max(1, options.streamsPerChannel))) },
        () =>
          // A local subchannel pool gives each channel its own connection: grpc-js shares one between channels
          // of the same target and options otherwise.
          new DispatcherServiceClient(endpoint, credentials.createInsecure(), {
            ...heraldChannelOptions,
            'grpc.use_local_subchannel_pool': 1,
          }),
      ),
    );
    return new StreamFleet(options, clients);
  }

  /** Opens the next `count` streams (each sends its first request), without waiting for the dispatchers. */
  openNext(count: number): void {
    const end = Math.min(this.options.subscriptions.length, this.opened + count);
    while (!this.closed && this.opened < end) this.openStream(this.opened++);
  }

  /** gRPC channels (connections) in all. */
  get channels(): number {
    return this.clients.reduce((sum, list) => sum + list.length, 0);
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

  private openStream(index: number): void {
    const endpoints = this.options.endpoints.length;
    const endpoint = index % endpoints;
    const local = Math.floor(index / endpoints);
    const channels = this.clients[endpoint]!;
    const client = channels[Math.floor(local / Math.max(1, this.options.streamsPerChannel)) % channels.length]!;
    const call = client.streamingPull();
    this.calls[index] = call;
    call.on('data', (response: StreamingPullResponse) => {
      const ackIds: string[] = [];
      for (const message of response.receivedMessages) {
        this.options.onMessage(index, message);
        ackIds.push(message.ackId);
      }
      if (ackIds.length > 0 && this.states[index] === 'open') call.write(StreamingPullRequest.fromPartial({ ackIds }));
    });
    call.on('error', (error: Error & { code?: number; details?: string }) => this.ended(index, error));
    call.on('end', () => this.ended(index, undefined));
    call.write(
      StreamingPullRequest.fromPartial({
        subscription: this.options.subscriptions[index],
        maxOutstandingMessages: '1000',
        clientId: `herald-bench-fanout-${index}`,
      }),
    );
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
    for (const list of this.clients) for (const client of list) client.close();
  }
}
