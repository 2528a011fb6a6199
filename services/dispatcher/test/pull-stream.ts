import { type ClientDuplexStream, type ServiceError, status } from '@grpc/grpc-js';
import {
  type DispatcherServiceClient,
  type ReceivedMessage,
  StreamingPullRequest,
  type StreamingPullResponse,
} from '@herald/api';

/** Orders deliveries across every stream of a test: two in the same millisecond still come in arrival order. */
let arrivals = 0;

/** One delivery as a test saw it. */
export interface Seen {
  message: ReceivedMessage;
  atMillis: number;
  /** Arrival order among every stream's deliveries in this process. */
  arrival: number;
  /** What the test answered to this delivery. */
  decision?: Decision;
}

/** What to do with each delivered message. */
export type Decision = 'ack' | 'nack' | 'hold';

/** Options of {@link PullStream}. */
export interface PullStreamOptions {
  subscription: string;
  maxOutstandingMessages?: number;
  streamAckDeadlineSeconds?: number;
  /** Per message; `hold` leaves it unacknowledged (it expires). @defaultValue always ack */
  decide?: (message: ReceivedMessage) => Decision;
  /** Wait this long before answering a batch (a slow subscriber). */
  processingMillis?: number;
  /** Sets `accept_redirect` on the first request. */
  acceptRedirect?: boolean;
}

/**
 * A raw StreamingPull stream for tests: records every delivery and answers it
 * as told, acks batched per response like a real client. Like the SDK, it
 * opens the stream again when it ends with UNAVAILABLE (the subscription not
 * served yet, or moving between dispatchers), counting those in `reconnects`.
 */
export class PullStream {
  readonly deliveries: Seen[] = [];
  readonly acked = new Set<string>();
  /** Messages in each response, in arrival order. */
  readonly responseSizes: number[] = [];
  error: ServiceError | undefined;
  ended = false;
  reconnects = 0;
  private call!: ClientDuplexStream<StreamingPullRequest, StreamingPullResponse>;

  constructor(
    private readonly client: DispatcherServiceClient,
    private readonly options: PullStreamOptions,
  ) {
    this.open();
  }

  private open(): void {
    const { options } = this;
    const call = this.client.streamingPull();
    this.call = call;
    let reconnecting = false;
    const decide = options.decide ?? (() => 'ack');
    call.on('data', (response: StreamingPullResponse) => {
      const now = Date.now();
      this.responseSizes.push(response.receivedMessages.length);
      const seen = response.receivedMessages.map(
        (message) => ({ message, atMillis: now, arrival: arrivals++ }) as Seen,
      );
      this.deliveries.push(...seen);
      const answer = () => {
        const ackIds: string[] = [];
        const nackIds: string[] = [];
        for (const [i, message] of response.receivedMessages.entries()) {
          const decision = decide(message);
          seen[i]!.decision = decision;
          if (decision === 'ack') {
            ackIds.push(message.ackId);
            this.acked.add(message.messageId);
          } else if (decision === 'nack') nackIds.push(message.ackId);
        }
        if (!this.ended && this.call === call && (ackIds.length > 0 || nackIds.length > 0)) {
          call.write(StreamingPullRequest.fromPartial({ ackIds, nackIds }));
        }
      };
      if (options.processingMillis) setTimeout(answer, options.processingMillis);
      else answer();
    });
    call.on('error', (error: ServiceError) => {
      if (error.code === status.UNAVAILABLE && !this.ended) {
        reconnecting = true;
        this.reconnects++;
        setTimeout(() => {
          if (this.ended) return;
          // The test may have closed its client meanwhile: then the stream just ends.
          try {
            this.open();
          } catch {
            this.error = error;
            this.ended = true;
          }
        }, 200);
        return;
      }
      this.error = error;
      this.ended = true;
    });
    call.on('end', () => {
      if (!reconnecting) this.ended = true;
    });
    call.write(
      StreamingPullRequest.fromPartial({
        subscription: options.subscription,
        maxOutstandingMessages: String(options.maxOutstandingMessages ?? 1000),
        streamAckDeadlineSeconds: options.streamAckDeadlineSeconds ?? 0,
        acceptRedirect: options.acceptRedirect ?? false,
      }),
    );
  }

  /** Message ids delivered at least once. */
  get messageIds(): Set<string> {
    return new Set(this.deliveries.map((d) => d.message.messageId));
  }

  /** Sends raw requests (acks for held messages, deadline changes). */
  send(request: Partial<StreamingPullRequest>): void {
    this.call.write(StreamingPullRequest.fromPartial(request));
  }

  close(): void {
    this.ended = true;
    this.call.cancel();
  }
}
