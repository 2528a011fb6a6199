import { type SubscriptionStats, durationToMillis } from '@herald/api';

/** One reading of a subscription's figures. */
export interface StatsSample {
  /** When it was read, milliseconds since the epoch. */
  time: number;
  backlog: number;
  /** Unset when nothing is unacknowledged. */
  oldestUnackedAgeMillis: number | null;
  ackPending: number;
  openStreams: number;
  servedBy: string;
  delivered: number;
  acknowledged: number;
  nacked: number;
  expired: number;
  deadLettered: number;
  filtered: number;
  deduplicated: number;
}

/** What the page gets: the samples so far, and why the last reading failed, if it did. */
export interface StatsHistory {
  samples: StatsSample[];
  error: string | null;
  intervalMillis: number;
}

export interface StatsSamplerOptions {
  /** Reads the figures of existing subscriptions among the names (GetSubscriptionStats). */
  read: (names: string[]) => Promise<SubscriptionStats[]>;
  intervalMillis: number;
  /** Samples kept per subscription. @defaultValue 900 (30 minutes at 2 s) */
  keep?: number;
  /** A subscription nobody asked about for this long is no longer sampled. @defaultValue 10 minutes */
  idleMillis?: number;
  now?: () => number;
}

interface Watched {
  samples: StatsSample[];
  lastAsked: number;
  error: string | null;
}

/**
 * GetSubscriptionStats answers with the figures of now; the charts need them over time. The console
 * samples the subscriptions someone is looking at, all in one call per interval, and keeps a window
 * of readings, so that a page opened late still shows the last minutes.
 */
export class StatsSampler {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;

  constructor(private readonly options: StatsSamplerOptions) {}

  start(): void {
    this.timer ??= setInterval(() => void this.sampleAll(), this.options.intervalMillis);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The history of `name`, sampling it now when it is new or not read for an interval. */
  async history(name: string): Promise<StatsHistory> {
    const now = this.now();
    let entry = this.watched.get(name);
    if (!entry) {
      entry = { samples: [], lastAsked: now, error: null };
      this.watched.set(name, entry);
    }
    entry.lastAsked = now;
    const last = entry.samples.at(-1);
    if (!last || now - last.time >= this.options.intervalMillis) await this.sampleAll();
    return { samples: entry.samples, error: entry.error, intervalMillis: this.options.intervalMillis };
  }

  /** One reading of every watched subscription; concurrent callers share it. */
  sampleAll(): Promise<void> {
    this.sampling ??= this.readAll().finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  private async readAll(): Promise<void> {
    const now = this.now();
    for (const [name, entry] of this.watched) {
      if (now - entry.lastAsked > (this.options.idleMillis ?? 600_000)) this.watched.delete(name);
    }
    const names = [...this.watched.keys()];
    for (let from = 0; from < names.length; from += 1_000) {
      const batch = names.slice(from, from + 1_000);
      let stats: SubscriptionStats[];
      try {
        stats = await this.options.read(batch);
      } catch (error) {
        const e = error as { details?: string; message?: string };
        for (const name of batch) this.watched.get(name)!.error = e.details || e.message || String(error);
        continue;
      }
      const time = this.now();
      const found = new Map(stats.map((s) => [s.subscription, s]));
      for (const name of batch) {
        const entry = this.watched.get(name)!;
        const s = found.get(name);
        if (!s) {
          entry.error = 'NOT_FOUND: no such subscription';
          continue;
        }
        entry.error = null;
        entry.samples.push(toSample(s, time));
        const keep = this.options.keep ?? 900;
        if (entry.samples.length > keep) entry.samples.splice(0, entry.samples.length - keep);
      }
    }
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function toSample(s: SubscriptionStats, time: number): StatsSample {
  const c = s.counts;
  return {
    time,
    backlog: Number(s.numUndeliveredMessages),
    oldestUnackedAgeMillis: durationToMillis(s.oldestUnackedMessageAge) ?? null,
    ackPending: Number(s.numAckPending),
    openStreams: s.openStreams,
    servedBy: s.servedBy,
    delivered: Number(c?.delivered ?? 0),
    acknowledged: Number(c?.acknowledged ?? 0),
    nacked: Number(c?.nacked ?? 0),
    expired: Number(c?.expired ?? 0),
    deadLettered: Number(c?.deadLettered ?? 0),
    filtered: Number(c?.filtered ?? 0),
    deduplicated: Number(c?.deduplicated ?? 0),
  };
}
