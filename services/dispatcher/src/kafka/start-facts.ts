import type { KafkaNames, PartitionOffset, TopicAdmin } from '@herald/kafka';
import type { CursorPosition, CursorRecord } from '../domain/cursor-record';

/**
 * What a subscription's start needs to know from Kafka: where each
 * partition's log begins and ends, where the dedup window begins, and the
 * position an older dispatcher committed for the subscription in its own
 * consumer group, before cursors were kept in the cursor topic.
 */
export class StartFacts {
  constructor(
    private readonly admin: TopicAdmin,
    private readonly names: KafkaNames,
    private readonly dedupWindowMillis: number,
  ) {}

  async earliest(kafkaTopic: string): Promise<Map<number, number>> {
    return toMap(await this.admin.earliestOffsets(kafkaTopic));
  }

  async latest(kafkaTopic: string): Promise<Map<number, number>> {
    return toMap(await this.admin.latestOffsets(kafkaTopic));
  }

  /** The first offset of each partition within the dedup window, or undefined when dedup is off. */
  async dedupWindowStart(kafkaTopic: string): Promise<Map<number, number> | undefined> {
    if (this.dedupWindowMillis <= 0) return undefined;
    return toMap(await this.admin.offsetsForTime(kafkaTopic, Date.now() - this.dedupWindowMillis));
  }

  /** The cursor a dispatcher of the consumer-group era committed for `subscription`, if any. */
  async legacyCursor(subscription: string, kafkaTopic: string): Promise<CursorRecord | undefined> {
    const committed = await this.admin.committedOffsets(this.names.subscriptionGroup(subscription), kafkaTopic);
    let createRevision: string | undefined;
    const partitions = new Map<number, CursorPosition>();
    for (const { partition, offset, metadata } of committed) {
      const stamp = parseStamp(metadata);
      if (!stamp || Number(offset) < 0) continue;
      if (createRevision !== undefined && stamp.c !== createRevision) continue;
      createRevision = stamp.c;
      partitions.set(partition, { offset: Number(offset), seekRevision: stamp.s });
    }
    return createRevision === undefined ? undefined : { createRevision, partitions };
  }
}

function toMap(offsets: PartitionOffset[]): Map<number, number> {
  return new Map(offsets.map((o) => [o.partition, Math.max(0, Number(o.offset))]));
}

/** The metadata the consumer-group era stored beside each commit: incarnation and seek revision. */
function parseStamp(metadata: string | null): { c: string; s: string } | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { c?: unknown; s?: unknown };
    return typeof parsed.c === 'string' && typeof parsed.s === 'string' ? { c: parsed.c, s: parsed.s } : undefined;
  } catch {
    return undefined;
  }
}
