import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { DispatcherServiceClient } from '@herald/api';
import { type Admin, Subscriber, type SubscriberOptions, heraldChannelOptions } from '@herald/client';
import { ChaosAttribute, FanoutHistory, type History } from './history';
import { PublishLoad } from './load';

/** The variable that sets how many subscriptions the fan-out set has (0 turns it off). */
export const fanoutSubscriptionsVariable = 'CHAOS_FANOUT_SUBSCRIPTIONS';
/** The variable that sets the fan-out topic's publish rate, messages per second. */
export const fanoutRateVariable = 'CHAOS_FANOUT_RATE';

/**
 * Subscriptions of the fan-out set: `CHAOS_FANOUT_SUBSCRIPTIONS`, or 200 (20 in
 * the short suite, which `make test` runs: each costs about 0.5 s to create).
 */
export function fanoutSubscriptionsSetting(short: boolean): number {
  return nonNegativeInteger(fanoutSubscriptionsVariable, short ? 20 : 200);
}

/** Publish rate of the fan-out topic: `CHAOS_FANOUT_RATE`, or 5 messages per second. */
export function fanoutRateSetting(): number {
  return nonNegativeInteger(fanoutRateVariable, 5);
}

function nonNegativeInteger(variable: string, fallback: number): number {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${variable}=${raw}: expected a whole number >= 0`);
  return value;
}

/** Options of {@link FanoutSet.start}. */
export interface FanoutSetOptions {
  admin: Admin;
  history: History;
  /** Herald topic of the set (created here). */
  topic: string;
  /** @defaultValue 3: with three brokers, one partition led by each */
  partitions?: number;
  subscriptions: number;
  /** Messages per second published to the topic. */
  rate: number;
  /** Load publisher id of the topic's publisher (the first part of its chaos ids). */
  publisherName: string;
  publisherEndpoints: string[];
  dispatcherEndpoints: string[];
  /** How the set's publisher and subscribers reach the services. */
  credentials: ChannelCredentials;
  log: (line: string) => void;
}

/**
 * The fan-out set: one topic of its own, hundreds of subscriptions on it, each
 * with one streaming subscriber that acks every message at once, and one SDK
 * publisher at a modest rate. Subscriber `i` opens its stream on dispatcher
 * `i mod n` and fails over in turn to the next, so the streams are spread over
 * the dispatchers and a dispatcher fault moves half of them. What each
 * subscription receives goes to the history's {@link FanoutHistory}.
 */
export class FanoutSet {
  private constructor(
    readonly record: FanoutHistory,
    /** Partitions of the topic. */
    readonly partitions: number,
    readonly publisher: PublishLoad,
    private readonly subscribers: PlacedSubscriber[],
    private readonly clients: DispatcherServiceClient[],
  ) {}

  static async start(options: FanoutSetOptions): Promise<FanoutSet> {
    const { admin, history, topic } = options;
    const record = new FanoutHistory(topic);
    history.fanout = record;
    const partitions = options.partitions ?? 3;
    await admin.createTopic({ name: topic, partitions });
    const names = Array.from(
      { length: options.subscriptions },
      (_, i) => `${topic}-${String(i).padStart(String(options.subscriptions - 1).length, '0')}`,
    );
    const started = Date.now();
    const created = new Map<string, number>();
    // A few at a time: one call each to the registry, which writes each to its log.
    await inParallel(names, 8, async (name) => {
      await admin.createSubscription({ name, topic, ackDeadlineSeconds: 10 });
      created.set(name, Date.now());
    });
    options.log(
      `fan-out: topic ${topic}, ${names.length} subscriptions created in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    // One channel per dispatcher for every fan-out stream: hundreds of subscribers need not hundreds of connections.
    const channelOptions: ChannelOptions = heraldChannelOptions;
    const clients = options.dispatcherEndpoints.map(
      (endpoint) => new DispatcherServiceClient(endpoint, options.credentials, channelOptions),
    );
    const subscribers = names.map((name, i) => {
      const firstDispatcher = i % clients.length;
      const index = record.addSubscription({ name, createdAt: created.get(name)!, firstDispatcher });
      const subscriber = new PlacedSubscriber(
        {
          endpoints: options.dispatcherEndpoints,
          credentials: options.credentials,
          subscription: name,
          ackDeadlineSeconds: 10,
          flowControl: { maxOutstandingMessages: 100 },
          reconnect: { initialMillis: 100, maxMillis: 1_000 },
          closeTimeoutMillis: 2_000,
        },
        clients,
        firstDispatcher,
      );
      subscriber.on('message', (message) => {
        record.received(index, message.attributes[ChaosAttribute.id] ?? `unknown:${message.id}`, Date.now());
        message.ack();
      });
      subscriber.on('error', (error) => history.count(`fan-out subscriber error: ${error.codeName}`));
      return subscriber;
    });
    const publisher = new PublishLoad({
      name: options.publisherName,
      topic,
      rate: options.rate,
      keys: 32,
      history,
      via: { kind: 'sdk', endpoints: options.publisherEndpoints, credentials: options.credentials },
    });
    return new FanoutSet(record, partitions, publisher, subscribers, clients);
  }

  /** The Herald topic of the set. */
  get topic(): string {
    return this.record.topic;
  }

  /** How many fan-out streams are on each dispatcher now (or are reconnecting to it), by dispatcher index. */
  streamsByDispatcher(): number[] {
    const counts = this.clients.map(() => 0);
    for (const subscriber of this.subscribers) counts[subscriber.dispatcher]!++;
    return counts;
  }

  /** Subscriptions that have received at least one message. */
  get subscriptionsReceiving(): number {
    let receiving = 0;
    for (let i = 0; i < this.subscribers.length; i++) if (this.record.countsOf(i).some((c) => c > 0)) receiving++;
    return receiving;
  }

  /** Closes every subscriber (after the drain), then the shared channels. */
  async close(): Promise<void> {
    await Promise.all(this.subscribers.map((s) => s.close().catch(() => undefined)));
    for (const client of this.clients) client.close();
  }
}

/**
 * The SDK's Subscriber on a channel shared with the other fan-out subscribers,
 * starting on a dispatcher of the caller's choice instead of a random one, and
 * failing over in turn as the SDK does.
 */
class PlacedSubscriber extends Subscriber {
  private current: number;

  constructor(
    options: SubscriberOptions,
    private readonly clients: DispatcherServiceClient[],
    first: number,
  ) {
    super(options);
    this.current = first;
  }

  /** The dispatcher (index) its stream is on, or is being reopened on. */
  get dispatcher(): number {
    return this.current;
  }

  protected override openStream(failover: boolean) {
    if (failover) this.current = (this.current + 1) % this.clients.length;
    return this.clients[this.current]!.streamingPull();
  }
}

/** Runs `work` on every item, at most `width` at a time; rejects with the first failure. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
}
