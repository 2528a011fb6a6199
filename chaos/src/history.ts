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

  constructor(readonly scenario: string) {}

  sent(record: Omit<PublishRecord, 'outcome'>): PublishRecord {
    const full: PublishRecord = { ...record, outcome: 'pending' };
    this.publishes.set(record.id, full);
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

  /** Time of the latest delivery (0 before any). */
  get latestDeliveryAt(): number {
    return this.deliveries.at(-1)?.at ?? 0;
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
   * line so that it stays greppable.
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
    writeFileSync(
      file,
      `${header.slice(0, -1)},\n"publishes": [\n${publishes}\n],\n"deliveries": [\n${deliveries}\n]}\n`,
    );
  }
}
