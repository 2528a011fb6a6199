import type { DurableProducer, KafkaClient, PartitionReader } from '@herald/kafka';
import type { Logger } from '@herald/logging';
import { retry } from '@herald/retry';

/** Options of {@link SlotDirectory}. */
export interface SlotDirectoryOptions {
  kafka: KafkaClient;
  producer: DurableProducer;
  logger: Logger;
  /** The directory topic: one partition, compacted, keyed by slot. */
  topic: string;
  /** Where other dispatchers reach this one: what it announces for its slots. */
  address: string;
  instance: string;
}

interface Entry {
  address: string;
  instance: string;
  at: number;
}

/**
 * Who serves each slot, as its owners announced: how a dispatcher that does
 * not serve a subscription finds the one that does, to forward a stream
 * there. An entry can be stale for a moment after a rebalance (the old owner
 * then refuses the forwarded stream, and the client connects again).
 */
export class SlotDirectory {
  private readonly entries = new Map<number, Entry>();
  private reader: PartitionReader | undefined;

  constructor(private readonly options: SlotDirectoryOptions) {}

  get address(): string {
    return this.options.address;
  }

  /** Reads the directory and follows it; retried while the topic, just created, is not yet known to every broker. */
  async start(): Promise<void> {
    await retry(
      async () => {
        const reader = this.options.kafka.partitionReader({
          topic: this.options.topic,
          start: [{ partition: 0, offset: 0 }],
          records: (_partition, records) => {
            for (const record of records) {
              const slot = Number(record.key?.toString('utf8'));
              if (!Number.isInteger(slot)) continue;
              const entry = record.value && parseEntry(record.value);
              if (entry) this.entries.set(slot, entry);
              else this.entries.delete(slot);
            }
          },
        });
        await reader.start();
        this.reader = reader;
      },
      { initialMillis: 200, maxMillis: 2_000, totalTimeoutMillis: 60_000 },
    );
  }

  async stop(): Promise<void> {
    await this.reader?.stop();
  }

  /** The address of the dispatcher serving `slot`, as last announced. */
  owner(slot: number): string | undefined {
    return this.entries.get(slot)?.address;
  }

  /** Tells every dispatcher that this one serves `slots` now. */
  async announce(slots: number[]): Promise<void> {
    const value: Entry = { address: this.options.address, instance: this.options.instance, at: Date.now() };
    await this.options.producer.send(
      this.options.topic,
      1,
      slots.map((slot) => ({
        key: String(slot),
        value: Buffer.from(JSON.stringify(value)),
        headers: {},
        timestamp: value.at,
      })),
    );
    for (const slot of slots) this.entries.set(slot, value);
  }
}

function parseEntry(value: Buffer): Entry | undefined {
  try {
    const entry = JSON.parse(value.toString('utf8')) as Entry;
    return typeof entry.address === 'string' && entry.address !== '' ? entry : undefined;
  } catch {
    return undefined;
  }
}
