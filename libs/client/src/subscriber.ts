import { EventEmitter } from 'node:events';
import { type ClientDuplexStream, status } from '@grpc/grpc-js';
import { DispatcherServiceClient, StreamingPullRequest, type StreamingPullResponse } from '@herald/api';
import { backoffMillis, type BackoffOptions } from './backoff';
import { HeraldClientError } from './client-error';
import { type ConnectionOptions, EndpointPool } from './endpoints';
import { ReceivedMessage, type Settler } from './received-message';

/** How many unacknowledged messages a subscriber holds at once. */
export interface FlowControlOptions {
  /** @defaultValue 1000 */
  maxOutstandingMessages?: number;
  /** @defaultValue 100 MiB */
  maxOutstandingBytes?: number;
}

/** Options of {@link Subscriber}. */
export interface SubscriberOptions extends ConnectionOptions {
  /** The subscription to receive. */
  subscription: string;
  flowControl?: FlowControlOptions;
  /** Lease of each delivery, in seconds (10 to 600); the subscriber extends it while a message is held. @defaultValue 30 */
  ackDeadlineSeconds?: number;
  /** Stop extending a message's lease after this long. 0 turns extension off. @defaultValue 60 minutes */
  maxLeaseExtensionMillis?: number;
  /** Waits between reconnection attempts. @defaultValue 100 ms to 5 s */
  reconnect?: BackoffOptions;
  /** `close()` waits this long for held messages to be settled before giving them back. @defaultValue 10 s */
  closeTimeoutMillis?: number;
}

/** Statuses that no reconnection can cure. */
const fatalCodes = new Set<number>([
  status.NOT_FOUND,
  status.FAILED_PRECONDITION,
  status.INVALID_ARGUMENT,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.UNIMPLEMENTED,
]);

type Events = { message: [ReceivedMessage]; error: [HeraldClientError]; close: [] };

/**
 * Receives a subscription's messages over StreamingPull, in either style:
 * `subscriber.on('message', handler)` or `for await (const message of subscriber)`.
 * Acks are batched; leases of held messages are extended while they are held;
 * a broken stream is reopened with backoff on the next dispatcher endpoint
 * (messages of the broken stream come again). Fatal errors (the subscription
 * does not exist, is detached...) are emitted as `error` and end it.
 *
 * @example
 * ```ts
 * const subscriber = new Subscriber({ endpoints: ['127.0.0.1:50053'], subscription: 'orders-audit' });
 * subscriber.on('message', (message) => {
 *   console.log(message.id, message.data.toString());
 *   message.ack();
 * });
 * // later
 * await subscriber.close();
 * ```
 */
export class Subscriber extends EventEmitter<Events> implements AsyncIterable<ReceivedMessage> {
  private readonly pool: EndpointPool<DispatcherServiceClient>;
  private call: ClientDuplexStream<StreamingPullRequest, StreamingPullResponse> | undefined;
  private generation = 0;
  private started = false;
  private closing = false;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly held = new Map<string, ReceivedMessage>();
  private pendingAcks: string[] = [];
  private pendingNacks: string[] = [];
  private pendingDeadlines: Array<[string, number]> = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private extensionTimer: NodeJS.Timeout | undefined;
  private readonly buffered: ReceivedMessage[] = [];
  private readonly waiters: Array<{
    resolve: (result: IteratorResult<ReceivedMessage>) => void;
    reject: (error: Error) => void;
  }> = [];
  private readonly deadlineSeconds: number;
  private failure: HeraldClientError | undefined;
  private endedGeneration = 0;

  constructor(private readonly options: SubscriberOptions) {
    super();
    this.pool = new EndpointPool(DispatcherServiceClient, options);
    this.deadlineSeconds = options.ackDeadlineSeconds ?? 30;
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'message') queueMicrotask(() => this.start());
    });
  }

  /** Opens the stream (done by itself once a `message` listener is added or iteration starts). */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.connect();
    const maxExtension = this.options.maxLeaseExtensionMillis ?? 3_600_000;
    if (maxExtension > 0) {
      this.extensionTimer = setInterval(() => this.extendLeases(maxExtension), (this.deadlineSeconds * 1000) / 3);
      this.extensionTimer.unref();
    }
  }

  /** Messages held (received, not yet acked or nacked). */
  get heldCount(): number {
    return this.held.size;
  }

  [Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    this.start();
    return {
      next: () => {
        const message = this.buffered.shift();
        if (message) return Promise.resolve({ value: message, done: false });
        if (this.failure) return Promise.reject(this.failure);
        if (this.closing) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
      },
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  /**
   * Stops receiving. Waits up to `closeTimeoutMillis` for held messages to be
   * settled, sends every pending ack, then closes the stream: the dispatcher
   * gives back whatever is still unsettled for immediate redelivery (to another
   * stream). Messages not yet handed out are not shown to anyone any more.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.extensionTimer);
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    for (const message of this.buffered.splice(0)) this.held.delete(message.ackId);
    const deadline = Date.now() + (this.options.closeTimeoutMillis ?? 10_000);
    while (this.held.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await this.flush();
    const call = this.call;
    this.call = undefined;
    if (call) {
      call.end();
      // Let the last acks leave before the stream is torn down.
      await new Promise((resolve) => setTimeout(resolve, 50));
      call.cancel();
    }
    this.pool.close();
    this.emit('close');
  }

  private connect(): void {
    if (this.closing) return;
    const generation = ++this.generation;
    const call = this.pool.current.streamingPull();
    this.call = call;
    call.on('data', (response: StreamingPullResponse) => {
      this.failures = 0;
      // While closing, new deliveries are left unseen: the dispatcher gives them back when the stream ends.
      if (this.closing) return;
      for (const proto of response.receivedMessages) {
        const message = new ReceivedMessage(proto, this.settler, generation);
        this.held.set(message.ackId, message);
        this.deliver(message);
      }
    });
    call.on('error', (error) => this.onStreamEnd(generation, HeraldClientError.from(error)));
    call.on('end', () => this.onStreamEnd(generation, undefined));
    call.write(
      StreamingPullRequest.fromPartial({
        subscription: this.options.subscription,
        maxOutstandingMessages: String(this.options.flowControl?.maxOutstandingMessages ?? 1000),
        maxOutstandingBytes: String(this.options.flowControl?.maxOutstandingBytes ?? 100 * 1024 * 1024),
        streamAckDeadlineSeconds: this.deadlineSeconds,
      }),
    );
  }

  private deliver(message: ReceivedMessage): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ value: message, done: false });
    else if (this.listenerCount('message') > 0) this.emit('message', message);
    else this.buffered.push(message);
  }

  private onStreamEnd(generation: number, error: HeraldClientError | undefined): void {
    // grpc-js may report one broken stream twice ('error', then 'end'): handle it once.
    if (generation !== this.generation || generation === this.endedGeneration || this.closing) return;
    this.endedGeneration = generation;
    this.call = undefined;
    // Deliveries of the broken stream cannot be acked any more: the server delivers them again.
    for (const [ackId, message] of this.held) if (message.streamGeneration === generation) this.held.delete(ackId);
    if (error && fatalCodes.has(error.code)) {
      // Iterators see it as a rejected next(); listeners as an `error` event.
      this.failure = error;
      if (this.listenerCount('error') > 0) this.emit('error', error);
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
      void this.close();
      return;
    }
    this.failures++;
    this.pool.next();
    this.reconnectTimer = setTimeout(() => this.connect(), backoffMillis(this.options.reconnect ?? {}, this.failures));
  }

  private readonly settler: Settler = {
    ack: (message) => this.settle(message, () => this.pendingAcks.push(message.ackId)),
    nack: (message) => this.settle(message, () => this.pendingNacks.push(message.ackId)),
    modifyAckDeadline: (message, seconds) => {
      if (message.streamGeneration !== this.generation) return;
      if (seconds === 0) this.held.delete(message.ackId);
      this.pendingDeadlines.push([message.ackId, seconds]);
      this.scheduleFlush();
    },
  };

  private settle(message: ReceivedMessage, record: () => void): void {
    this.held.delete(message.ackId);
    if (message.streamGeneration !== this.generation) return;
    record();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    const queued = this.pendingAcks.length + this.pendingNacks.length + this.pendingDeadlines.length;
    if (queued >= 1000) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), 10);
  }

  /** Sends the queued acks, nacks and deadline changes in one request. */
  private flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const call = this.call;
    if (!call || this.pendingAcks.length + this.pendingNacks.length + this.pendingDeadlines.length === 0) {
      return Promise.resolve();
    }
    const request = StreamingPullRequest.fromPartial({
      ackIds: this.pendingAcks,
      nackIds: this.pendingNacks,
      modifyDeadlineAckIds: this.pendingDeadlines.map(([ackId]) => ackId),
      modifyDeadlineSeconds: this.pendingDeadlines.map(([, seconds]) => seconds),
    });
    this.pendingAcks = [];
    this.pendingNacks = [];
    this.pendingDeadlines = [];
    return new Promise((resolve) => call.write(request, () => resolve()));
  }

  private extendLeases(maxExtensionMillis: number): void {
    const now = Date.now();
    for (const message of this.held.values()) {
      if (message.streamGeneration !== this.generation) continue;
      if (now - message.receivedAtMillis > maxExtensionMillis) continue;
      this.pendingDeadlines.push([message.ackId, this.deadlineSeconds]);
    }
    if (this.pendingDeadlines.length > 0) void this.flush();
  }
}
