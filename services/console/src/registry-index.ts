import type { Subscription, Topic, WatchResponse } from '@herald/api';
import { type Page, type PageQuery, matchesWords, pageOf, searchWords } from './paging';

/** A topic as the lists show it: the registry's topic and how many subscriptions it has. */
export interface TopicRow {
  topic: Topic;
  subscriptions: number;
}

/**
 * The registry's topics and subscriptions, kept current by its Watch stream, so that lists page and
 * search on the console's side at any size (ListTopics has no search, nor subscription counts) without
 * reading the whole registry per request. Detail pages still ask the registry itself.
 */
export class RegistryIndex {
  private topics = new Map<string, Topic>();
  private subscriptions = new Map<string, Subscription>();
  private subscriptionCounts = new Map<string, number>();
  private sortedTopics: Topic[] | undefined;
  private readonly searchKeys = new WeakMap<object, string>();
  private sortedSubscriptions: Subscription[] | undefined;
  /** A snapshot being received in parts; the current view stays in use until its last part. */
  private incoming: { topics: Map<string, Topic>; subscriptions: Map<string, Subscription> } | undefined;
  private waiters: Array<{ revision: bigint; resolve: () => void }> = [];
  private readyWaiters: Array<() => void> = [];
  /** The registry log revision the view is complete at; -1 before the first snapshot. */
  revision = -1n;
  /** True once a whole snapshot arrived. */
  ready = false;
  /** Why the watch is not connected now, if it is not. */
  lastError: string | undefined;

  get topicCount(): number {
    return this.topics.size;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  /** Applies one step of a Watch stream. */
  apply(response: WatchResponse): void {
    const kind = response.kind;
    if (kind?.$case === 'snapshot') {
      const part = kind.value;
      if (part.reset || !this.incoming) this.incoming = { topics: new Map(), subscriptions: new Map() };
      for (const topic of part.topics) this.incoming.topics.set(topic.name, topic);
      for (const subscription of part.subscriptions) this.incoming.subscriptions.set(subscription.name, subscription);
      if (part.last) {
        this.topics = this.incoming.topics;
        this.subscriptions = this.incoming.subscriptions;
        this.incoming = undefined;
        this.recount();
        this.advance(BigInt(response.revision));
        this.ready = true;
        for (const resolve of this.readyWaiters.splice(0)) resolve();
      }
      return;
    }
    if (kind?.$case !== 'event') return;
    const change = kind.value.change;
    switch (change?.$case) {
      case 'topicCreated':
        this.topics.set(change.value.name, change.value);
        this.sortedTopics = undefined;
        break;
      case 'topicDeleted':
        this.topics.delete(change.value);
        this.sortedTopics = undefined;
        break;
      case 'subscriptionCreated':
      case 'subscriptionUpdated': {
        const before = this.subscriptions.get(change.value.name);
        if (before) this.count(before.topic, -1);
        this.subscriptions.set(change.value.name, change.value);
        this.count(change.value.topic, 1);
        this.sortedSubscriptions = undefined;
        break;
      }
      case 'subscriptionDeleted': {
        const before = this.subscriptions.get(change.value);
        if (before) this.count(before.topic, -1);
        this.subscriptions.delete(change.value);
        this.sortedSubscriptions = undefined;
        break;
      }
    }
    this.advance(BigInt(response.revision));
  }

  /** A page of topics whose names hold every word of the search. */
  listTopics(query: PageQuery): Page<TopicRow> {
    this.sortedTopics ??= [...this.topics.values()].sort((a, b) => compare(a.name, b.name));
    const words = searchWords(query.search);
    const page = pageOf(
      this.sortedTopics,
      (topic) => topic.name,
      (topic) => words.length === 0 || matchesWords(words, this.searchKey(topic, topic.name)),
      query,
    );
    return { ...page, items: page.items.map((topic) => ({ topic, subscriptions: this.subscriptionsOf(topic.name) })) };
  }

  /** A page of subscriptions (of `query.scope`'s topic when set) whose name or topic holds every word of the search. */
  listSubscriptions(query: PageQuery): Page<Subscription> {
    this.sortedSubscriptions ??= [...this.subscriptions.values()].sort((a, b) => compare(a.name, b.name));
    const words = searchWords(query.search);
    return pageOf(
      this.sortedSubscriptions,
      (subscription) => subscription.name,
      (subscription) =>
        (query.scope === '' || subscription.topic === query.scope) &&
        (words.length === 0 ||
          matchesWords(words, this.searchKey(subscription, subscription.name, subscription.topic))),
      query,
    );
  }

  /** The lower-cased names a search looks in, kept per object (a changed resource is a new object). */
  private searchKey(item: object, ...names: string[]): string {
    let key = this.searchKeys.get(item);
    if (key === undefined) {
      key = names.join('\n').toLowerCase();
      this.searchKeys.set(item, key);
    }
    return key;
  }

  hasTopic(name: string): boolean {
    return this.topics.has(name);
  }

  hasSubscription(name: string): boolean {
    return this.subscriptions.has(name);
  }

  subscriptionsOf(topic: string): number {
    return this.subscriptionCounts.get(topic) ?? 0;
  }

  /**
   * Resolves once the view includes the change at `revision` (a created or changed resource's
   * `revision`), or after `timeoutMillis`: a list shown right after an action then shows its result.
   */
  waitForRevision(revision: string, timeoutMillis: number): Promise<void> {
    const wanted = BigInt(revision || '-1');
    if (this.revision >= wanted) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter = { revision: wanted, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve();
      }, timeoutMillis).unref();
    });
  }

  /** Resolves true once the first snapshot is in, false after `timeoutMillis`. */
  waitReady(timeoutMillis: number): Promise<boolean> {
    if (this.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.readyWaiters.push(() => resolve(true));
      setTimeout(() => resolve(this.ready), timeoutMillis).unref();
    });
  }

  private advance(revision: bigint): void {
    if (revision > this.revision) this.revision = revision;
    const [done, waiting] = partition(this.waiters, (w) => w.revision <= this.revision);
    this.waiters = waiting;
    for (const waiter of done) waiter.resolve();
  }

  private recount(): void {
    this.subscriptionCounts = new Map();
    for (const subscription of this.subscriptions.values()) this.count(subscription.topic, 1);
    this.sortedTopics = undefined;
    this.sortedSubscriptions = undefined;
  }

  private count(topic: string, delta: number): void {
    const next = (this.subscriptionCounts.get(topic) ?? 0) + delta;
    if (next <= 0) this.subscriptionCounts.delete(topic);
    else this.subscriptionCounts.set(topic, next);
  }
}

/** Code-unit order, as the registry sorts names and as page tokens compare them. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
