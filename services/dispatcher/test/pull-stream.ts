import { type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  type DispatcherServiceClient,
  type ReceivedMessage,
  StreamingPullRequest,
  type StreamingPullResponse,
} from '@herald/api';

/** One delivery as a test saw it. */
export interface Seen {
  message: ReceivedMessage;
  atMillis: number;
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
}

/**
 * A raw StreamingPull stream for tests: records every delivery and answers it
 * as told, acks batched per response like a real client.
 */
export class PullStream {
  readonly deliveries: Seen[] = [];
  readonly acked = new Set<string>();
  /** Messages in each response, in arrival order. */
  readonly responseSizes: number[] = [];
  error: ServiceError | undefined;
  ended = false;
  private readonly call: ClientDuplexStream<StreamingPullRequest, StreamingPullResponse>;

  constructor(client: DispatcherServiceClient, options: PullStreamOptions) {
    this.call = client.streamingPull();
    const decide = options.decide ?? (() => 'ack');
    this.call.on('data', (response: StreamingPullResponse) => {
      const now = Date.now();
      this.responseSizes.push(response.receivedMessages.length);
      const seen = response.receivedMessages.map((message) => ({ message, atMillis: now }) as Seen);
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
        if (!this.ended && (ackIds.length > 0 || nackIds.length > 0)) {
          this.call.write(StreamingPullRequest.fromPartial({ ackIds, nackIds }));
        }
      };
      if (options.processingMillis) setTimeout(answer, options.processingMillis);
      else answer();
    });
    this.call.on('error', (error: ServiceError) => {
      this.error = error;
      this.ended = true;
    });
    this.call.on('end', () => (this.ended = true));
    this.call.write(
      StreamingPullRequest.fromPartial({
        subscription: options.subscription,
        maxOutstandingMessages: String(options.maxOutstandingMessages ?? 1000),
        streamAckDeadlineSeconds: options.streamAckDeadlineSeconds ?? 0,
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
