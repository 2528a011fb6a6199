import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { Message, PublisherServiceClient } from '@herald/api';
import { HeraldClientError } from './client-error';
import { type ConnectionOptions, EndpointPool } from './endpoints';
import { callWithRetry, type RetryOptions } from './unary';
import { activeTracer, endPublishSpan, startPublishSpan, traceAttributesOf } from './tracing';

/** A message to publish. */
export interface PublishMessage {
  /** The payload; a string is sent as UTF-8. */
  data?: Buffer | Uint8Array | string;
  /** Key/value pairs, delivered with the message and matched by subscription filters. */
  attributes?: Record<string, string>;
  /** Messages with the same key are delivered in publish order on ordered subscriptions. */
  orderingKey?: string;
  /** Makes retries safe: repeats of a key are delivered once. Generated when absent (see `autoIdempotencyKeys`). */
  idempotencyKey?: string;
}

/**
 * When a batch is sent. A message goes out at once (with whatever else was
 * published in the same turn of the event loop) while fewer than
 * `maxImmediateRequests` requests of its queue are in flight; beyond that,
 * messages gather and go out together when a request is answered. Batches grow
 * with the load instead of every message waiting for a fixed delay at low rates.
 */
export interface BatchingOptions {
  /** Send once this many messages wait. @defaultValue 100 */
  maxMessages?: number;
  /** Send once this many bytes wait. @defaultValue 1 MiB */
  maxBytes?: number;
  /**
   * While a request is in flight, send another in parallel at the latest this
   * long after the first waiting message arrived (unordered messages only: an
   * ordering key has one request in flight at a time). @defaultValue 5 ms
   */
  maxDelayMillis?: number;
  /**
   * Requests of one queue sent at once, without waiting, before messages start
   * to gather (unordered messages only; an ordering key has one request in
   * flight at a time). Above one, a message published while a request is in
   * flight does not wait for its answer: at 2,000 msg/s that wait was most of
   * the publish latency. @defaultValue 4
   */
  maxImmediateRequests?: number;
}

/** Options of {@link Publisher}. */
export interface PublisherOptions extends ConnectionOptions {
  batching?: BatchingOptions;
  /**
   * Retries of retryable failures, across endpoints. @defaultValue 60 s in all, backoff 100 ms to 5 s,
   * 40 s per attempt: longer than the publisher's Kafka acknowledgement timeout (PUBLISHER_ACK_TIMEOUT_MS,
   * 30 s), so that a batch still in Kafka is waited for, not sent a second time.
   */
  retry?: RetryOptions;
  /**
   * Largest message (data, attribute keys and values, ordering and idempotency
   * keys), checked before sending: a larger one fails at once with
   * INVALID_ARGUMENT and is never sent or retried. Match it to the publishers'
   * PUBLISHER_MAX_MESSAGE_BYTES. @defaultValue 10 MiB (the publisher's default)
   */
  maxMessageBytes?: number;
  /**
   * Give each message without an idempotency key a random one, so that a retry
   * after an uncertain failure is never delivered twice. @defaultValue true
   */
  autoIdempotencyKeys?: boolean;
  /** Most messages queued or in flight; `publish` waits for room beyond it. @defaultValue 10000 */
  maxPendingMessages?: number;
}

interface Item {
  message: Message;
  bytes: number;
  resolve: (id: string) => void;
  reject: (error: Error) => void;
}

interface Queue {
  topic: string;
  orderingKey: string;
  items: Item[];
  bytes: number;
  /** A send planned for later: at the end of this turn, or after `maxDelayMillis`. */
  planned: { cancel(): void } | undefined;
  /** Requests in flight; ordered queues have at most one. */
  sending: number;
  /** Set when an ordered key failed: its publishes fail until `resumePublishing`. */
  failure: HeraldClientError | undefined;
}

/**
 * Publishes messages to Herald, batching them while requests are in flight
 * (see {@link BatchingOptions}), retrying retryable failures with backoff on every publisher endpoint
 * (with the same idempotency keys, so a retry is never a second message), and
 * keeping messages of one ordering key in order: one batch of a key in flight
 * at a time, and a key that failed stays failed until `resumePublishing`.
 *
 * @example
 * ```ts
 * const publisher = new Publisher({ endpoints: ['127.0.0.1:50051'] });
 * const id = await publisher.publish('orders', { data: '{"id":1}', attributes: { region: 'eu' } });
 * await publisher.close();
 * ```
 */
export class Publisher {
  private readonly pool: EndpointPool<PublisherServiceClient>;
  private readonly queues = new Map<string, Queue>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly waitingForRoom: Array<() => void> = [];
  private pending = 0;
  private closed = false;
  private readonly batching: Required<BatchingOptions>;

  constructor(private readonly options: PublisherOptions) {
    this.pool = new EndpointPool(PublisherServiceClient, options, 'publisher');
    this.batching = {
      maxMessages: options.batching?.maxMessages ?? 100,
      maxBytes: options.batching?.maxBytes ?? 1024 * 1024,
      maxDelayMillis: options.batching?.maxDelayMillis ?? 5,
      maxImmediateRequests: options.batching?.maxImmediateRequests ?? 4,
    };
  }

  /**
   * Publishes one message; resolves with its id once Herald has it durably.
   *
   * @throws HeraldClientError: INVALID_ARGUMENT, NOT_FOUND, or the last retryable status once retries ran out.
   */
  async publish(topic: string, message: PublishMessage): Promise<string> {
    if (this.closed) throw new HeraldClientError(status.FAILED_PRECONDITION, 'publisher is closed');
    while (this.pending >= (this.options.maxPendingMessages ?? 10_000)) {
      await new Promise<void>((resolve) => this.waitingForRoom.push(resolve));
    }
    const orderingKey = message.orderingKey ?? '';
    const queue = this.queueFor(topic, orderingKey);
    if (queue.failure) throw queue.failure;
    const proto = Message.fromPartial({
      data: toBytes(message.data),
      attributes: message.attributes ?? {},
      orderingKey,
      idempotencyKey: message.idempotencyKey ?? (this.options.autoIdempotencyKeys === false ? '' : randomUUID()),
    });
    const size = messageBytes(proto);
    const maxMessageBytes = this.options.maxMessageBytes ?? 10 * 1024 * 1024;
    if (size > maxMessageBytes) {
      const failure = new HeraldClientError(
        status.INVALID_ARGUMENT,
        `message is ${size} bytes; the limit is ${maxMessageBytes} (maxMessageBytes; the publisher's PUBLISHER_MAX_MESSAGE_BYTES)`,
      );
      // Like a refusal by the server: later messages of the key must not overtake it.
      if (orderingKey) queue.failure = failure;
      this.evictIfDrained(queue);
      throw failure;
    }
    // Room for the protobuf framing of each message, so that a batch stays under the request limit.
    let bytes = size + 64;
    // Traced only when the application registered an OpenTelemetry SDK; else no span, no attribute.
    const tracer = activeTracer();
    const span = tracer && startPublishSpan(tracer, topic, proto.data.length, orderingKey);
    if (span) {
      // The message's trace context travels in reserved attributes, which the publisher takes out
      // before checking limits and storing the message.
      for (const [key, value] of Object.entries(traceAttributesOf(span.spanContext()))) {
        proto.attributes[key] = value;
        bytes += key.length + value.length;
      }
    }
    this.pending++;
    const published = new Promise<string>((resolve, reject) => {
      queue.items.push({ message: proto, bytes, resolve, reject });
      queue.bytes += bytes;
      if (queue.items.length >= this.batching.maxMessages || queue.bytes >= this.batching.maxBytes) this.send(queue);
      else this.plan(queue);
    }).finally(() => {
      this.pending--;
      this.waitingForRoom.shift()?.();
    });
    return span ? endPublishSpan(span, published) : published;
  }

  /** Publishes many messages; resolves with their ids in order. */
  publishAll(topic: string, messages: PublishMessage[]): Promise<string[]> {
    return Promise.all(messages.map((message) => this.publish(topic, message)));
  }

  /** Sends everything queued now, and resolves once all of it (and everything in flight) is settled. */
  async flush(): Promise<void> {
    for (const queue of this.queues.values()) this.send(queue);
    while (this.inflight.size > 0 || [...this.queues.values()].some((q) => q.items.length > 0)) {
      await Promise.allSettled([...this.inflight]);
      for (const queue of this.queues.values()) this.send(queue);
    }
  }

  /** Lets an ordering key that failed publish again. */
  resumePublishing(orderingKey: string): void {
    for (const queue of [...this.queues.values()]) {
      if (queue.orderingKey !== orderingKey) continue;
      queue.failure = undefined;
      this.evictIfDrained(queue);
    }
  }

  /** Queues held now (one per topic and ordering key with messages waiting or in flight, or failed). */
  get queueCount(): number {
    return this.queues.size;
  }

  /** Flushes, then closes the connections. Publishing afterwards fails. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.pool.close();
  }

  private queueFor(topic: string, orderingKey: string): Queue {
    const id = queueId(topic, orderingKey);
    let queue = this.queues.get(id);
    if (!queue) {
      queue = { topic, orderingKey, items: [], bytes: 0, planned: undefined, sending: 0, failure: undefined };
      this.queues.set(id, queue);
    }
    return queue;
  }

  /**
   * Forgets a queue with nothing waiting or in flight: with one queue per
   * ordering key, keeping them all would grow memory with every key ever
   * seen. A failed ordered key stays until `resumePublishing`.
   */
  private evictIfDrained(queue: Queue): void {
    if (queue.items.length > 0 || queue.sending > 0 || queue.planned || queue.failure) return;
    const id = queueId(queue.topic, queue.orderingKey);
    if (this.queues.get(id) === queue) this.queues.delete(id);
  }

  /** Plans a send: at the end of this turn while few requests are in flight, else after `maxDelayMillis`. */
  private plan(queue: Queue): void {
    if (queue.planned) return;
    if (queue.sending < (queue.orderingKey ? 1 : this.batching.maxImmediateRequests)) {
      const immediate = setImmediate(() => this.send(queue));
      queue.planned = { cancel: () => clearImmediate(immediate) };
    } else if (!queue.orderingKey) {
      const timer = setTimeout(() => this.send(queue), this.batching.maxDelayMillis);
      queue.planned = { cancel: () => clearTimeout(timer) };
    }
    // An ordered queue sends its next batch when the one in flight is answered.
  }

  private send(queue: Queue): void {
    queue.planned?.cancel();
    queue.planned = undefined;
    if (queue.items.length === 0 || (queue.orderingKey && queue.sending > 0)) return;
    const batch: Item[] = [];
    let bytes = 0;
    while (queue.items.length > 0 && batch.length < this.batching.maxMessages) {
      const next = queue.items[0]!;
      if (batch.length > 0 && bytes + next.bytes > this.batching.maxBytes) break;
      batch.push(queue.items.shift()!);
      bytes += next.bytes;
    }
    queue.bytes -= bytes;
    queue.sending++;
    const done = this.sendBatch(queue, batch).finally(() => {
      queue.sending--;
      this.inflight.delete(done);
      // What gathered during the round trip goes out now, as one batch.
      if (queue.items.length > 0) this.send(queue);
      else this.evictIfDrained(queue);
    });
    this.inflight.add(done);
  }

  private async sendBatch(queue: Queue, batch: Item[]): Promise<void> {
    try {
      const ids = await this.publishBatch(
        queue.topic,
        batch.map((item) => item.message),
      );
      batch.forEach((item, i) => item.resolve(ids[i]!));
    } catch (error) {
      const failure = HeraldClientError.from(error);
      // One bad message must not fail the other callers' messages that shared its batch.
      if (failure.code === status.INVALID_ARGUMENT && batch.length > 1 && !queue.orderingKey) {
        await Promise.all(batch.map((item) => this.sendBatch(queue, [item])));
        return;
      }
      for (const item of batch) item.reject(failure);
      if (queue.orderingKey) {
        queue.failure = failure;
        for (const item of queue.items.splice(0)) item.reject(failure);
        queue.bytes = 0;
      }
    }
  }

  /** Publishes one batch, with retries; resolves with the ids in order. (Tests replace it to run without a server.) */
  protected async publishBatch(topic: string, messages: Message[]): Promise<string[]> {
    const response = await callWithRetry(
      this.pool,
      (client) => client.publish,
      { topic, messages },
      { totalTimeoutMillis: 60_000, attemptTimeoutMillis: 40_000, ...this.options.retry },
    );
    return response.messageIds;
  }
}

function queueId(topic: string, orderingKey: string): string {
  return `${topic}\0${orderingKey}`;
}

/** A message's size as the publisher counts it against PUBLISHER_MAX_MESSAGE_BYTES. */
function messageBytes(message: Message): number {
  let size = message.data.length + Buffer.byteLength(message.orderingKey) + Buffer.byteLength(message.idempotencyKey);
  for (const [key, value] of Object.entries(message.attributes))
    size += Buffer.byteLength(key) + Buffer.byteLength(value);
  return size;
}

function toBytes(data: PublishMessage['data']): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
