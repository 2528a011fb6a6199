import {
  type ChannelCredentials,
  type ClientDuplexStream,
  Metadata,
  type ServerDuplexStream,
  type ServerWritableStream,
  type ServiceError,
  credentials,
} from '@grpc/grpc-js';
import {
  DispatcherServiceClient,
  DispatcherServiceService,
  type RedriveDeadLettersRequest,
  type RedriveDeadLettersResponse,
  type StreamingPullRequest,
  type StreamingPullResponse,
  type SubscriptionStats,
  unaryCall,
} from '@herald/api';
import { type HeraldError, fromStatus } from '@herald/errors';

/** Marks a stream one dispatcher forwarded to another: it is served there or refused, never forwarded again. */
export const forwardedByHeader = 'x-herald-forwarded-by';

/** A subscriber stream relayed to the dispatcher that serves its subscription. */
export interface Relay {
  write(request: StreamingPullRequest): void;
  /** The subscriber went away: the relayed stream is cancelled, so its leases come back. */
  cancel(): void;
}

/**
 * Relays calls to the dispatcher serving their subscription. StreamingPull:
 * requests go up and responses come down unchanged, so flow control, leases
 * and ack ids stay the serving dispatcher's; responses are read only as fast
 * as the subscriber takes them, and passed on as the bytes the serving
 * dispatcher encoded (never decoded here: a relayed fan-out stream would
 * otherwise cost a decode and an encode per delivery twice over). One channel
 * per peer, shared by its calls.
 */
export class StreamForwarder {
  private readonly clients = new Map<string, DispatcherServiceClient>();

  constructor(
    private readonly self: string,
    /** TLS (and token) of the calls to other dispatchers: those of the service's other peer calls. */
    private readonly peerCredentials: ChannelCredentials = credentials.createInsecure(),
  ) {}

  relay(
    call: ServerDuplexStream<StreamingPullRequest, StreamingPullResponse>,
    address: string,
    finish: (error?: HeraldError) => void,
  ): Relay {
    const metadata = new Metadata();
    metadata.set(forwardedByHeader, this.self);
    const { path, requestSerialize } = DispatcherServiceService.streamingPull;
    const upstream: ClientDuplexStream<StreamingPullRequest, Buffer> = this.clientFor(address).makeBidiStreamRequest(
      path,
      requestSerialize,
      (bytes: Buffer) => bytes,
      metadata,
    );
    let cancelled = false;
    upstream.on('data', (response: Buffer) => {
      // The service's StreamingPull serializer sends Buffers as they are (withEncodedPullResponses).
      if (!call.write(response as unknown as StreamingPullResponse)) upstream.pause();
    });
    call.on('drain', () => upstream.resume());
    upstream.on('error', (error: ServiceError) => {
      finish(cancelled ? undefined : fromStatus({ code: error.code, details: error.details || error.message }));
    });
    upstream.on('end', () => finish());
    return {
      write: (request) => {
        if (!cancelled) upstream.write(request);
      },
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        upstream.cancel();
      },
    };
  }

  /** Asks the dispatcher at `address` for the figures of subscriptions it serves. */
  async subscriptionStats(address: string, subscriptions: string[]): Promise<SubscriptionStats[]> {
    const metadata = new Metadata();
    metadata.set(forwardedByHeader, this.self);
    const client = this.clientFor(address);
    try {
      const response = await unaryCall(client, client.getSubscriptionStats, { subscriptions }, metadata, 15_000);
      return response.stats;
    } catch (error) {
      const { code, details, message } = error as ServiceError;
      throw fromStatus({ code, details: details || message });
    }
  }

  /**
   * Relays a RedriveDeadLetters call to the dispatcher serving its
   * subscription; progress comes back unchanged, and cancelling the call
   * cancels the relayed one (which stops after its batch under way).
   */
  relayRedrive(
    call: ServerWritableStream<RedriveDeadLettersRequest, RedriveDeadLettersResponse>,
    address: string,
  ): Promise<void> {
    const metadata = new Metadata();
    metadata.set(forwardedByHeader, this.self);
    const upstream = this.clientFor(address).redriveDeadLetters(call.request, metadata);
    call.on('cancelled', () => upstream.cancel());
    return new Promise<void>((resolve, reject) => {
      upstream.on('data', (response: RedriveDeadLettersResponse) => call.write(response));
      upstream.on('error', (error: ServiceError) =>
        reject(fromStatus({ code: error.code, details: error.details || error.message })),
      );
      upstream.on('end', () => resolve());
    });
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private clientFor(address: string): DispatcherServiceClient {
    let client = this.clients.get(address);
    if (!client) {
      client = new DispatcherServiceClient(address, this.peerCredentials, {
        'grpc.keepalive_time_ms': 15_000,
        'grpc.keepalive_timeout_ms': 5_000,
        'grpc.keepalive_permit_without_calls': 1,
        // Responses carry batches of up to the serving dispatcher's limit, as they would to the subscriber.
        'grpc.max_receive_message_length': -1,
        // Every stream relayed to this peer shares the connection's HTTP/2 window, 64 KiB by default: a fan-out
        // burst to thousands of relayed streams would wait on window updates. The serving dispatcher's flow
        // control bounds what a stream holds.
        'grpc-node.flow_control_window': 16 * 1024 * 1024,
        // No channelz service reads what it would track per relayed stream and message.
        'grpc.enable_channelz': 0,
      });
      this.clients.set(address, client);
    }
    return client;
  }
}
