/**
 * Where one subscription stands on each partition of its topic: the offset
 * before which every message is settled, and the seek that position follows
 * from. Kept in Kafka (see docs/decisions/0002-fan-out-read-path.md) so that
 * whichever dispatcher serves the subscription next starts there.
 */
export interface CursorRecord {
  /** The subscription's incarnation: a cursor of an older one with the same name is ignored. */
  createRevision: string;
  partitions: Map<number, CursorPosition>;
}

export interface CursorPosition {
  offset: number;
  /** The registry revision of the seek this position follows; {@link noSeekRevision} before any seek. */
  seekRevision: string;
}

/** The seek revision of a position that follows no seek. */
export const noSeekRevision = '-1';

/** The stored shape: short keys, because thousands of them are written each interval. */
interface StoredCursor {
  v: 1;
  c: string;
  /** [partition, offset, seek revision] */
  p: Array<[number, number, string]>;
}

export function encodeCursor(cursor: CursorRecord): Buffer {
  const stored: StoredCursor = {
    v: 1,
    c: cursor.createRevision,
    p: [...cursor.partitions].map(([partition, { offset, seekRevision }]) => [partition, offset, seekRevision]),
  };
  return Buffer.from(JSON.stringify(stored));
}

/** The cursor in `value`, or undefined when it is not one this build can read. */
export function decodeCursor(value: Buffer): CursorRecord | undefined {
  try {
    const stored = JSON.parse(value.toString('utf8')) as StoredCursor;
    if (stored.v !== 1 || typeof stored.c !== 'string' || !Array.isArray(stored.p)) return undefined;
    const partitions = new Map<number, CursorPosition>();
    for (const entry of stored.p) {
      const [partition, offset, seekRevision] = entry;
      if (!Number.isInteger(partition) || !Number.isInteger(offset) || typeof seekRevision !== 'string') {
        return undefined;
      }
      partitions.set(partition, { offset, seekRevision });
    }
    return { createRevision: stored.c, partitions };
  } catch {
    return undefined;
  }
}

/** What the registry says about where a subscription starts. */
export interface StartInfo {
  createRevision: string;
  startOffsets: Map<number, number>;
  lastSeek: { revision: string; offsets: Map<number, number> } | undefined;
}

/** Where delivery of one partition starts, and why. */
export interface PartitionStart {
  deliverFrom: number;
  seekRevision: string;
  source: 'cursor' | 'seek' | 'start';
}

/**
 * Where a partition's delivery starts: the stored cursor when it belongs to
 * this incarnation and is at least as new as the latest seek; else the latest
 * seek's position; else where the subscription started at creation. Never
 * before `earliest`, the first offset Kafka still retains.
 */
export function partitionStart(
  partition: number,
  cursor: CursorRecord | undefined,
  info: StartInfo,
  earliest: number,
): PartitionStart {
  const position = cursor?.createRevision === info.createRevision ? cursor.partitions.get(partition) : undefined;
  const latestSeek = info.lastSeek ? BigInt(info.lastSeek.revision) : -1n;
  let start: PartitionStart;
  if (position && position.offset >= 0 && BigInt(position.seekRevision) >= latestSeek) {
    start = { deliverFrom: position.offset, seekRevision: position.seekRevision, source: 'cursor' };
  } else if (info.lastSeek) {
    start = {
      deliverFrom: info.lastSeek.offsets.get(partition) ?? 0,
      seekRevision: info.lastSeek.revision,
      source: 'seek',
    };
  } else {
    start = { deliverFrom: info.startOffsets.get(partition) ?? 0, seekRevision: noSeekRevision, source: 'start' };
  }
  start.deliverFrom = Math.max(start.deliverFrom, earliest);
  return start;
}
