import type { CursorRecord } from './cursor-record';

/**
 * What an exactly-once subscription stores: per partition the commit point,
 * the seek it follows, and the offsets past the commit point settled already
 * (acked out of order, filtered, deduplicated, dead-lettered). A plain cursor
 * keeps only the commit point and lets a new owner deliver again what was
 * acked past it; a confirmed ack must never be delivered again, so this keeps
 * them all. Written transactionally to `<prefix>_acks` (see
 * docs/decisions/0007-exactly-once-delivery.md).
 */
export interface SettledRecord {
  createRevision: string;
  partitions: Map<number, SettledPosition>;
}

export interface SettledPosition {
  /** Every offset before it is settled. */
  offset: number;
  seekRevision: string;
  /** Offsets at or past `offset` settled already, ascending. */
  settled: number[];
}

interface StoredSettled {
  v: 1;
  c: string;
  /** [partition, offset, seek revision, [first, count] runs of settled offsets] */
  p: Array<[number, number, string, Array<[number, number]>]>;
}

/** Runs of consecutive offsets, `[first, count]`: acks of a batch mostly come in runs. */
export function toRuns(offsets: readonly number[]): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (const offset of offsets) {
    const last = runs[runs.length - 1];
    if (last && last[0] + last[1] === offset) last[1]++;
    else runs.push([offset, 1]);
  }
  return runs;
}

export function fromRuns(runs: ReadonlyArray<readonly [number, number]>): number[] {
  const offsets: number[] = [];
  for (const [first, count] of runs) for (let i = 0; i < count; i++) offsets.push(first + i);
  return offsets;
}

export function encodeSettled(record: SettledRecord): Buffer {
  const stored: StoredSettled = {
    v: 1,
    c: record.createRevision,
    p: [...record.partitions].map(([partition, { offset, seekRevision, settled }]) => [
      partition,
      offset,
      seekRevision,
      toRuns(settled),
    ]),
  };
  return Buffer.from(JSON.stringify(stored));
}

/** The record in `value`, or undefined when it is not one this build can read. */
export function decodeSettled(value: Buffer): SettledRecord | undefined {
  try {
    const stored = JSON.parse(value.toString('utf8')) as StoredSettled;
    if (stored.v !== 1 || typeof stored.c !== 'string' || !Array.isArray(stored.p)) return undefined;
    const partitions = new Map<number, SettledPosition>();
    for (const [partition, offset, seekRevision, runs] of stored.p) {
      if (!Number.isInteger(partition) || !Number.isInteger(offset) || typeof seekRevision !== 'string') {
        return undefined;
      }
      if (!Array.isArray(runs) || !runs.every((run) => Number.isInteger(run[0]) && Number.isInteger(run[1]))) {
        return undefined;
      }
      partitions.set(partition, { offset, seekRevision, settled: fromRuns(runs) });
    }
    return { createRevision: stored.c, partitions };
  } catch {
    return undefined;
  }
}

/** The commit points alone, as a plain cursor: where each partition's delivery starts. */
export function cursorOf(record: SettledRecord): CursorRecord {
  return {
    createRevision: record.createRevision,
    partitions: new Map(
      [...record.partitions].map(([partition, { offset, seekRevision }]) => [partition, { offset, seekRevision }]),
    ),
  };
}
