import { type ChannelCredentials, type ClientDuplexStream, status } from '@grpc/grpc-js';
import {
  type Message,
  PublisherServiceClient,
  type PublishStreamRequest,
  type PublishStreamResponse,
} from '@herald/api';
import { backoffMillis } from '@herald/retry';

/** Statuses after which the same request may succeed elsewhere or later. */
const retryable = new Set<number>([
  status.UNAVAILABLE,
  status.DEADLINE_EXCEEDED,
  status.RESOURCE_EXHAUSTED,
  status.ABORTED,
]);

interface Pending {
  request: PublishStreamRequest;
  deadline: number;
  /** Which stream generation it was last written to. */
  generation: number;
  resolve: (ids: string[]) => void;
  reject: (error: Error) => void;
}

/** Counters of what the client had to do. */
export interface StreamPublishStats {
  /** Streams that broke with requests unanswered. */
  breaks: number;
  /** Requests written again after a break, or after a retryable error, with the same idempotency keys. */
  resent: number;
  /** How streams ended, by status (or `end` when the server closed it without one). */
  breakReasons: Record<string, number>;
}

/**
 * A PublishStream client that knows every publisher instance: it pipelines
 * requests on one stream and, when the stream breaks (the instance died, or is
 * stopping), opens a stream to the next instance and writes every unanswered
 * request there again, unchanged: the same idempotency keys, so that what the
 * dead instance had written already is delivered once. A request answered
 * with a retryable status is written again after a backoff. Gives up on a
 * request after `totalTimeoutMillis`.
 */
export class StreamPublishClient {
  private readonly clients: PublisherServiceClient[];
  private index: number;
  private call: ClientDuplexStream<PublishStreamRequest, PublishStreamResponse> | undefined;
  private generation = 0;
  /** The generation whose end was handled: grpc-js may report one broken stream twice ('error', then 'end'). */
  private endedGeneration = 0;
  private readonly pending = new Map<string, Pending>();
  private nextRequest = 1;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly stats: StreamPublishStats = { breaks: 0, resent: 0, breakReasons: {} };

  constructor(
    readonly endpoints: string[],
    credentials: ChannelCredentials,
    private readonly totalTimeoutMillis = 60_000,
  ) {
    this.clients = endpoints.map((endpoint) => new PublisherServiceClient(endpoint, credentials));
    this.index = 0;
  }

  /** The instance the current stream goes to. */
  get currentEndpoint(): string {
    return this.endpoints[this.index]!;
  }

  /** Requests written and not answered yet. */
  get inflight(): number {
    return this.pending.size;
  }

  /** Publishes one batch; resolves with its message ids once durable. */
  publish(topic: string, messages: Message[]): Promise<string[]> {
    if (this.closed) return Promise.reject(new Error('stream publisher is closed'));
    const requestId = String(this.nextRequest++);
    return new Promise<string[]>((resolve, reject) => {
      const pending: Pending = {
        request: { requestId, topic, messages },
        deadline: Date.now() + this.totalTimeoutMillis,
        generation: 0,
        resolve,
        reject,
      };
      this.pending.set(requestId, pending);
      this.write(pending);
    });
  }

  /** Fails what is unanswered and closes the stream. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    for (const pending of this.pending.values()) pending.reject(new Error('stream publisher closed'));
    this.pending.clear();
    this.call?.end();
    this.call?.cancel();
    this.call = undefined;
    for (const client of this.clients) client.close();
  }

  private write(pending: Pending): void {
    const call = this.call ?? this.open();
    if (!call) return; // reconnecting: written when the next stream opens
    pending.generation = this.generation;
    call.write(pending.request);
  }

  private open(): ClientDuplexStream<PublishStreamRequest, PublishStreamResponse> | undefined {
    if (this.closed || this.reconnectTimer) return undefined;
    const generation = ++this.generation;
    const call = this.clients[this.index]!.publishStream();
    this.call = call;
    call.on('data', (response: PublishStreamResponse) => this.onResponse(response));
    const broken = (error: Error | undefined) => this.onBreak(generation, error);
    call.on('error', broken);
    call.on('end', () => broken(undefined));
    return call;
  }

  private onResponse(response: PublishStreamResponse): void {
    const pending = this.pending.get(response.requestId);
    if (!pending) return;
    this.failures = 0;
    if (!response.error) {
      this.pending.delete(response.requestId);
      pending.resolve(response.messageIds);
      return;
    }
    const failure = Object.assign(new Error(`${status[response.error.code]}: ${response.error.message}`), {
      code: response.error.code,
    });
    if (!retryable.has(response.error.code) || Date.now() > pending.deadline) {
      this.pending.delete(response.requestId);
      pending.reject(failure);
      return;
    }
    this.stats.resent++;
    setTimeout(() => {
      if (this.pending.get(response.requestId) === pending && !this.closed) this.write(pending);
    }, 200).unref();
  }

  private onBreak(generation: number, error: Error | undefined): void {
    if (generation !== this.generation || generation === this.endedGeneration || this.closed) return;
    this.endedGeneration = generation;
    this.call = undefined;
    if (this.pending.size > 0) this.stats.breaks++;
    const reason = error
      ? `${status[(error as { code?: number }).code ?? 2] ?? 'UNKNOWN'}: ${error.message.slice(0, 80)}`
      : 'end';
    this.stats.breakReasons[reason] = (this.stats.breakReasons[reason] ?? 0) + 1;
    this.failures++;
    this.index = (this.index + 1) % this.clients.length;
    const wait = backoffMillis({ initialMillis: 100, maxMillis: 2_000 }, this.failures);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      const now = Date.now();
      for (const [id, pending] of [...this.pending]) {
        if (now > pending.deadline) {
          this.pending.delete(id);
          pending.reject(error ?? new Error('PublishStream ended'));
        }
      }
      if (this.pending.size === 0) return; // the next publish opens a stream
      for (const pending of this.pending.values()) {
        if (pending.generation !== 0) this.stats.resent++;
        this.write(pending);
      }
    }, wait);
  }
}
