import type { Subscription, Topic } from '@herald/api';
import type { RegistryWatcher, WatchedChange } from '@herald/registry-watch';
import { type Page, type PageQuery, matchesWords, pageOf, searchWords } from './paging';

/** A topic as the lists show it: the registry's topic and how many subscriptions it has. */
export interface TopicRow {
  topic: Topic;
  subscriptions: number;
}

/**
 * The registry's topics and subscriptions as the console's lists need them, on top of a
 * {@link RegistryWatcher} (which keeps them current from the registry's Watch stream): sorted, with
 * subscription counts per topic, so that lists page and search on the console's side at any size
 * (ListTopics has no search, nor subscription counts) without reading the whole registry per request.
 * Detail pages still ask the registry itself.
 */
export class RegistryIndex {
  private subscriptionCounts = new Map<string, number>();
  private sortedTopics: Topic[] | undefined;
  private readonly searchKeys = new WeakMap<object, string>();
  private sortedSubscriptions: Subscription[] | undefined;
  private waiters: Array<{ revision: bigint; resolve: () => void }> = [];
  private readyWaiters: Array<() => void> = [];
  /** The registry log revision the view is complete at; -1 before the first snapshot. */
  revision = -1n;
  /** True once a whole snapshot arrived. */
  ready = false;
  /** Why the watch is not connected now, if it is not. */
  lastError: string | undefined;

  /** The watcher logs its interruptions; the index keeps the last one for the status page. */
  constructor(private readonly watcher: RegistryWatcher) {
    watcher.on('change', (change) => this.onChange(change));
    watcher.on('revision', (revision) => {
      this.advance(BigInt(revision));
      if (this.ready) return;
      this.ready = true;
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    });
    watcher.on('interrupted', (reason) => {
      this.lastError = reason;
    });
    watcher.on('connected', () => {
      this.lastError = undefined;
    });
  }

  get topicCount(): number {
    return this.topics().length;
  }

  get subscriptionCount(): number {
    return this.subscriptions().length;
  }

  /** A page of topics whose names hold every word of the search. */
  listTopics(query: PageQuery): Page<TopicRow> {
    const words = searchWords(query.search);
    const page = pageOf(
      this.topics(),
      (topic) => topic.name,
      (topic) => words.length === 0 || matchesWords(words, this.searchKey(topic, topic.name)),
      query,
    );
    return { ...page, items: page.items.map((topic) => ({ topic, subscriptions: this.subscriptionsOf(topic.name) })) };
  }

  /** A page of subscriptions (of `query.scope`'s topic when set) whose name or topic holds every word of the search. */
  listSubscriptions(query: PageQuery): Page<Subscription> {
    const words = searchWords(query.search);
    return pageOf(
      this.subscriptions(),
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
    return this.watcher.topic(name) !== undefined;
  }

  hasSubscription(name: string): boolean {
    return this.watcher.subscription(name) !== undefined;
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

  /** A snapshot after a reconnect arrives as the differences it makes, so counts follow without a recount. */
  private onChange(change: WatchedChange): void {
    switch (change.kind) {
      case 'topic-created':
      case 'topic-deleted':
        this.sortedTopics = undefined;
        break;
      case 'subscription-upserted':
        if (change.previous) this.count(change.previous.topic, -1);
        this.count(change.subscription.topic, 1);
        this.sortedSubscriptions = undefined;
        break;
      case 'subscription-deleted':
        this.count(change.previous.topic, -1);
        this.sortedSubscriptions = undefined;
        break;
    }
  }

  private topics(): Topic[] {
    this.sortedTopics ??= this.watcher.topics().sort((a, b) => compare(a.name, b.name));
    return this.sortedTopics;
  }

  private subscriptions(): Subscription[] {
    this.sortedSubscriptions ??= this.watcher.subscriptions().sort((a, b) => compare(a.name, b.name));
    return this.sortedSubscriptions;
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
