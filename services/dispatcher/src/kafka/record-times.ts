import { type KafkaClient, decodeHeraldRecord } from '@herald/kafka';
import type { Logger } from '@herald/logging';

/** Lookups remembered: a few per subscription and partition whose position stands still. */
const maxRemembered = 100_000;
/** A lookup gives up after this long (an empty partition, Kafka away): the age stays unknown until the next try. */
const lookupTimeoutMillis = 5_000;

/**
 * Publish times of records by position, read from Kafka when the dispatcher
 * does not hold the record: the oldest unacknowledged message of a
 * subscription with no stream is one it never read. A record's time never
 * changes, so each position is read once and remembered.
 */
export class RecordTimes {
  private readonly times = new Map<string, number>();
  private readonly pending = new Map<string, Promise<void>>();

  constructor(
    private readonly kafka: KafkaClient,
    private readonly logger: Logger,
  ) {}

  /** The publish time of the record at a position, if read before. */
  known(topic: string, partition: number, offset: number): number | undefined {
    return this.times.get(key(topic, partition, offset));
  }

  /** Reads the records at these positions of one topic (those not known yet), and remembers their times. */
  lookup(topic: string, positions: Array<{ partition: number; offset: number }>): Promise<void> {
    const wanted = positions.filter(({ partition, offset }) => {
      const k = key(topic, partition, offset);
      return !this.times.has(k) && !this.pending.has(k);
    });
    if (wanted.length === 0) {
      return Promise.all(positions.map((p) => this.pending.get(key(topic, p.partition, p.offset)))).then(() => {});
    }
    const reading = this.read(topic, wanted).finally(() => {
      for (const { partition, offset } of wanted) this.pending.delete(key(topic, partition, offset));
    });
    for (const { partition, offset } of wanted) this.pending.set(key(topic, partition, offset), reading);
    return reading;
  }

  private async read(topic: string, positions: Array<{ partition: number; offset: number }>): Promise<void> {
    const open = new Map(positions.map(({ partition, offset }) => [partition, offset]));
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const settle = (partition: number) => {
      open.delete(partition);
      if (open.size === 0) done();
    };
    const reader = this.kafka.partitionReader({
      topic,
      start: positions,
      records: (partition, records) => {
        const wanted = open.get(partition);
        const record = records.find((r) => r.offset >= (wanted ?? Infinity));
        if (wanted === undefined || !record) return;
        const decoded = decodeHeraldRecord(record);
        // The record at the position may be gone (retention) or unreadable: the first one after it stands in.
        if (decoded.ok) this.remember(key(topic, partition, wanted), decoded.record.publishTimeMillis);
        settle(partition);
      },
      caughtUp: (partition, offset) => {
        const wanted = open.get(partition);
        if (wanted !== undefined && offset <= wanted) settle(partition);
      },
    });
    const timer = setTimeout(done, lookupTimeoutMillis);
    try {
      await reader.start();
      await finished;
    } catch (error) {
      this.logger.debug({ err: error, topic }, 'record times not read');
    } finally {
      clearTimeout(timer);
      await reader.stop().catch(() => undefined);
    }
  }

  private remember(k: string, time: number): void {
    if (this.times.size >= maxRemembered) this.times.delete(this.times.keys().next().value!);
    this.times.set(k, time);
  }
}

function key(topic: string, partition: number, offset: number): string {
  return `${topic}\u0000${partition}\u0000${offset}`;
}
