import { EventEmitter } from 'node:events';
import { type Span, context } from '@opentelemetry/api';
import { DispatcherServiceClient, StreamingPullRequest, type StreamingPullResponse } from '@herald/api';
import type { BackoffOptions } from './backoff';
import type { HeraldClientError } from './client-error';
import { type ConnectionOptions, EndpointPool } from './endpoints';
import { ReceivedMessage, type Settler } from './received-message';
import { AckQueue } from './subscriber/ack-queue';
import { Confirmations, type SettleKind, type SettleResult } from './subscriber/confirmations';
import { LeaseManager } from './subscriber/lease-manager';
import { MessageStream, type PullCall } from './subscriber/message-stream';
import { systemTimers, type Timers } from './timers';
import { activeTracer, endProcessSpan, startProcessSpan } from './tracing';

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
  /** Waits between reconnection attempts (full jitter). @defaultValue 100 ms to 5 s */
  reconnect?: BackoffOptions;
  /** `close()` waits this long for held messages to be settled before giving them back. @defaultValue 10 s */
  closeTimeoutMillis?: number;
  /**
   * When no dispatcher endpoint could be connected to for this long, stop
   * with a fatal UNAVAILABLE naming the addresses (an `error` event, or a
   * rejected iterator) instead of retrying silently forever. A stream that
   * connected and broke starts the count over. 0: never give up. @defaultValue 5 minutes
   */
  maxUnreachableMillis?: number;
  /**
   * Open the stream at the dispatcher instance that serves the subscription,
   * as the instance reached first tells (StreamingPull `accept_redirect`),
   * instead of being relayed by it: one hop less for every message, and no
   * relay's memory on the dispatchers. Only where this client reaches every
   * dispatcher at its advertised address (`DISPATCHER_ADVERTISED_ADDRESS`,
   * no load balancer hiding them) with the same credentials; a stream that
   * fails there is relayed the next time. @defaultValue false
   */
  connectToServingDispatcher?: boolean;
}

type Events = { message: [ReceivedMessage]; error: [HeraldClientError]; close: [] };

/** What a settled message of a subscription without exactly-once delivery gets: sent, not confirmed. */
const sent: Promise<SettleResult> = Promise.resolve(Object.freeze({ ok: true as const, confirmed: false }));
/** What settling a message of an ended stream gets: its ack id means nothing to the next one. */
const stale: Promise<SettleResult> = Promise.resolve(
  Object.freeze({
    ok: false as const,
    reason: 'expired' as const,
    detail: 'its stream ended; the message will be delivered again',
  }),
);

/**
 * Receives a subscription's messages over StreamingPull, in either style:
 * `subscriber.on('message', handler)` or `for await (const message of subscriber)`.
 * Acks are batched; leases of held messages are extended while they are held;
 * a broken stream is reopened with backoff on the next dispatcher endpoint
 * (messages of the broken stream come again). Fatal errors (the subscription
 * does not exist, is detached...) are emitted as `error` and end it.
 *
 * Made of three parts, each tested alone on a fake clock: a
 * {@link MessageStream} (the stream, its reconnection and generations), a
 * {@link LeaseManager} (held messages, lease extension) and an
 * {@link AckQueue} (acks, nacks and deadline changes, batched). This class
 * wires them together and hands messages to listeners or iterators.
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
  private readonly stream: MessageStream;
  private readonly leases: LeaseManager;
  private readonly acks: AckQueue;
  private started = false;
  private closing = false;
  private readonly buffered: ReceivedMessage[] = [];
  private readonly waiters: Array<{
    resolve: (result: IteratorResult<ReceivedMessage>) => void;
    reject: (error: Error) => void;
  }> = [];
  private readonly deadlineSeconds: number;
  private failure: HeraldClientError | undefined;
  private readonly confirmations = new Confirmations();
  /** The stream (generation) that said its subscription has exactly-once delivery. */
  private exactlyOnceGeneration = -1;
  /** The latest stream that broke: until the next one opens, its ack ids are void. */
  private brokenGeneration = -1;
  /** Exactly-once hand-overs waiting for their leases to be confirmed, in arrival order. */
  private receipts: Promise<void> = Promise.resolve();
  private refusedOnReceipt = 0;
  /** Set once close() ended the stream: nothing sent any more, nothing answered. */
  private streamClosed = false;

  constructor(private readonly options: SubscriberOptions) {
    super();
    this.pool = new EndpointPool(DispatcherServiceClient, options, 'dispatcher');
    this.deadlineSeconds = options.ackDeadlineSeconds ?? 30;
    const timers = this.timers;
    this.stream = new MessageStream(
      (failover, servedBy) => this.openStream(failover, servedBy),
      () =>
        StreamingPullRequest.fromPartial({
          subscription: options.subscription,
          maxOutstandingMessages: String(options.flowControl?.maxOutstandingMessages ?? 1000),
          maxOutstandingBytes: String(options.flowControl?.maxOutstandingBytes ?? 100 * 1024 * 1024),
          streamAckDeadlineSeconds: this.deadlineSeconds,
        }),
      {
        onResponse: (response, generation) => this.onResponse(response, generation),
        onBreak: (generation) => {
          // Deliveries of the broken stream cannot be settled any more: the server delivers them again.
          this.leases.removeGeneration(generation);
          this.acks.clear();
          this.confirmations.failGeneration(generation);
          this.brokenGeneration = generation;
        },
        onFatal: (error) => this.fail(error),
      },
      timers,
      {
        reconnect: options.reconnect,
        maxUnreachableMillis: options.maxUnreachableMillis ?? 300_000,
        where: options.endpoints.join(', '),
        acceptRedirect: options.connectToServingDispatcher ?? false,
      },
    );
    this.leases = new LeaseManager(
      { deadlineSeconds: this.deadlineSeconds, maxExtensionMillis: options.maxLeaseExtensionMillis ?? 3_600_000 },
      (ackIds, seconds) => {
        this.acks.modifyDeadline(ackIds, seconds);
        void this.acks.flush();
      },
      timers,
    );
    this.acks = new AckQueue((request) => this.stream.write(request), timers);
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event === 'message') queueMicrotask(() => this.start());
    });
  }

  /** Opens the stream (done by itself once a `message` listener is added or iteration starts). */
  start(): void {
    if (this.started || this.closing) return;
    this.started = true;
    this.stream.start();
    this.leases.start();
  }

  /** Messages held (received, not yet acked or nacked). */
  get heldCount(): number {
    return this.leases.size;
  }

  /**
   * Exactly-once only: messages received whose lease the dispatcher no longer
   * held when the subscriber confirmed it (held up in transit past their
   * deadline, or their stream ended first). They were never handed over; they
   * come again, or were settled through another stream.
   */
  get refusedOnReceiptCount(): number {
    return this.refusedOnReceipt;
  }

  /** Whether the current stream's subscription has exactly-once delivery: acks are then confirmed. */
  get exactlyOnce(): boolean {
    const current = this.stream.generation;
    return this.exactlyOnceGeneration === current && this.brokenGeneration !== current;
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
    this.leases.stop();
    for (const waiter of this.waiters.splice(0)) waiter.resolve({ value: undefined, done: true });
    for (const message of this.buffered.splice(0)) this.leases.remove(message.ackId);
    const started = this.timers.now();
    const closeTimeoutMillis = this.options.closeTimeoutMillis ?? 10_000;
    await this.leases.waitUntilEmpty(closeTimeoutMillis);
    await this.acks.flush();
    // Exactly-once: acks sent are confirmed only on this stream; closing it first would fail them.
    await this.confirmations.waitUntilEmpty(
      Math.max(0, closeTimeoutMillis - (this.timers.now() - started)),
      this.timers,
    );
    await this.stream.close();
    this.streamClosed = true;
    // Past the timeout, or after a fatal error: no answer can come on a closed stream.
    this.confirmations.failAll('the subscriber closed before the dispatcher answered');
    this.pool.close();
    this.emit('close');
  }

  /** Time for the parts; tests give a fake clock. */
  protected get timers(): Timers {
    return systemTimers;
  }

  /** Opens a StreamingPull on the current dispatcher endpoint (the next one after a failure). */
  protected openStream(failover: boolean, servedBy?: string): PullCall {
    if (servedBy !== undefined) return this.pool.clientAt(servedBy).streamingPull();
    return (failover ? this.pool.next() : this.pool.current).streamingPull();
  }

  private onResponse(response: StreamingPullResponse, generation: number): void {
    // While closing, new deliveries are left unseen: the dispatcher gives them back when the stream ends.
    if (response.subscriptionProperties?.exactlyOnceDeliveryEnabled) this.exactlyOnceGeneration = generation;
    this.confirmations.answer('ack', response.ackConfirmation);
    this.confirmations.answer('nack', response.nackConfirmation);
    this.confirmations.answer('modify-deadline', response.modifyDeadlineConfirmation);
    if (this.closing || response.receivedMessages.length === 0) return;
    const messages = response.receivedMessages.map((proto) => new ReceivedMessage(proto, this.settler, generation));
    for (const message of messages) this.leases.add(message.ackId, generation);
    if (this.exactlyOnceGeneration !== generation) {
      for (const message of messages) this.deliver(message);
      return;
    }
    // Exactly-once: the dispatcher's lease clock started when it wrote the message, and a message held up
    // in transit past its deadline may have been leased again and acked elsewhere. So each lease is
    // confirmed (a deadline change, answered) before its message is handed over; the refused ones will
    // never be settled by this stream and are dropped. Hand-overs stay in arrival order (ordering keys).
    const receipts = messages.map((message) => this.confirmations.expect('modify-deadline', message.ackId, generation));
    this.acks.modifyDeadline(
      messages.map((message) => message.ackId),
      this.deadlineSeconds,
    );
    void this.acks.flush();
    const confirmedBefore = this.receipts;
    this.receipts = confirmedBefore.then(async () => {
      const results = await Promise.all(receipts);
      messages.forEach((message, i) => {
        const current = message.streamGeneration === this.stream.generation;
        if (results[i]!.ok && current && !this.closing) {
          this.deliver(message);
          return;
        }
        this.leases.remove(message.ackId);
        if (!results[i]!.ok) this.refusedOnReceipt++;
      });
    });
  }

  private deliver(message: ReceivedMessage): void {
    const waiter = this.waiters.shift();
    const tracer = activeTracer();
    if (tracer) {
      // Traced only when the application registered an OpenTelemetry SDK. The span lasts until the
      // message is settled; a listener runs inside it, so its own spans and logs join the trace.
      const traced = startProcessSpan(tracer, this.options.subscription, message);
      this.processSpans.set(message, traced.span);
      if (!waiter && this.listenerCount('message') > 0) {
        context.with(traced.context, () => this.emit('message', message));
        return;
      }
    }
    if (waiter) waiter.resolve({ value: message, done: false });
    else if (this.listenerCount('message') > 0) this.emit('message', message);
    else this.buffered.push(message);
  }

  private fail(error: HeraldClientError): void {
    // Iterators see it as a rejected next(); listeners as an `error` event.
    this.failure = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    void this.close();
  }

  /** Process spans of the messages handed out and not settled yet (only while tracing). */
  private readonly processSpans = new WeakMap<ReceivedMessage, Span>();

  private endProcessSpan(message: ReceivedMessage, settlement: 'ack' | 'nack' | 'modack'): void {
    const span = this.processSpans.get(message);
    if (!span) return;
    this.processSpans.delete(message);
    endProcessSpan(span, settlement);
  }

  private readonly settler: Settler = {
    ack: (message) => {
      this.endProcessSpan(message, 'ack');
      this.leases.remove(message.ackId);
      return this.send(message, 'ack', () => this.acks.ack(message.ackId));
    },
    nack: (message) => {
      this.endProcessSpan(message, 'nack');
      this.leases.remove(message.ackId);
      return this.send(message, 'nack', () => this.acks.nack(message.ackId));
    },
    modifyAckDeadline: (message, seconds) => {
      if (seconds === 0) this.endProcessSpan(message, 'modack');
      if (seconds === 0 && message.streamGeneration === this.stream.generation) this.leases.remove(message.ackId);
      return this.send(message, 'modify-deadline', () => this.acks.modifyDeadline([message.ackId], seconds));
    },
  };

  /** Queues an operation on the current stream; on an exactly-once one, the result waits for its answer. */
  private send(message: ReceivedMessage, kind: SettleKind, record: () => void): Promise<SettleResult> {
    // An ack id of a broken stream means nothing to the next one: the message comes again anyway.
    if (
      this.streamClosed ||
      message.streamGeneration !== this.stream.generation ||
      message.streamGeneration === this.brokenGeneration
    ) {
      return stale;
    }
    const result = this.exactlyOnce ? this.confirmations.expect(kind, message.ackId, message.streamGeneration) : sent;
    record();
    return result;
  }
}
