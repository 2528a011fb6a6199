import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { Message } from '@herald/api';
import { type HeraldClientError, Publisher, type ReceivedMessage, Subscriber } from '@herald/client';
import type { Producer } from 'kafkajs';
import { ChaosAttribute, type DeliveryRecord, type History, type PublishRecord } from './history';
import { StreamPublishClient } from './stream-publisher';

/** Options of {@link PublishLoad}. */
export interface PublishLoadOptions {
  /** Load publisher id: the first part of every chaos id it sends. */
  name: string;
  topic: string;
  /** Messages per second. */
  rate: number;
  /** Ordering keys this publisher uses; one message in `unkeyedEvery` has none. */
  keys: number;
  /** @defaultValue 4 */
  unkeyedEvery?: number;
  /** Stop generating while this many publishes are unanswered. @defaultValue 3000 */
  maxOutstanding?: number;
  history: History;
  /** How messages are sent. */
  via: PublishVia;
}

/** The client a {@link PublishLoad} sends through. */
export type PublishVia =
  | { kind: 'sdk'; endpoints: string[]; credentials: ChannelCredentials }
  | { kind: 'stream'; endpoints: string[]; credentials: ChannelCredentials }
  | { kind: 'kafka-acks1'; producer: Producer; kafkaTopic: string };

const tickMillis = 50;

/**
 * Steady publishing at a fixed rate, each message with a unique chaos id
 * (`<name>:<seq>`, also its idempotency key), its publisher and sequence in
 * attributes, and an ordering key. Every publish and its outcome goes to the
 * history. Messages of one ordering key are sent one batch at a time (the SDK
 * does so by itself; the stream client is kept to it here), so that the
 * sequence numbers of a key are its publish order.
 */
export class PublishLoad {
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private carry = 0;
  private readonly sdk: Publisher | undefined;
  readonly stream: StreamPublishClient | undefined;
  private readonly keyQueues = new Map<string, PublishRecord[]>();
  private readonly keyBusy = new Set<string>();
  private readonly unsettled = new Set<Promise<void>>();
  private outstanding = 0;
  private readonly payload = randomBytes(96).toString('base64');

  constructor(private readonly options: PublishLoadOptions) {
    if (options.via.kind === 'sdk') {
      this.sdk = new Publisher({
        endpoints: options.via.endpoints,
        credentials: options.via.credentials,
        batching: { maxMessages: 50, maxDelayMillis: 5 },
        retry: { totalTimeoutMillis: 60_000 },
      });
    } else if (options.via.kind === 'stream') {
      this.stream = new StreamPublishClient(options.via.endpoints, options.via.credentials, 60_000);
    }
  }

  get name(): string {
    return this.options.name;
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), tickMillis);
  }

  /** Stops generating; resolves once every publish is answered (acked or failed). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const key of this.keyQueues.keys()) this.pump(key);
    while (this.unsettled.size > 0 || [...this.keyQueues.values()].some((q) => q.length > 0)) {
      await Promise.allSettled([...this.unsettled]);
    }
  }

  /** Closes the clients (after {@link PublishLoad.stop}). */
  async close(): Promise<void> {
    await this.sdk?.close().catch(() => undefined);
    this.stream?.close();
  }

  private tick(): void {
    if (this.outstanding >= (this.options.maxOutstanding ?? 3000)) return;
    this.carry += (this.options.rate * tickMillis) / 1000;
    const count = Math.floor(this.carry);
    this.carry -= count;
    for (let i = 0; i < count; i++) this.next();
  }

  private next(): void {
    const seq = ++this.seq;
    const unkeyed = seq % (this.options.unkeyedEvery ?? 4) === 0;
    const record = this.options.history.sent({
      id: `${this.options.name}:${seq}`,
      publisher: this.options.name,
      seq,
      topic: this.options.topic,
      orderingKey: unkeyed ? '' : `${this.options.name}.k${seq % this.options.keys}`,
      via: this.options.via.kind,
      sentAt: Date.now(),
    });
    this.outstanding++;
    if (this.sdk) {
      this.track(
        this.sdk.publish(this.options.topic, {
          data: this.payload,
          attributes: attributesOf(record),
          orderingKey: record.orderingKey,
          idempotencyKey: record.id,
        }),
        [record],
      );
    } else {
      const key = record.orderingKey || `unkeyed.${seq % 8}`;
      const queue = this.keyQueues.get(key);
      if (queue) queue.push(record);
      else this.keyQueues.set(key, [record]);
      this.pump(key);
    }
  }

  /** Stream and raw-Kafka publishing: one batch per key in flight. */
  private pump(key: string): void {
    const queue = this.keyQueues.get(key);
    if (!queue || queue.length === 0 || this.keyBusy.has(key)) return;
    const batch = queue.splice(0, 50);
    this.keyBusy.add(key);
    const sent = this.sendBatch(batch);
    this.track(sent, batch, () => {
      this.keyBusy.delete(key);
      this.pump(key);
    });
  }

  private async sendBatch(batch: PublishRecord[]): Promise<string[]> {
    const via = this.options.via;
    if (via.kind === 'kafka-acks1') {
      await via.producer.send({
        topic: via.kafkaTopic,
        acks: 1,
        messages: batch.map((record) => ({
          key: record.orderingKey || record.id,
          value: this.payload,
          headers: {
            ...attributesOf(record),
            'herald-message-id': `acks1-${record.id}`,
            'herald-ordering-key': record.orderingKey,
            'herald-idempotency-key': record.id,
          },
        })),
      });
      return batch.map((record) => `acks1-${record.id}`);
    }
    const messages = batch.map((record) =>
      Message.fromPartial({
        data: Buffer.from(this.payload),
        attributes: attributesOf(record),
        orderingKey: record.orderingKey,
        idempotencyKey: record.id,
      }),
    );
    return this.stream!.publish(this.options.topic, messages);
  }

  private track(sent: Promise<string | string[]>, batch: PublishRecord[], after?: () => void): void {
    const settled = sent.then(
      (ids) => {
        const list = Array.isArray(ids) ? ids : [ids];
        batch.forEach((record, i) => this.options.history.acked(record.id, list[i] ?? ''));
      },
      (error: unknown) => {
        const failure = error as Partial<HeraldClientError>;
        for (const record of batch) this.options.history.failed(record.id, String(failure.message ?? error));
        // An ordered key that failed stays failed in the SDK until resumed; the next message may go.
        for (const record of batch) if (record.orderingKey) this.sdk?.resumePublishing(record.orderingKey);
      },
    );
    const done = settled.finally(() => {
      this.outstanding -= batch.length;
      this.unsettled.delete(done);
      after?.();
    });
    this.unsettled.add(done);
  }
}

function attributesOf(record: PublishRecord): Record<string, string> {
  return {
    [ChaosAttribute.id]: record.id,
    [ChaosAttribute.publisher]: record.publisher,
    [ChaosAttribute.seq]: String(record.seq),
  };
}

/** Options of {@link SubscribeLoad}. */
export interface SubscribeLoadOptions {
  subscription: string;
  /** Dispatcher endpoints the subscriber may use (one, to pin it). */
  endpoints: string[];
  credentials: ChannelCredentials;
  /** Name in the history. */
  name: string;
  history: History;
  /** Each message is acked after a random delay up to this. @defaultValue 30 */
  maxAckDelayMillis?: number;
  /** @defaultValue 200 */
  maxOutstandingMessages?: number;
  /** The subscription has exactly-once delivery: what each ack resolves with is recorded. */
  exactlyOnce?: boolean;
}

/**
 * One subscriber (the SDK's, failing over between the dispatchers it knows)
 * that records every delivery and acks each after a short random delay, so
 * that it always holds some leased messages.
 */
export class SubscribeLoad {
  private readonly subscriber: Subscriber;
  private readonly timers = new Set<NodeJS.Timeout>();
  constructor(private readonly options: SubscribeLoadOptions) {
    this.subscriber = new Subscriber({
      endpoints: options.endpoints,
      credentials: options.credentials,
      subscription: options.subscription,
      ackDeadlineSeconds: 10,
      flowControl: { maxOutstandingMessages: options.maxOutstandingMessages ?? 200 },
      reconnect: { initialMillis: 100, maxMillis: 1_000 },
      closeTimeoutMillis: 2_000,
    });
    this.subscriber.on('message', (message) => this.onMessage(message));
    this.subscriber.on('error', (error) => {
      options.history.count(`subscriber error: ${error.codeName}`);
    });
  }

  get name(): string {
    return this.options.name;
  }

  /** Messages received and not acked yet. */
  get held(): number {
    return this.subscriber.heldCount;
  }

  async close(): Promise<void> {
    await this.subscriber.close();
    for (const timer of this.timers) clearTimeout(timer);
    const refused = this.subscriber.refusedOnReceiptCount;
    if (refused > 0) this.options.history.count('exactly-once: leases refused on receipt (never handed over)', refused);
  }

  private onMessage(message: ReceivedMessage): void {
    const id = message.attributes[ChaosAttribute.id];
    const delivery: DeliveryRecord = this.options.history.delivered({
      subscription: this.options.subscription,
      id: id ?? `unknown:${message.id}`,
      subscriber: this.options.name,
      messageId: message.id,
      orderingKey: message.orderingKey,
      deliveryAttempt: message.deliveryAttempt,
      at: Date.now(),
    });
    const delay = Math.random() * (this.options.maxAckDelayMillis ?? 30);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      delivery.ackedAt = Date.now();
      const result = message.ack();
      if (this.options.exactlyOnce) {
        void result.then((answer) => {
          delivery.answeredAt = Date.now();
          delivery.ackResult = answer.ok ? (answer.confirmed ? 'confirmed' : 'unconfirmed') : answer.reason;
        });
      }
    }, delay);
    this.timers.add(timer);
  }
}

/** Options of {@link PushReceiverLoad}. */
export interface PushReceiverLoadOptions {
  subscription: string;
  /** Name in the history. */
  name: string;
  history: History;
  /** Each request is answered after a random delay up to this. @defaultValue 30 */
  maxAnswerDelayMillis?: number;
}

/**
 * The endpoint of a push subscription: a real HTTP server on loopback that
 * records every request (binary CloudEvents: the chaos id is among the
 * attributes in `ce-heraldattributes`) as a delivery, and answers 204 after a
 * short random delay, which acknowledges it. Whatever dispatcher serves the
 * subscription pushes here, so it follows failovers by itself.
 */
export class PushReceiverLoad {
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    private readonly options: PushReceiverLoadOptions,
  ) {}

  static async start(options: PushReceiverLoadOptions): Promise<PushReceiverLoad> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const load = new PushReceiverLoad(server, `http://127.0.0.1:${port}/push`, options);
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) =>
      load.onRequest(request, response),
    );
    return load;
  }

  get name(): string {
    return this.options.name;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onRequest(request: http.IncomingMessage, response: http.ServerResponse): void {
    request.resume();
    request.on('end', () => {
      const header = (name: string) => decodeURIComponent(String(request.headers[name] ?? ''));
      let attributes: Record<string, string> = {};
      try {
        attributes = JSON.parse(header('ce-heraldattributes')) as Record<string, string>;
      } catch {
        this.options.history.count('push receiver: request without attributes');
      }
      const messageId = String(request.headers['ce-id'] ?? '');
      const delivery = this.options.history.delivered({
        subscription: this.options.subscription,
        id: attributes[ChaosAttribute.id] ?? `unknown:${messageId}`,
        subscriber: this.options.name,
        messageId,
        orderingKey: header('ce-heraldorderingkey'),
        deliveryAttempt: Number(request.headers['ce-heraldattempt'] ?? 0),
        at: Date.now(),
      });
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          // The ack is the answer: if the dispatcher gave up on the request meanwhile, it is not one.
          response.writeHead(204).end(() => (delivery.ackedAt = Date.now()));
        },
        Math.random() * (this.options.maxAnswerDelayMillis ?? 30),
      );
      this.timers.add(timer);
    });
  }
}
