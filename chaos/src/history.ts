import { writeFileSync } from 'node:fs';

/**
 * Attributes every chaos message carries, so that the checker can recognise it
 * on any path (a delivery, a raw Kafka record) without trusting Herald's ids.
 */
export const ChaosAttribute = {
  /** `<publisher>:<sequence>`, unique per run. */
  id: 'chaos-id',
  /** The load publisher that sent it. */
  publisher: 'chaos-publisher',
  /** Its sequence number within that publisher: the publish order. */
  seq: 'chaos-seq',
} as const;

/** One message a load publisher tried to publish. */
export interface PublishRecord {
  /** The chaos id (also the message's idempotency key). */
  id: string;
  publisher: string;
  seq: number;
  topic: string;
  orderingKey: string;
  /** How it was sent: the SDK (unary Publish), the chaos PublishStream client, or raw kafkajs (control run). */
  via: 'sdk' | 'stream' | 'kafka-acks1';
  sentAt: number;
  /** `acked`: the publisher answered with a message id; `failed`: it gave up; `pending`: neither yet. */
  outcome: 'pending' | 'acked' | 'failed';
  doneAt?: number;
  messageId?: string;
  error?: string;
}

/** One delivery of a message to a subscriber. */
export interface DeliveryRecord {
  subscription: string;
  /** The chaos id from the message's attributes. */
  id: string;
  subscriber: string;
  messageId: string;
  orderingKey: string;
  deliveryAttempt: number;
  at: number;
  /** When the subscriber called `ack()` on this delivery. */
  ackedAt?: number;
  /**
   * Exactly-once subscriptions: what `ack()` resolved with, `confirmed` or the
   * reason it did not take (`expired`, `lease-moved`, `invalid`, `unavailable`).
   */
  ackResult?: string;
  /** When that answer came. */
  answeredAt?: number;
}

/** A subscription the run created, and what it must receive. */
export interface SubscriptionRecord {
  name: string;
  topic: string;
  ordered: boolean;
  /** When `CreateSubscription` returned. */
  createdAt: number;
  /**
   * Every acknowledged message sent at or after this time must reach it: its
   * creation time, lowered by a seek to an earlier time, 0 after a seek to the
   * earliest position.
   */
  receiveSentFrom: number;
  /** Created before the load began and never seeked: the subscriptions end-to-end times are measured on. */
  steady?: boolean;
  /** Exactly-once delivery: no delivery may follow a confirmed ack of the message. */
  exactlyOnce?: boolean;
  /** Seeks that returned: when the call began and returned, and from which send time they replay (0: earliest). */
  seeks?: Array<{ startedAt: number; at: number; replaysSentFrom: number }>;
}

/** A fault injected, or repaired. */
export interface FaultEvent {
  /** What was done: `kill -9 broker 2`, `SIGCONT broker 2`, ... */
  action: string;
  /** `inject` breaks something, `repair` undoes it. */
  kind: 'inject' | 'repair';
  at: number;
  /** When the action completed (a restart waits for SERVING). */
  doneAt: number;
  /** Streams of the fan-out set on each dispatcher (index 0 is dispatcher-1) when the action began. */
  fanoutStreams?: number[];
}

/** One call of the admin workload (registry scenario). */
export interface AdminOpRecord {
  op: string;
  target: string;
  startedAt: number;
  doneAt: number;
  /** `ok`, or the status the call ended with. */
  outcome: string;
}

/** One subscription of the fan-out set. */
export interface FanoutSubscriptionRecord {
  name: string;
  /** When `CreateSubscription` returned: every acknowledged message sent at or after it must reach it. */
  createdAt: number;
  /** The dispatcher its stream opened on first (index into the deployment's dispatchers). */
  firstDispatcher: number;
}

/**
 * What the fan-out set received: hundreds of subscriptions of one topic, each
 * with one subscriber. A delivery per line would cost a JSON object per
 * (subscription, message) pair, thousands a second; instead each message sent
 * to the fan-out topic gets an index, and each subscription keeps one byte per
 * message: how many times it received it (saturating at 255).
 */
export class FanoutHistory {
  /** Chaos ids of every message sent to the fan-out topic; a message's index in the receipt counts. */
  readonly ids: string[] = [];
  readonly subscriptions: FanoutSubscriptionRecord[] = [];
  /** Deliveries of chaos ids never sent to the fan-out topic, by subscription: phantoms. */
  readonly foreign = new Map<string, number>();
  /** Every delivery to the set. */
  deliveries = 0;
  latestDeliveryAt = 0;
  private readonly index = new Map<string, number>();
  private counts: Uint8Array[] = [];
  /** Per message: subscriptions that received it at least once, and when the latest of those first receipts came. */
  private reachedBy = new Uint16Array(1024);
  private lastFirstAt = new Float64Array(1024);

  constructor(
    /** The Herald topic of the set. */
    readonly topic: string,
  ) {}

  /** A message sent to the fan-out topic (History.sent calls it). */
  register(id: string): void {
    if (this.index.has(id)) return;
    this.index.set(id, this.ids.length);
    this.ids.push(id);
  }

  /** Adds a subscription; returns its number, for {@link FanoutHistory.received}. */
  addSubscription(record: FanoutSubscriptionRecord): number {
    this.subscriptions.push(record);
    this.counts.push(new Uint8Array(1024));
    return this.subscriptions.length - 1;
  }

  received(subscription: number, id: string, at: number): void {
    this.deliveries++;
    this.latestDeliveryAt = Math.max(this.latestDeliveryAt, at);
    const i = this.index.get(id);
    if (i === undefined) {
      const name = this.subscriptions[subscription]!.name;
      this.foreign.set(name, (this.foreign.get(name) ?? 0) + 1);
      return;
    }
    let counts = this.counts[subscription]!;
    if (i >= counts.length) counts = this.counts[subscription] = grown(counts, i);
    if (counts[i] === 0) {
      if (i >= this.reachedBy.length) {
        this.reachedBy = grown(this.reachedBy, i);
        this.lastFirstAt = grown(this.lastFirstAt, i);
      }
      this.reachedBy[i]!++;
      this.lastFirstAt[i] = at;
    }
    if (counts[i]! < 255) counts[i]!++;
  }

  /** How many times subscription number `subscription` received message `id` (0 for an unknown id). */
  count(subscription: number, id: string): number {
    const i = this.index.get(id);
    return i === undefined ? 0 : (this.counts[subscription]![i] ?? 0);
  }

  /** The receipt counts of subscription number `subscription`, by message index (shorter when the last ones never came). */
  countsOf(subscription: number): Uint8Array {
    return this.counts[subscription]!;
  }

  /** Subscriptions that received message `id` at least once. */
  reached(id: string): number {
    const i = this.index.get(id);
    return i === undefined ? 0 : (this.reachedBy[i] ?? 0);
  }

  /** When the last subscription to receive message `id` got its first copy (0 if none did). */
  lastFirstDelivery(id: string): number {
    const i = this.index.get(id);
    return i === undefined ? 0 : (this.lastFirstAt[i] ?? 0);
  }

  indexOf(id: string): number | undefined {
    return this.index.get(id);
  }

  /** For the history file: the ids once, and per subscription its counts as base64, aligned with the ids. */
  toJSON(): Record<string, unknown> {
    return {
      topic: this.topic,
      deliveries: this.deliveries,
      foreign: Object.fromEntries(this.foreign),
      ids: this.ids,
      subscriptions: this.subscriptions.map((record, i) => {
        const counts = new Uint8Array(this.ids.length);
        counts.set(this.counts[i]!.subarray(0, this.ids.length));
        return { ...record, counts: Buffer.from(counts).toString('base64') };
      }),
    };
  }
}

function grown<T extends Uint8Array | Uint16Array | Float64Array>(array: T, index: number): T {
  const next = new (array.constructor as new (length: number) => T)(Math.max(array.length * 2, index + 1));
  next.set(array);
  return next;
}

/**
 * Everything the load clients saw, kept outside Herald: in the memory of the
 * chaos runner and, at the end of a scenario, in a JSON file.
 */
export class History {
  readonly publishes = new Map<string, PublishRecord>();
  readonly deliveries: DeliveryRecord[] = [];
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly faults: FaultEvent[] = [];
  readonly adminOps: AdminOpRecord[] = [];
  /** Free-form counters the clients keep (stream resends, reconnects...). */
  readonly counters = new Map<string, number>();
  /** The fan-out set's receipts, when the scenario runs one. */
  fanout: FanoutHistory | undefined;

  constructor(readonly scenario: string) {}

  sent(record: Omit<PublishRecord, 'outcome'>): PublishRecord {
    const full: PublishRecord = { ...record, outcome: 'pending' };
    this.publishes.set(record.id, full);
    if (this.fanout && record.topic === this.fanout.topic) this.fanout.register(record.id);
    return full;
  }

  acked(id: string, messageId: string): void {
    const record = this.publishes.get(id);
    if (!record || record.outcome === 'acked') return;
    record.outcome = 'acked';
    record.messageId = messageId;
    record.doneAt = Date.now();
    delete record.error;
  }

  failed(id: string, error: string): void {
    const record = this.publishes.get(id);
    if (!record || record.outcome !== 'pending') return;
    record.outcome = 'failed';
    record.error = error;
    record.doneAt = Date.now();
  }

  delivered(record: DeliveryRecord): DeliveryRecord {
    this.deliveries.push(record);
    return record;
  }

  /** Time of the latest delivery (0 before any), the fan-out set's included. */
  get latestDeliveryAt(): number {
    return Math.max(this.deliveries.at(-1)?.at ?? 0, this.fanout?.latestDeliveryAt ?? 0);
  }

  subscriptionCreated(record: SubscriptionRecord): void {
    this.subscriptions.set(record.name, record);
  }

  fault(event: FaultEvent): void {
    this.faults.push(event);
  }

  adminOp(record: AdminOpRecord): void {
    this.adminOps.push(record);
  }

  count(counter: string, by = 1): void {
    this.counters.set(counter, (this.counters.get(counter) ?? 0) + by);
  }

  /**
   * Writes the whole record as one JSON document, one publish or delivery per
   * line so that it stays greppable; the fan-out set's receipts in one field
   * (see {@link FanoutHistory.toJSON}).
   */
  save(file: string, extra: Record<string, unknown> = {}): void {
    const header = JSON.stringify({
      scenario: this.scenario,
      ...extra,
      subscriptions: [...this.subscriptions.values()],
      faults: this.faults,
      adminOps: this.adminOps,
      counters: Object.fromEntries(this.counters),
    });
    const publishes = [...this.publishes.values()].map((record) => JSON.stringify(record)).join(',\n');
    const deliveries = this.deliveries.map((record) => JSON.stringify(record)).join(',\n');
    let fanout = '';
    if (this.fanout) {
      const { subscriptions, ...rest } = this.fanout.toJSON();
      const lines = (subscriptions as unknown[]).map((record) => JSON.stringify(record)).join(',\n');
      fanout = `,\n"fanout": ${JSON.stringify(rest).slice(0, -1)},\n"subscriptions": [\n${lines}\n]}`;
    }
    writeFileSync(
      file,
      `${header.slice(0, -1)},\n"publishes": [\n${publishes}\n],\n"deliveries": [\n${deliveries}\n]${fanout}}\n`,
    );
  }
}
