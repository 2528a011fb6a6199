/**
 * Messages published per second per topic, from the publishers' Prometheus endpoints: no rpc reports
 * a publish rate, and the publishers count every message they write (herald_publisher_messages_total,
 * by topic). Each publisher is read every interval; the rate is the growth of the sum between the last
 * two readings. A counter that went back (a publisher restarted) counts from its new value.
 */
export class PublishRates {
  /** Per URL: the last reading's counters by topic. */
  private readonly previous = new Map<string, Map<string, number>>();
  private rates = new Map<string, number>();
  private lastRead: number | undefined;
  /** True once two readings gave a rate. */
  private measured = false;
  private timer: NodeJS.Timeout | undefined;
  /** Why the last reading of some publisher failed, if it did. */
  lastError: string | undefined;

  constructor(
    private readonly urls: string[],
    private readonly intervalMillis = 5_000,
    private readonly fetchText: (url: string) => Promise<string> = fetchMetrics,
  ) {}

  get enabled(): boolean {
    return this.urls.length > 0;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    void this.read();
    this.timer = setInterval(() => void this.read(), this.intervalMillis);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Messages per second published to `topic` over the last interval; null before two readings, or when not measured. */
  rateOf(topic: string): number | null {
    if (!this.measured) return null;
    return this.rates.get(topic) ?? 0;
  }

  /** One reading of every publisher. */
  async read(now = Date.now()): Promise<void> {
    const growth = new Map<string, number>();
    const errors: string[] = [];
    await Promise.all(
      this.urls.map(async (url) => {
        let counters: Map<string, number>;
        try {
          counters = parseMessageCounters(await this.fetchText(url));
        } catch (error) {
          errors.push(`${url}: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
        const before = this.previous.get(url);
        this.previous.set(url, counters);
        if (!before) return;
        for (const [topic, value] of counters) {
          const last = before.get(topic) ?? 0;
          growth.set(topic, (growth.get(topic) ?? 0) + (value >= last ? value - last : value));
        }
      }),
    );
    this.lastError = errors.length > 0 ? errors.join('; ') : undefined;
    if (this.lastRead !== undefined) {
      const seconds = Math.max(0.001, (now - this.lastRead) / 1_000);
      this.rates = new Map([...growth].map(([topic, count]) => [topic, count / seconds]));
      this.measured = this.previous.size > 0;
    }
    this.lastRead = now;
  }
}

/**
 * herald_publisher_messages_total by topic, from Prometheus's text format. Series of several label sets
 * for one topic are summed; the `other` series (topics past HERALD_METRICS_MAX_SERIES) names no topic.
 */
export function parseMessageCounters(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('herald_publisher_messages_total{')) continue;
    const match = /^herald_publisher_messages_total\{(.*)\}\s+(\S+)/.exec(line);
    const topic = match ? /(?:^|,)topic="((?:[^"\\]|\\.)*)"/.exec(match[1]!)?.[1] : undefined;
    if (!match || topic === undefined) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    counters.set(topic, (counters.get(topic) ?? 0) + value);
  }
  return counters;
}

async function fetchMetrics(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}
